"""Evaluation: the evaluators of the test axes (equivariance, invariance, training structures, cross-simulator,
textbook, measured folders), scores and reports, calibration fitting, HAND, the independent lab simulator."""
