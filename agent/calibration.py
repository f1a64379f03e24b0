"""A confidence that means what it says, or none.

A strategy's raw signal (self-consistency: the winning answer's share of the votes, "agreement";
greedy and CoT-decoding: the answer tokens' top-1 minus top-2 margin, "margin") is mapped to the
accuracy that answers with that raw value had on the dev split: a step function, fitted by
isotonic regression (pool adjacent violators) on saved paths by `ponder eval aggregate FILE
--fit-calibration`, which prints the table below (docs/saved-paths/README.md says how to refit).

A table has a scope: the model file it was fitted on (alias and sha256), the adapter (none yet),
the strategy, and the kind of question and answer (value answers, Python literals, to questions
about what running the code gives). `calibrate` checks that scope in this one place: an answer
outside every table's scope keeps its raw signal only, gets `confidence` None and is never
`confident`, with the reason said in words. A margin measures fluency, not correctness: wrong
answers carry 0.95-0.99.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from ponder.agent.models import MODELS
from ponder.agent.results import Verdict

CONFIDENT_AT = 0.8

# model → strategy → [(lowest raw value, accuracy of answers from there up)], raw values ascending.
# Fitted on all 640 CRUXEval dev items (the whole split), Qwen2.5-Coder-1.5B, T=0.5, by
#   ponder eval aggregate docs/saved-paths/paths-1.5b-T0.5-{continued,heldout,heldout2,heldout3,\
#     heldout4,heldout5,heldout6,heldout7,heldout8,heldout9,heldout10,heldout11}.jsonl --rescore \
#     --rules greedy,weighted+greedy@6 --fit-calibration
# self_consistency: the default 6 paths (the greedy one among them), each voting with its answer
# tokens' margin; raw = the winner's share of the weight. Only a unanimous vote reaches 0.8
# (99 of 111 such answers right on the 640).
# Cross-fitted on the same 640 items: ECE 0.048, 88% right of the 116 answers at >= 0.8; how
# each earlier table held on the items sampled after it: docs/evaluation.md ("Calibration tables").
# greedy: the answer tokens' margin; even at 1.0 only 0.471, so greedy is never "confident".
# A model without tables gets no confidence and is never called confident: a table fitted on one
# model says nothing about another (docs/evaluation.md).
# The file the tables below were fitted on (the bundled Q4_K_M): a different file under the same
# alias would not inherit them.
FITTED_ON = {
    "qwen2.5-coder-1.5b": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
}
TABLES: dict[str, dict[str, list[tuple[float, float]]]] = {
    "qwen2.5-coder-1.5b": {
        "greedy": [
            (0.0358, 0.205),
            (0.5191, 0.347),
            (0.9018, 0.355),
            (0.9985, 0.368),
            (0.9991, 0.447),
            (1.0, 0.471),
        ],
        "self_consistency": [
            (0.1667, 0.031),
            (0.2293, 0.184),
            (0.3336, 0.192),
            (0.3344, 0.192),
            (0.3455, 0.229),
            (0.3456, 0.243),
            (0.3517, 0.282),
            (0.3739, 0.364),
            (0.4275, 0.413),
            (0.5231, 0.466),
            (0.7172, 0.583),
            (0.8139, 0.704),
            (1.0, 0.884),
        ],
    },
}


def tables_for(model: str, adapter: str | None = None) -> dict[str, list[tuple[float, float]]]:
    """The strategy → table map fitted for this model file and adapter ({} when none was)."""
    spec = MODELS.get(model)
    if adapter is not None or spec is None or FITTED_ON.get(model) != spec.sha256:
        return {}
    return TABLES.get(model, {})


def mapped(table: list[tuple[float, float]], raw: float) -> float:
    """The accuracy the table gives a raw value (the step it falls in)."""
    at = bisect_right([lo for lo, _ in table], raw) - 1
    return table[max(at, 0)][1]


@dataclass(frozen=True)
class Scope:
    """What an answer is, as far as calibration cares."""

    model: str
    strategy: str
    question: str  # "value" (what running the code gives), "yes/no" or "other"
    answer: str  # "value" (a Python literal), "text", "free text" (an explanation) or "none"
    adapter: str | None = None


@dataclass(frozen=True)
class Calibrated:
    confidence: float | None  # the share of such answers that were right; None: no table applies
    verdict: Verdict
    uncalibrated: str | None  # why there is no confidence, a phrase the editors show as it is


def calibrate(scope: Scope, raw: float) -> Calibrated:
    """The calibrated confidence of a raw signal, where a table's scope covers the answer."""
    if scope.answer == "free text":
        return Calibrated(None, "unchecked", "free text is not checked")
    if scope.answer == "none":
        return Calibrated(None, "uncertain", "no path reached a final answer")
    if scope.question == "yes/no":
        return Calibrated(None, "uncertain", "not calibrated for yes/no questions")
    if scope.question != "value":
        return Calibrated(None, "uncertain", "not calibrated for this kind of question")
    if scope.answer != "value":
        return Calibrated(None, "uncertain", "not calibrated: the answer is not a Python value")
    tables = tables_for(scope.model, scope.adapter)
    if not tables:
        adapted = " with this adapter" if scope.adapter else ""
        return Calibrated(None, "uncertain", f"not calibrated for the model {scope.model}{adapted}")
    table = tables.get(scope.strategy)
    if not table:
        return Calibrated(None, "uncertain", f"not calibrated for {scope.strategy}")
    confidence = mapped(table, raw)
    return Calibrated(confidence, "confident" if confidence >= CONFIDENT_AT else "uncertain", None)


def fit(
    raw: Sequence[float], correct: Sequence[bool], prior_weight: float = 2.0
) -> list[tuple[float, float]]:
    """Isotonic (non-decreasing) fit of correctness on raw confidence, as a step table.

    Each step's accuracy is shrunk towards the overall accuracy by `prior_weight` pseudo-answers
    (a Beta prior): a step of 2 answers, both right, is luck, not a 100% confidence, while 7 of 7
    says 0.9. Pool adjacent violators then makes the steps non-decreasing."""
    pairs = sorted(zip(raw, correct, strict=True))
    if not pairs:
        return []
    overall = sum(ok for _, ok in pairs) / len(pairs)
    blocks: list[list[float]] = []  # [lowest raw, answers right, answers]; one per raw value
    for value, ok in pairs:
        if blocks and blocks[-1][0] == value:
            blocks[-1][1] += ok
            blocks[-1][2] += 1
        else:
            blocks.append([value, float(ok), 1])

    def accuracy(block: list[float]) -> float:
        return (block[1] + prior_weight * overall) / (block[2] + prior_weight)

    merged: list[list[float]] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and accuracy(merged[-2]) >= accuracy(merged[-1]):
            last = merged.pop()
            merged[-1][1] += last[1]
            merged[-1][2] += last[2]
    return [(round(b[0], 4), round(accuracy(b), 3)) for b in merged]
