"""Separating a short final answer from a model's reasoning, and normalising answers for voting.

Python-like values compare as values (`''` equals `""`, `(1,)` equals `(1, )`, dict order does not
matter, `2` equals `2.0`); anything else compares as text with case, whitespace, punctuation and code
fences normalised away.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass

# "ANSWER:", "Final answer:", "**Answer:**", "The answer is:", "The final answer is:" at a line
# start or a sentence start within a line ("It is copied. The answer is: True"), also after
# "Therefore," / "So" / "Thus" / "Hence" (the 1.5B ends yes/no questions with "Therefore, the
# answer is: True").
_CONNECTIVES = ("therefore", "thus", "so", "hence")
_CONNECTIVE = rf"(?:{'|'.join(_CONNECTIVES)})"
_TAG = re.compile(
    rf"(?:^|\n|(?<=[.!?])[ \t]+)[ \t>*#_-]*(?:{_CONNECTIVE}[ \t,]+)?(?:the\s+)?(?:final\s+)?"
    r"answer(?:\s+is)?[ \t]*[*_]*[ \t]*[:：][ \t]*[*_]*",
    re.I,
)
_ASSERT = re.compile(r"^\s*assert\s+.+?==\s*(.+?)\s*$", re.S)
_CALL_EQ = re.compile(r"^\s*[A-Za-z_][\w.]*\(.*\)\s*(?:==|=|->|returns?|is)\s*(.+?)\s*$", re.S)
_RETURNS = re.compile(
    r"\b(?:returns?|output(?: is)?|result(?: is)?|evaluates to)\s*:?\s*(.+)$", re.I
)
_INLINE_TAG = re.compile(r"ANSWER[ \t]*:[ \t]*")
_INLINE_TAIL = re.compile(r",?\s*(?:i\.e\.|that is)\s*$")
_BACKTICKED = re.compile(r"`+([^`]+)`+")
# "ANSWER: Therefore, the code …": an explanation's answer line often opens with its reasoning's
# last connective (the 1.5B's did for both functions of examples/inventory.py).
_OPENING_CONNECTIVE = re.compile(
    rf"^(?:{_CONNECTIVE}|in summary|in conclusion|in short|overall)[ \t]*,[ \t]*", re.I
)
_FENCE = re.compile(r"^```[\w+-]*\n?|\n?```$")


@dataclass(frozen=True)
class Extracted:
    answer: str
    rationale: str
    start: int  # where the answer lies in the original text (for its tokens' confidence)
    end: int


def extract(text: str) -> Extracted:
    """The final answer and the reasoning before it."""
    # The tag at a line start, or ours (`ANSWER:`) anywhere: models also write it inline, as in
    # "so the output is `ANSWER: [1, 2]`."
    matches = list(_TAG.finditer(text)) + list(_INLINE_TAG.finditer(text))
    if matches:
        tag = max(matches, key=lambda m: m.end())
        start = tag.end()
        body = text[start:]
        # The answer is the rest of the line, or the next paragraph / code block when that is empty.
        line = body.split("\n", 1)[0]
        if line.strip():
            answer_text = _unwrap_inline(line)
        else:
            answer_text = _first_block(body)
        answer_text = answer_text.strip()
        begin = start + max(body.find(answer_text), 0)
        # An inline tag leaves its sentence open ("…is `[1]`, i.e. `"): close it at the value.
        rationale = _close_sentence(text[: tag.start()])
        return Extracted(clean(answer_text), rationale, begin, begin + len(answer_text))
    # No tag: the last code block, else the last non-empty line.
    stripped = text.rstrip()
    fences = [m.start() for m in re.finditer(r"```", stripped)]
    if len(fences) >= 2 and stripped.endswith("```"):
        begin = fences[-2]
        return Extracted(clean(stripped[begin:]), stripped[:begin].strip(), begin, len(stripped))
    begin = stripped.rfind("\n") + 1
    last = stripped[begin:]
    return Extracted(clean(last), stripped[:begin].strip() or stripped, begin, len(stripped))


_TAG_WORDS = ("answer", "final answer", "the answer is", "the final answer is")
_LEADING_CONNECTIVE = re.compile(rf"^{_CONNECTIVE}[ ,]+")
_MARKS = " \t>*#_-"
_SENTENCE_END = re.compile(r"[.!?][ \t]+")


def _may_start_tag(line: str) -> bool:
    """Whether a line still being written may turn into an answer tag ("The fin…")."""
    words = " ".join(line.strip().lstrip(_MARKS).lower().split())
    words = _LEADING_CONNECTIVE.sub("", words)
    return any(tag.startswith(words) for tag in _TAG_WORDS + _CONNECTIVES)


def reasoning_so_far(text: str) -> str:
    """The reasoning of a generation still being written, as far as it is sure: whole words,
    stopping before an answer line (or a line that may be starting one), the last word held
    back (a trailing ", i.e." is dropped once a tag follows it). It grows into the `rationale`
    that `extract` returns."""
    complete = text[: max(text.rfind(" "), text.rfind("\n")) + 1]
    tags = [m.start() for m in (_TAG.search(complete), _INLINE_TAG.search(complete)) if m]
    if tags:
        return _close_sentence(complete[: min(tags)])
    # The last sentence of the line ("It is 4. The fin…") may be starting a tag: wait.
    line_start = complete.rfind("\n") + 1
    sentence_start = max(
        [line_start, *(m.end() for m in _SENTENCE_END.finditer(complete, line_start))]
    )
    if _may_start_tag(complete[sentence_start:]):
        complete = complete[:sentence_start]
    complete = complete.rstrip()
    # Trailing ",;:" wait for the next word too: before a tag, `_close_sentence` drops ", i.e.".
    return complete[: max(complete.rfind(" "), complete.rfind("\n")) + 1].strip().rstrip(",;:")


def _close_sentence(before: str) -> str:
    """The reasoning before a tag, without the open markup an inline tag left behind."""
    s = before.rstrip()
    if s.count("`") % 2 == 1 and s.endswith("`"):
        s = s[:-1].rstrip()
    return _INLINE_TAIL.sub("", s).strip()


def _unwrap_inline(line: str) -> str:
    """The rest of a line after an inline tag, without the closing markup of the sentence it sat
    in: "[1, 2]`." → "[1, 2]"."""
    s = line.strip()
    while s:
        if s.endswith(".") and _literal(s) is _MISSING:
            s = s[:-1].rstrip()
        elif s.endswith("`") and s.count("`") % 2 == 1:
            s = s[:-1].rstrip()
        elif s.endswith("**") and s.count("**") % 2 == 1:
            s = s[:-2].rstrip()
        else:
            return s
    return s


def _first_block(body: str) -> str:
    body = body.lstrip("\n")
    if body.startswith("```"):
        end = body.find("```", 3)
        return body[: end + 3] if end >= 0 else body
    return body.split("\n\n", 1)[0]


def short(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters (cut with "…")."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def clean(answer: str) -> str:
    """The answer without fences, markup, `assert f(x) ==` or `f(x) returns` wrappers."""
    s = answer.strip()
    s = _FENCE.sub("", s).strip()
    s = s.strip("*_").strip()
    s = _without_opening_connective(s)
    if s.startswith("`") and s.endswith("`") and len(s) > 1:
        s = s.strip("`").strip()
    for pattern in (_ASSERT, _CALL_EQ):
        m = pattern.match(s)
        if m and _literal(m.group(1).rstrip(".")) is not _MISSING:
            return m.group(1).rstrip(".").strip("`").strip()
    if _literal(s) is _MISSING:
        m = _RETURNS.search(s)
        if m:
            tail = m.group(1).strip().rstrip(".").strip("`").strip()
            if _literal(tail) is not _MISSING:
                return tail
        trimmed = s.rstrip(".").strip("`").strip()
        if _literal(trimmed) is not _MISSING:
            return trimmed
        # Prose around a value: "so the output is `[1, 2]`." → the last backticked literal.
        for span in reversed(_BACKTICKED.findall(s)):
            value = clean(span) if span.strip() != s else span
            if _literal(value) is not _MISSING:
                return value
    return s


def _without_opening_connective(s: str) -> str:
    """Without an opening "Therefore," (and the like), capitalised: "The code sorts x"."""
    rest = _OPENING_CONNECTIVE.sub("", s, count=1)
    return rest[:1].upper() + rest[1:] if rest and rest != s else s


_MISSING = object()


def _literal(s: str):
    try:
        return ast.literal_eval(s.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _MISSING


def _canonical(value) -> object:
    """A hashable form under which equal Python values are equal."""
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if isinstance(value, int | float):
        return ("num", float(value))
    if isinstance(value, complex):
        return ("complex", value)
    if isinstance(value, str | bytes):
        return ("str", value)
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_canonical(v) for v in value))
    if isinstance(value, set | frozenset):
        return ("set", frozenset(_canonical(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((_canonical(k), _canonical(v)) for k, v in value.items()))
    return ("repr", repr(value))


_PUNCT = str.maketrans("", "", string.punctuation.replace("_", ""))


def normalise(answer: str) -> tuple:
    """The key answers are grouped by: a canonical value, or normalised text."""
    s = clean(answer)
    value = _literal(s)
    if value is not _MISSING:
        try:
            return ("value", _canonical(value))
        except TypeError:
            pass
    text = " ".join(s.lower().translate(_PUNCT).split())
    return ("text", text)


# A yes or no said in a sentence ("No, the counter is shared without a lock") is still a yes or
# no: paths can vote on it.
_YES_OR_NO = re.compile(r"^\W*(yes|no|true|false)\b", re.I)
PROSE_WORDS = 6


def is_prose(answer: str) -> bool:
    """An answer in sentences: not a value, not a yes or no, and several words long ("Call it
    with an empty list and check that it returns 0"), where short text ("total", "list") is a
    name or a word that paths can agree on."""
    s = clean(answer)
    return normalise(s)[0] == "text" and not _YES_OR_NO.match(s) and len(s.split()) >= PROSE_WORDS
