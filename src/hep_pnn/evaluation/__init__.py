"""hep_pnn.evaluation (under construction)."""
