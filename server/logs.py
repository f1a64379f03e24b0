"""The server's log: every line bounded, whatever a message quotes (pygls logs whole messages it
cannot place, and tracebacks carry exception texts), so a client cannot write megabytes into it."""

from __future__ import annotations

import logging

MAX_LINE = 500  # characters of one log line
MAX_LINES = 40  # lines of one record (a traceback)


class BoundedFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        lines = super().format(record).split("\n")
        if len(lines) > MAX_LINES:
            lines = [*lines[: MAX_LINES - 1], f"… ({len(lines) - MAX_LINES + 1:,} more lines)"]
        return "\n".join(_bounded(line) for line in lines)


def _bounded(line: str) -> str:
    if len(line) <= MAX_LINE:
        return line
    return f"{line[:MAX_LINE]}… ({len(line):,} characters)"


def configure(level: int, filename: str | None = None) -> None:
    """The log on stderr (or `filename`) for `ponder serve` and `python -m ponder.server`."""
    handler = logging.FileHandler(filename) if filename else logging.StreamHandler()
    handler.setFormatter(BoundedFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
