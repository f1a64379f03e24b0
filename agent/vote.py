"""Voting over sampled reasoning paths (self-consistency).

Answers are grouped by their normalised key (values as values, text normalised); when a `similar`
function is given (embedding cosine, for free-form text), text groups whose representatives are
similar enough are merged. Each path votes with weight 1, or with its answer-token margin when
`weighted` (the CoT-decoding paper's aggregation). The winner is the heaviest group with an answer
(ties: the earliest), except that text never wins over a Python value given by as many paths;
`share` is the winner's part of all votes, paths without an answer included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ponder.agent.answer import normalise

NO_ANSWER = ("none",)


@dataclass
class Ballot:
    """One reasoning path, as it votes."""

    answer: str
    rationale: str
    score: float  # this path's own confidence (answer-token margin)
    text: str = ""  # the whole generation


@dataclass
class Group:
    answer: str  # the representative answer (from the group's most confident path)
    paths: list[Ballot] = field(default_factory=list)
    weight: float = 0.0

    @property
    def count(self) -> int:
        return len(self.paths)

    @property
    def score(self) -> float:
        return sum(p.score for p in self.paths)

    def best(self) -> Ballot:
        return max(self.paths, key=lambda p: p.score)


def key_of(answer: str) -> tuple:
    return normalise(answer) if answer.strip() else NO_ANSWER


def group(
    paths: Sequence[Ballot],
    similar: Callable[[str, str], bool] | None = None,
    weighted: bool = False,
) -> list[Group]:
    """Paths grouped by answer, heaviest group first (groups with an answer before the rest)."""
    groups: dict[tuple, Group] = {}
    for path in paths:
        key = key_of(path.answer)
        if key not in groups and similar is not None and key[0] == "text":
            for other_key, g in groups.items():
                if other_key[0] == "text" and similar(path.answer, g.answer):
                    key = other_key
                    break
        g = groups.setdefault(key, Group(path.answer))
        g.paths.append(path)
        g.weight += max(path.score, 1e-6) if weighted else 1.0
    for g in groups.values():
        g.answer = g.best().answer
    order = list(groups.values())
    # Paths without an answer still count as votes, but never win over an answer.
    # Stable sort: ties in weight and score keep first-seen order.
    order.sort(key=lambda g: (bool(g.answer.strip()), g.weight, g.score), reverse=True)
    return order


@dataclass
class Vote:
    winner: Group | None
    groups: list[Group]
    total: int

    @property
    def share(self) -> float:
        """The winner's part of all votes (by weight)."""
        weight = sum(g.weight for g in self.groups)
        return self.winner.weight / weight if self.winner and weight else 0.0

    @property
    def agree(self) -> int:
        """How many paths gave the winning answer."""
        return self.winner.count if self.winner else 0


def vote(
    paths: Sequence[Ballot],
    similar: Callable[[str, str], bool] | None = None,
    weighted: bool = False,
) -> Vote:
    groups = group(paths, similar, weighted)
    answered = [g for g in groups if g.answer.strip()]
    winner = answered[0] if answered else None
    if winner is not None and not _is_value(winner):
        # Text (a value question's "###the cow goes moo") wins over a Python value only with
        # more paths, whatever its weight: a value can be checked, and is what was asked for.
        value = next((g for g in answered if _is_value(g) and g.count >= winner.count), None)
        if value is not None:
            winner = value
            groups = [value, *(g for g in groups if g is not value)]
    return Vote(winner, groups, len(paths))


def _is_value(g: Group) -> bool:
    return normalise(g.answer)[0] == "value"


def decided(keys: Sequence[tuple], unfinished: int) -> bool:
    """Whether the paths still running can no longer change the majority: the leading answer
    is ahead of the runner-up by more than the number of unfinished paths."""
    counts: dict[tuple, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    answered = sorted((c for k, c in counts.items() if k != NO_ANSWER), reverse=True)
    if not answered:
        return False
    second = answered[1] if len(answered) > 1 else 0
    return answered[0] - second > unfinished
