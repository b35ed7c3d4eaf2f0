"""Where the data comes from: the synthetic book, public data sets and a folder of files."""
