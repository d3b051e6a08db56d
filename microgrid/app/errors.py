"""The command line's one error class."""


class UserError(Exception):
    """An error to report as one line, exit code 2."""
