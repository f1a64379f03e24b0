"""Evaluation on CRUXEval-style items: does the pipeline predict what f(input) returns?

Each item is asked as a user would in the editor: the code is the document, the cursor is in `f`,
the question is "What does f(<input>) return?". A prediction is scored by running
`assert <true output> == <prediction>` in a fresh Python subprocess with a timeout.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent import pipeline
from agent.engine import Engine
from agent.settings import ReasonSettings

# Strategy names on the command line → reason options.
STRATEGIES: dict[str, dict] = {
    "greedy": {"strategy": "greedy"},
    "sc": {"strategy": "self_consistency"},
    "sc+stepback": {"strategy": "self_consistency", "step_back": True},
    "greedy+stepback": {"strategy": "greedy", "step_back": True},
    "cot_decoding": {"strategy": "cot_decoding"},
}
HIGH_CONFIDENCE = 0.8
SCORE_TIMEOUT_S = 10


def load_items(path: Path, limit: int | None = None, offset: int = 0) -> list[dict]:
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                items.append(json.loads(line))
    return items[offset : offset + limit if limit else None]


def question_for(item: dict) -> str:
    return f"What does f({item['input']}) return?"


def score(expected: str, prediction: str) -> bool:
    """True when `assert expected == prediction` passes in a subprocess (timeout: wrong)."""
    if not prediction.strip():
        return False
    program = f"assert ({expected}) == ({prediction})\n"
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", program],
            capture_output=True,
            timeout=SCORE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


@dataclass
class ItemResult:
    id: str
    strategy: str
    prediction: str
    expected: str
    correct: bool
    confidence: float
    tokens: int
    seconds: float
    candidates: list[dict]
    memories: int = 0  # retrieved examples shown to the model


def ask(item: dict, engine: Engine, options: ReasonSettings, recall=None) -> pipeline.Answer:
    code = item["code"]
    task = pipeline.Task(question_for(item), code, "f.py", "python", 0, 0, options)
    return pipeline.run(task, engine, recall=recall)


def run_strategy(
    items: list[dict],
    engine: Engine,
    name: str,
    base: ReasonSettings,
    on_item: Callable[[int, ItemResult], None] | None = None,
    recall: Callable[[str, str], list[dict]] | None = None,
    remember: Callable[[pipeline.Answer], None] | None = None,
) -> list[ItemResult]:
    """Ask every item with one strategy. `recall` retrieves memories into the prompt;
    `remember` is called with each correct answer (a user accepting it)."""
    options = dataclasses.replace(base, **STRATEGIES[name])
    results = []
    for n, item in enumerate(items):
        started = time.perf_counter()
        answer = ask(item, engine, options, recall)
        result = ItemResult(
            id=item.get("id", str(n)),
            strategy=name,
            prediction=answer.answer,
            expected=item["output"],
            correct=score(item["output"], answer.answer),
            confidence=answer.confidence,
            tokens=answer.usage["promptTokens"] + answer.usage["completionTokens"],
            seconds=time.perf_counter() - started,
            candidates=answer.candidates,
            memories=len(answer.memories),
        )
        if remember and result.correct:
            remember(answer)
        results.append(result)
        if on_item:
            on_item(n, result)
    return results


def summarise(results: list[ItemResult]) -> dict:
    n = len(results)
    confident = [r for r in results if r.confidence >= HIGH_CONFIDENCE]
    return {
        "n": n,
        "accuracy": sum(r.correct for r in results) / n if n else 0.0,
        "mean_confidence": sum(r.confidence for r in results) / n if n else 0.0,
        "high_confidence_n": len(confident),
        "high_confidence_accuracy": (
            sum(r.correct for r in confident) / len(confident) if confident else None
        ),
        "tokens_per_item": sum(r.tokens for r in results) / n if n else 0.0,
        "seconds_per_item": sum(r.seconds for r in results) / n if n else 0.0,
    }


def table(summaries: dict[str, dict]) -> str:
    header = f"{'strategy':16} {'n':>4} {'acc':>6} {'conf':>6} {'acc@>=0.8':>11} {'tokens':>8} {'s/item':>7}"
    lines = [header, "-" * len(header)]
    for name, s in summaries.items():
        high = s["high_confidence_accuracy"]
        high_text = f"{high:.2f} ({s['high_confidence_n']})" if high is not None else "- (0)"
        lines.append(
            f"{name:16} {s['n']:4d} {s['accuracy']:6.2f} {s['mean_confidence']:6.2f} "
            f"{high_text:>11} {s['tokens_per_item']:8.0f} {s['seconds_per_item']:7.1f}"
        )
    return "\n".join(lines)
