"""The one exception type for errors a user can act on (re-exported by agent.errors).

It lives here, at the bottom of the import graph (server → agent → memory), so that every layer
raises the same type; the server turns it into `window/showMessage` plus a JSON-RPC error.
"""


class PonderError(Exception):
    """An error whose message tells the user what went wrong and what to do about it."""
