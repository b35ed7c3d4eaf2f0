"""I/O: artifact paths, atomic reads and writes, trained artifacts, the split's window rows."""
