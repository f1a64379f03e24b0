"""Errors: PonderError (user-actionable, defined in memory.errors so every layer shares it) and
Cancelled (model work stopped by the request's cancel event)."""

from ponder.memory.errors import PonderError

__all__ = ["PonderError", "Cancelled"]


class Cancelled(Exception):
    """Raised inside model work when the request's cancel event is set."""
