"""``python -m hep_pnn`` runs the ``pnn`` command."""

from hep_pnn.cli import main

if __name__ == "__main__":
    main()
