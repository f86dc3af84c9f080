"""hep_pnn.training (under construction)."""
