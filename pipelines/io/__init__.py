"""I/O: artifact paths, atomic reads and writes, trained artifacts, window rows, CSV for people."""
