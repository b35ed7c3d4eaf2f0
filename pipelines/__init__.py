"""Pipeline stages (one module per dvc.yaml stage) and the I/O, config and registry they share."""
