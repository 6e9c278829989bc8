"""The command-line interface: thin wiring over the Python API."""
