"""What a stage runs in: the config models, the stage runner and its errors, the Dask cluster."""
