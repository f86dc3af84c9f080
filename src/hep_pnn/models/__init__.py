"""hep_pnn.models (under construction)."""
