"""What a user runs: the command line (``python -m microgrid``)."""
