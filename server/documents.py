"""The open documents' text, and the answers attached to ranges in them.

ponder keeps its own copy of each open document (from didOpen / didChange), with LSP's line
breaks and the negotiated position encoding (agent/positions.py), so positions mean what the
client meant; pygls keeps none (server/transport.py hands the notifications straight here). An answer is attached to its range (character offsets) when the request starts:
edits above it shift it, an edit touching it marks it stale, closing the document drops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ponder.agent.positions import offset_of, position_of, split_lines
from ponder.agent.results import Answer, FirstAnswer

# Larger documents are not kept (positions are computed in Python, per request and per edit, and
# a 5 MB file made the server slow to answer anything): asking about one is a clear error.
MAX_DOCUMENT_CHARS = 2_000_000
# An edit: the range it replaces as (line, character, line, character), None for the whole
# text; then the new text.
Change = tuple[tuple[int, int, int, int] | None, str]


@dataclass
class Attached:
    id: str  # the request's answer id once answered; a placeholder while it runs
    start: int
    end: int
    result: Answer | FirstAnswer | None = None  # None while it runs
    stale: bool = False  # the code it answered for has been edited since
    # Not yet served in a textDocument/inlayHint reply since it was answered (inline.py sends
    # the client one more refresh once it has been).
    hint_unserved: bool = True


@dataclass
class Document:
    text: str
    version: int = 0
    language_id: str = ""
    size: int = 0  # the client's text length when it is over MAX_DOCUMENT_CHARS (text is "")
    answers: list[Attached] = field(default_factory=list)


class Documents:
    def __init__(self, encoding: str = "utf-16", answers_per_document: int = 20):
        self.encoding = encoding
        self.answers_per_document = answers_per_document
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, text: str, version: int = 0, language_id: str = "") -> None:
        if len(text) > MAX_DOCUMENT_CHARS:
            self._docs[uri] = Document("", version, language_id, size=len(text))
        else:
            self._docs[uri] = Document(text, version, language_id)

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def change(self, uri: str, changes: list[Change], version: int = 0) -> bool:
        """Apply content changes in order: (range as (line, char, line, char), or None for the
        whole text; new text). True when an answer went stale."""
        doc = self._docs.get(uri)
        if doc is None:
            return False
        if doc.size:  # too large to follow; a full replacement may bring it back under the cap
            full = [text for rng, text in changes if rng is None]
            if full:
                self.open(uri, full[-1], version, doc.language_id)
            return False
        went_stale = False
        for rng, new_text in changes:
            if rng is None:
                start, end = 0, len(doc.text)
            else:
                start = offset_of(doc.text, rng[0], rng[1], self.encoding)
                end = max(start, offset_of(doc.text, rng[2], rng[3], self.encoding))
            doc.text = doc.text[:start] + new_text + doc.text[end:]
            if len(doc.text) > MAX_DOCUMENT_CHARS:
                self.open(uri, doc.text, version, doc.language_id)  # drops it to "too large"
                return bool(doc.answers)
            for answer in doc.answers:
                went_stale |= _shift(answer, start, end, len(new_text))
        doc.version = version
        return went_stale

    def attach(self, uri: str, answer: Attached) -> None:
        doc = self._docs.get(uri)
        if doc is None:
            return
        # One answer per range: a new answer for the same code replaces the old one.
        doc.answers = [a for a in doc.answers if (a.start, a.end) != (answer.start, answer.end)]
        doc.answers.append(answer)
        del doc.answers[: -self.answers_per_document]

    def detach(self, uri: str, answer: Attached) -> None:
        doc = self._docs.get(uri)
        if doc is not None and answer in doc.answers:
            doc.answers.remove(answer)

    def answered(self, uri: str) -> list[Attached]:
        doc = self._docs.get(uri)
        return [a for a in doc.answers if a.result is not None] if doc else []

    def answer_at(self, uri: str, start: int, end: int | None = None) -> Attached | None:
        """The latest answer whose range touches [start, end] (end None: the point start)."""
        end = start if end is None else end
        for answer in reversed(self.answered(uri)):
            if answer.start <= end and start <= answer.end:
                return answer
        return None

    def offset(self, uri: str, line: int, character: int) -> int | None:
        doc = self._docs.get(uri)
        if doc is None:
            return None
        lines = split_lines(doc.text)
        if line > len(lines):
            return None
        return offset_of(doc.text, line, character, self.encoding, lines)

    def hint_position(self, uri: str, answer: Attached) -> tuple[int, int]:
        """End of the answered range's last line (a range ending at a line start ends on the
        line before: a selection of whole lines)."""
        text = self._docs[uri].text
        end = answer.end
        if end > answer.start and _at_line_start(text, end):
            end -= 2 if text[end - 2 : end] == "\r\n" else 1  # back over the line break
        breaks = [at for at in (text.find("\n", end), text.find("\r", end)) if at >= 0]
        return position_of(text, min(breaks, default=len(text)), self.encoding)

    def range_of(self, uri: str, answer: Attached) -> tuple[tuple[int, int], tuple[int, int]]:
        text = self._docs[uri].text
        return position_of(text, answer.start, self.encoding), position_of(
            text, answer.end, self.encoding
        )


def _at_line_start(text: str, offset: int) -> bool:
    return offset == 0 or text[offset - 1] in "\r\n"


def _shift(answer: Attached, start: int, end: int, inserted: int) -> bool:
    """Move `answer` for text[start:end] replaced by `inserted` chars; True when it went stale."""
    delta = inserted - (end - start)
    if end <= answer.start:  # wholly before (an insertion at its start included): shift
        answer.start += delta
        answer.end += delta
        return False
    if start >= answer.end:  # wholly after
        return False
    was_stale = answer.stale
    answer.stale = True
    answer.start = min(answer.start, start)
    answer.end = max(answer.start, answer.end + delta)
    return not was_stale
