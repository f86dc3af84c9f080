"""Retrain the pretrained models of ``pnn zoo`` (``make zoo``) and print their table.

Run after any change of the generator (bump ``GENERATOR_VERSION``), of the recipes
(``src/hep_pnn/zoo/recipes.py``) or of training defaults; then update docs/zoo.md with the
printed table. Takes ≈ 5–10 minutes on 2 cores.

    PYTHONPATH=src python benchmarks/zoo.py                 # every model, into the package
    PYTHONPATH=src python benchmarks/zoo.py --only pnn-hepmass
"""

from __future__ import annotations

import argparse
import time

from hep_pnn.zoo import RECIPES, ZOO_DIR, ModelCard, train_zoo_model
from machine import cpu_model


def table(cards: list[ModelCard]) -> str:
    """The markdown table of docs/zoo.md."""
    masses = sorted({mass for card in cards for mass in card.test_auc})
    head = "| model | recipe | " + " | ".join(f"AUC {m:g}" for m in masses)
    head += " | parameters | weights | training |\n"
    head += "|---" * (len(masses) + 5) + "|\n"
    rows = []
    for card in cards:
        auc = " | ".join(f"{card.test_auc[m]:.4f}" if m in card.test_auc else "–" for m in masses)
        rows.append(
            f"| `{card.name}` | {card.preset}, {card.epochs} epochs, seed {card.seed} | {auc} | "
            f"{card.parameters:,} | {card.weights_bytes / 1024:.0f} kB | "
            f"{card.training_seconds:.0f} s |"
        )
    return head + "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    cpu = cpu_model()
    cards = []
    start = time.perf_counter()
    for name in args.only:
        print(f"[zoo] training {name}", flush=True)
        card = train_zoo_model(
            name,
            ZOO_DIR / name,
            cpu_model=cpu,
            command=f"make zoo (python benchmarks/zoo.py --only {name})",
            overwrite=True,
            progress=args.progress,
        )
        print(f"[zoo] {name}: {card.training_seconds:.0f} s, AUC {card.test_auc}", flush=True)
        cards.append(card)
    print(f"\n{table(cards)}\n\nCPU: {cpu}; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
