"""The CLI's error type, in a module of its own so that ``python -m dropout_tui.tui.cli`` (where cli.py runs as
``__main__``) and the modules that raise it share one class."""


class UsageError(Exception):
    """A bad command line; the message is the one line the user sees."""
