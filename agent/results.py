"""What ponder answers, typed: `Answer` (the result of ponder/reason) and its parts,
`FirstAnswer` (the greedy path's answer while the vote runs) and `Stored` (ponder/accept and
ponder/reject). The wire form is camelCase JSON (server/wire.py converts at the edge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["confident", "uncertain", "unchecked"]


@dataclass(frozen=True)
class Agreement:
    agree: int  # paths that gave the answer
    paths: int  # paths sampled


@dataclass(frozen=True)
class Candidate:
    answer: str
    count: int  # paths that gave it


@dataclass(frozen=True)
class Recalled:
    """An accepted trace from the memory that the prompt showed."""

    id: str
    question: str
    answer: str
    similarity: float


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    seconds: float


@dataclass(frozen=True)
class Signal:
    """The raw signal, not a probability: never shown as one."""

    kind: Literal["agreement", "margin"]
    value: float  # 0..1


# The memory tag of an answer that running the code verified before it was accepted.
VERIFIED_TAG = "verified"


@dataclass(frozen=True)
class Check:
    """The answer checked by running the call (agent/check.py), on the user's request."""

    verdict: Literal["verified", "refuted", "could not run"]
    actual: str  # what running gives (repr), "raises E: …", or why it could not run
    explanation: str = ""  # refuted: where the model says the code and its reasoning part


@dataclass
class Answer:
    id: str
    answer: str
    # Calibrated: the share of such answers that were right on the dev split; None where no
    # table's scope covers the answer (`uncalibrated` says why). Never the raw signal.
    confidence: float | None
    agreement: Agreement
    verdict: Verdict  # "uncertain" below calibration.CONFIDENT_AT; "unchecked": free text
    principle: str | None
    rationale: str
    candidates: list[Candidate]
    memories: list[Recalled]
    usage: Usage
    model: str
    strategy: str
    signal: Signal = Signal("margin", 0.0)
    uncalibrated: str | None = None  # why `confidence` is None, in words
    checked: Check | None = None  # set by "check by running"
    # What was asked about, kept for `ponder/accept` (the memory stores it); not on the wire.
    question: str = ""
    code: str = ""
    language: str = ""
    path: str = ""
    symbol: str | None = None


# The fields of `Answer` the editor is not sent.
ASKED_ABOUT = ("question", "code", "language", "path", "symbol")


@dataclass(frozen=True)
class FirstAnswer:
    """What an answered range holds while the vote runs (a CPU's schedule): shown as a hint
    and in hover, never accepted or asked again."""

    answer: str


@dataclass(frozen=True)
class Stored:
    """ponder/accept and ponder/reject: the memory's id of the trace; whether it replaced one."""

    memory_id: str
    updated: bool
