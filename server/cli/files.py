"""Checks on the files a command names, made before it starts work, in the user's terms."""

from __future__ import annotations

from pathlib import Path

from ponder.agent.errors import PonderError


def check_writable(target: Path, named: str = "") -> None:
    """Refuse a file to write that is a folder or lies in a missing one (`named`: the option
    that gave it, said first)."""
    said = f"{named} {target}".strip()
    if target.is_dir():
        raise PonderError(f"{said} is a folder: name a file to write")
    if not target.parent.is_dir():
        raise PonderError(f"{said}: no such folder {target.parent}")
