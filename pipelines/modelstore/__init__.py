"""The MLflow tracking store and model registry (the only MLflow code) and version tags."""
