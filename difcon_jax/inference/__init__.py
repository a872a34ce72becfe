"""Inference: the forward pass, model folders, calibration and reference-library application, predictions for
measured files. Imports the model, pattern and augmentation layers only (never training or evaluation)."""
