"""Every ponder request and result as it crosses the wire: the params of ponder's own requests
(below) and its results (agent/results.py), converted by cattrs (agent.structure: camelCase,
strict types) here and nowhere else. A refused value is JsonRpcInvalidParams (-32602) that names
the field; what needs the document (a position past its end, an unknown answer id) is checked by
the feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from cattrs.errors import ClassValidationError
from pygls.exceptions import JsonRpcInvalidParams

from ponder.agent import structure
from ponder.agent.quoting import clipped, quoted
from ponder.agent.results import (
    ASKED_ABOUT,
    Agreement,
    Answer,
    Candidate,
    Check,
    Recalled,
    Signal,
    Stored,
    Usage,
)
from ponder.agent.structure import NonNegative


@dataclass
class Position:
    line: NonNegative
    character: NonNegative


@dataclass
class Range:
    start: Position
    end: Position


@dataclass
class DocumentId:
    uri: str


@dataclass
class ReasonParams:
    """ponder/reason (and the ponder.reason command)."""

    text_document: DocumentId
    question: str | None = None
    position: Position | None = None
    range: Range | None = None
    options: Any = None  # reason settings, parsed by agent.settings.reason_options
    work_done_token: int | str | None = None
    partial_result_token: int | str | None = None


@dataclass
class CheckParams:
    """ponder/check (and the ponder.checkAnswer command): an answer of this session, in its
    document."""

    text_document: DocumentId
    id: str


@dataclass
class TraceParams:
    """ponder/accept and ponder/reject: the id of a ponder/reason result; the answer as the user
    edited it, and a note."""

    id: str
    answer: str | None = None
    note: str | None = None


RESULTS = (Agreement, Candidate, Recalled, Usage, Signal, Check, Answer, Stored)
_CONVERTER = structure.converter(
    (Position, Range, DocumentId, ReasonParams, TraceParams, CheckParams, *RESULTS),
    forbid_extra_keys=False,
    private={Answer: ASKED_ABOUT},
)
P = TypeVar("P")


def as_dict(value: Any) -> Any:
    """pygls hands untyped params and results over as dicts, or as nested namedtuples; → plain
    dicts and lists."""
    if hasattr(value, "_asdict"):
        value = value._asdict()
    if isinstance(value, dict):
        return {k: as_dict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_dict(v) for v in value]
    return value


def parse(cls: type[P], raw: Any) -> P:
    """`raw` (a JSON object, as pygls hands it over) as `cls`, or JsonRpcInvalidParams naming the
    first bad field."""
    raw = as_dict(raw)
    if not isinstance(raw, dict):
        raise JsonRpcInvalidParams(f"params must be an object {_shape(cls)}, got {quoted(raw)}")
    try:
        return _CONVERTER.structure(raw, cls)
    except ClassValidationError as e:
        path, kind, why = next(structure.refusals(e, cls))
    where = clipped(".".join(path))
    if kind == "value":
        raise JsonRpcInvalidParams(f"{where} {why}")
    inner = structure.fields_of(cls, path)
    shape = ("an object with " + ", ".join(f"{where}.{key}" for key in inner)) if inner else ""
    if kind == "missing":
        raise JsonRpcInvalidParams(f"{where} is required" + (f": {shape}" if shape else ""))
    raise JsonRpcInvalidParams(
        f"{where} must be {shape}, got {quoted(structure.value_at(raw, path))}"
    )


def _shape(cls: type) -> str:
    return "{" + ", ".join(structure.fields_of(cls)) + "}"


def to_wire(result: Answer | Stored | Check) -> dict:
    """A result as the JSON the editors read (server/protocol.py)."""
    return _CONVERTER.unstructure(result)
