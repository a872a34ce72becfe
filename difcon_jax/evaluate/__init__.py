"""Evaluation on the paper's test axes (equivariance: held-out structures; invariance: held-out ranges)."""
