"""The one exception type for errors a user can act on.

The server turns it into `window/showMessage` plus a JSON-RPC error with the same text; the CLI prints
it and exits non-zero. Anything else is a bug and is reported as such.
"""


class PonderError(Exception):
    """An error whose message tells the user what went wrong and what to do about it."""


class Cancelled(Exception):
    """Raised inside model work when the request's cancel event is set."""
