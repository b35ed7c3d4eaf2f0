"""Modelling: split, training, calibration, master scale, reason codes, metrics and the PD model."""
