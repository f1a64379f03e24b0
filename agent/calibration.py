"""A confidence that means what it says.

A strategy's raw confidence (self-consistency: the winning answer's share of the votes; greedy
and CoT-decoding: the answer tokens' top-1 minus top-2 margin) is mapped to the accuracy that
answers with that raw value had on the dev split: a step function, fitted by isotonic regression
(pool adjacent violators) on saved paths by `ponder eval aggregate FILE --fit-calibration`, which
prints the table below. `verdict` calls an answer confident at CONFIDENT_AT or above.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

CONFIDENT_AT = 0.8

# strategy → [(lowest raw value, accuracy of answers from there up)], raw values ascending.
# Fitted on CRUXEval dev items, see README "Evaluation" for the run that printed them.
TABLES: dict[str, list[tuple[float, float]]] = {}


def confidence(strategy: str, raw: float, tables=None) -> float:
    """The calibrated confidence for a raw value (the raw value itself when no table exists)."""
    table = (TABLES if tables is None else tables).get(strategy)
    if not table:
        return raw
    at = bisect_right([lo for lo, _ in table], raw) - 1
    return table[max(at, 0)][1]


def verdict(strategy: str, calibrated: float, tables=None) -> str:
    """`confident` at CONFIDENT_AT or above; a strategy without a calibration table is never
    confident (its raw signal has not been shown to mean anything)."""
    if not (TABLES if tables is None else tables).get(strategy):
        return "uncertain"
    return "confident" if calibrated >= CONFIDENT_AT else "uncertain"


def fit(
    raw: Sequence[float], correct: Sequence[bool], min_count: int = 8
) -> list[tuple[float, float]]:
    """Isotonic (non-decreasing) fit of correctness on raw confidence, as a step table. Steps
    holding fewer than `min_count` answers join their neighbour: a step of 2 answers, both right,
    is luck, not a 100% confidence."""
    pairs = sorted(zip(raw, correct, strict=True))
    # Equal raw values must share one step: start with one block per distinct value.
    blocks: list[list[float]] = []  # [lowest raw, sum correct, count]
    for value, ok in pairs:
        if blocks and blocks[-1][0] == value:
            blocks[-1][1] += ok
            blocks[-1][2] += 1
        else:
            blocks.append([value, float(ok), 1])
    merged: list[list[float]] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] >= merged[-1][1] / merged[-1][2]:
            last = merged.pop()
            merged[-1][1] += last[1]
            merged[-1][2] += last[2]
    at = 0
    while len(merged) > 1 and at < len(merged):
        if merged[at][2] >= min_count:
            at += 1
            continue
        into = at - 1 if at > 0 else at + 1  # merging neighbours keeps the steps non-decreasing
        low, high = sorted((at, into))
        merged[low] = [
            merged[low][0],
            merged[low][1] + merged[high][1],
            merged[low][2] + merged[high][2],
        ]
        del merged[high]
        at = max(low - 1, 0)
    return [(round(lo, 4), round(ok / n, 3)) for lo, ok, n in merged]
