"""Voting over sampled reasoning paths (self-consistency).

Answers are grouped by their normalised key (values as values, text normalised); when a `similar`
function is given (embedding cosine, for free-form text), text groups whose representatives are
similar enough are merged. The winner is the largest group (ties: the higher summed path score,
then the earliest); confidence is the winner's share of all votes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agent.answer import normalise

NO_ANSWER = ("none",)


@dataclass
class Path:
    answer: str
    rationale: str
    score: float  # this path's own confidence (answer-token margin)
    text: str = ""  # the whole generation


@dataclass
class Group:
    answer: str  # the representative answer (from the group's most confident path)
    paths: list[Path] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.paths)

    @property
    def score(self) -> float:
        return sum(p.score for p in self.paths)

    def best(self) -> Path:
        return max(self.paths, key=lambda p: p.score)


def group(paths: Sequence[Path], similar: Callable[[str, str], bool] | None = None) -> list[Group]:
    """Paths grouped by answer, largest group first."""
    groups: dict[tuple, Group] = {}
    for path in paths:
        key = normalise(path.answer) if path.answer.strip() else NO_ANSWER
        if key not in groups and similar is not None and key[0] == "text":
            for other_key, g in groups.items():
                if other_key[0] == "text" and similar(path.answer, g.answer):
                    key = other_key
                    break
        groups.setdefault(key, Group(path.answer)).paths.append(path)
    for g in groups.values():
        g.answer = g.best().answer
    order = list(groups.values())
    # Paths without an answer still count as votes, but never win over an answer.
    # Stable sort: ties in count and score keep first-seen order.
    order.sort(key=lambda g: (bool(g.answer.strip()), g.count, g.score), reverse=True)
    return order


@dataclass
class Vote:
    winner: Group | None
    groups: list[Group]
    total: int

    @property
    def confidence(self) -> float:
        return self.winner.count / self.total if self.winner and self.total else 0.0


def vote(paths: Sequence[Path], similar: Callable[[str, str], bool] | None = None) -> Vote:
    groups = group(paths, similar)
    winner = groups[0] if groups and groups[0].answer.strip() else None
    return Vote(winner, groups, len(paths))
