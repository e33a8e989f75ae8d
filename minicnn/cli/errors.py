"""The one exception a command raises for a mistake in how it was called."""


class UsageError(Exception):
    """A bad argument, a missing file or data the command cannot use: reported as one line, exit code 2."""
