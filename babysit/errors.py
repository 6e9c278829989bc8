"""The one exception type for problems with the user's input (files, options, data)."""


class BabysitError(Exception):
    """Bad input: the CLI prints the message on one line and exits with status 2."""
