"""LSP positions ↔ offsets into a Python str.

LSP lines end only at \\r\\n, \\r or \\n (not at form feed or U+2028 as `str.splitlines` thinks),
and a position's character counts code units of the encoding negotiated at `initialize`
(UTF-16 unless the client offered another): an emoji is two UTF-16 units but one Python char.
"""

from __future__ import annotations

import re

LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its line break; a final empty line after a trailing break
    is not listed (as in LSP, the position just past the end is still valid)."""
    lines, start = [], 0
    for m in LINE_BREAK.finditer(text):
        lines.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8", errors="surrogatepass"))
    if encoding == "utf-32":
        return 1
    return 2 if ord(char) > 0xFFFF else 1


def _body(line: str) -> str:
    return line.rstrip("\r\n")


def offset_of(
    text: str, line: int, character: int, encoding: str = "utf-16", lines: list[str] | None = None
) -> int:
    """The str offset of an LSP position, clamped to its line and to the text. `lines`: the
    text's `split_lines`, when the caller already has them."""
    lines = split_lines(text) if lines is None else lines
    if line >= len(lines):
        return len(text)
    offset = sum(len(x) for x in lines[:line])
    units = 0
    for char in _body(lines[line]):
        units += _units(char, encoding)
        if units > character:
            break
        offset += 1
    return offset


def position_of(text: str, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
    """The LSP (line, character) of a str offset (clamped to the text)."""
    offset = max(0, min(offset, len(text)))
    line_start, line = 0, 0
    for m in LINE_BREAK.finditer(text, 0, offset):
        line_start, line = m.end(), line + 1
    return line, sum(_units(c, encoding) for c in _body(text[line_start:offset]))
