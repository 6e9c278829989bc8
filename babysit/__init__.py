"""babysit: a NumPy trainer and a babysitter for neural-network training runs."""

__version__ = "0.1.0"
