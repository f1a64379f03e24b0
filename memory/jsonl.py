"""JSON Lines read with errors a user can act on: memory imports and eval data files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ponder.memory.errors import PonderError


def records(path: Path) -> Iterator[tuple[int, object]]:
    """Each non-blank line's number and value; a line that is not JSON is refused by number."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as e:
                raise PonderError(f"{path}:{n}: not JSON ({e.msg})") from e
