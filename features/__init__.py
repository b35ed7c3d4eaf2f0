"""Feature engineering: the data contract, the synthetic book and point-in-time feature families."""
