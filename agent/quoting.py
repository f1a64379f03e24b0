"""What a message may quote of a value the client sent: enough to find it, never the whole of a
large one. A refusal, a `window/showMessage` and a log line each stay well under 1 KiB whatever
the client wrote, so nothing it sends is amplified back to it or into the log."""

from __future__ import annotations

from typing import Any

LIMIT = 100  # characters of a value's repr quoted in a message


def quoted(value: Any) -> str:
    """repr(value) when short; else its type, its size and the first LIMIT characters of its repr:
    "a str of 100,000 characters: 'aaaa…'"."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's digit limit
        return f"an {type(value).__name__} too long to write out"
    if len(text) <= LIMIT:
        return text
    if isinstance(value, str):
        size = f"{len(value):,} characters"
    elif isinstance(value, dict):
        size = f"{len(value):,} keys"
    elif isinstance(value, list | tuple):
        size = f"{len(value):,} items"
    else:
        size = f"{len(text):,} characters written out"
    return f"a {type(value).__name__} of {size}: {text[:LIMIT]}…"


def clipped(text: str) -> str:
    """A name the client chose (a setting's key, a document's URI, a field path), cut to LIMIT
    characters."""
    return text if len(text) <= LIMIT else f"{text[:LIMIT]}… ({len(text):,} characters)"


def listed(problems: list[str], most: int = 5) -> str:
    """Problems joined for one message: the first `most`, then how many more."""
    shown = "; ".join(problems[:most])
    return shown + (f"; and {len(problems) - most} more" if len(problems) > most else "")
