"""Explanations scored by what they let a reader predict (counterfactual simulatability: Chen et
al., "Do Models Explain Themselves?", 2023).

For each function, ponder explains it as the editor does ("reason about this"); then, in a
separate prompt that shows only the explanation and the function's signature, never its body,
the model predicts f(x') for inputs it was not shown: small mutations of the item's input, true
outputs by running f confined (related.py). An explanation's score is the share of predictions
that are right. Beside it, the same predictions from the signature alone (what an empty
explanation gives: `none`) and from the code itself (`code`, the ceiling), so each method's
lift shows.
"""

from __future__ import annotations

import ast
import copy
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ponder.agent import pipeline, prompts
from ponder.agent.answer import extract
from ponder.agent.evaluation.aggregate import bootstrap_mean
from ponder.agent.evaluation.harness import score
from ponder.agent.evaluation.related import mutated_inputs, run_f
from ponder.agent.settings import ReasonSettings

if TYPE_CHECKING:
    from ponder.agent.engine import Engine

# today's explanation (one greedy path); step-back first; one that ends by working the item's own
# input through the code (where the selection has a call, the editor has that input too)
METHODS = ("greedy", "stepback", "worked")
PROBES = 3  # inputs predicted per function
PREDICTION_TOKENS = 64
_MUTATIONS_TRIED = 12

PREDICT_SYSTEM = "You predict what a Python function returns. Reply with the value only."


@dataclass
class Prediction:
    input: str
    expected: str
    predicted: str
    right: bool


@dataclass
class Scored:
    """One reader's predictions for one function: from an explanation, or a baseline's."""

    predictions: list[Prediction]
    text: str = ""  # the explanation (empty for the baselines)
    seconds: float = 0.0  # to write the explanation

    @property
    def score(self) -> float:
        return sum(p.right for p in self.predictions) / len(self.predictions)


@dataclass
class ItemScores:
    id: str
    code: str
    none: Scored
    code_shown: Scored
    methods: dict[str, Scored] = field(default_factory=dict)


def probes(item: dict, count: int = PROBES) -> list[tuple[str, str]]:
    """`count` mutated inputs (never the item's own) with the outputs running f gives; fewer
    when f raises, hangs or prints on the others."""
    found = []
    for text in mutated_inputs(item["input"], _MUTATIONS_TRIED)[1:]:
        output = run_f(item["code"], text)
        if output is not None:
            found.append((text, output))
            if len(found) == count:
                break
    return found


def signature(code: str) -> str:
    """`def f(…):` of the code's function f (the first function when none is named f)."""
    tree = ast.parse(code)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)] or [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
    ]
    node = next((n for n in functions if n.name == "f"), functions[0])
    header = copy.copy(node)
    header.body, header.decorator_list = [ast.Expr(ast.Constant(...))], []
    return ast.unparse(header).splitlines()[0]


def explain(
    engine: Engine, code: str, method: str, options: ReasonSettings, example: str = ""
) -> Scored:
    """The explanation `method` gives, as the editor asks it (the pipeline, default question);
    `worked` adds one worked example on `example`, the item's own input."""
    opts = replace(options, step_back=method == "stepback")
    task = pipeline.Task(_question(method, example), code, "f.py", "python", 0, 0, opts)
    started = time.perf_counter()
    answer = pipeline.run(task, engine)
    text = answer.rationale
    if answer.answer.strip() and answer.answer.strip() not in text:
        text = f"{text}\n{answer.answer}"
    if answer.principle:
        text = f"Principle: {answer.principle}\n{text}"
    return Scored([], text.strip(), time.perf_counter() - started)


def _question(method: str, example: str) -> str:
    if method != "worked":
        return prompts.DEFAULT_QUESTION
    # Worded so that it stays an explanation (one path), not a question about a value (a vote).
    return (
        f"{prompts.DEFAULT_QUESTION} End with one worked example: follow f({example}) line by "
        "line to its result."
    )


# One worked turn before the question, so that even a small model answers with a bare value.
EXAMPLE_CODE = "def f(word):\n    return word[::-1]"
EXAMPLE_EXPLANATION = "f returns its string argument reversed."


def prediction_prompt(code: str, shown: str, call: str) -> list[dict[str, str]]:
    """What the reader sees: the signature and the explanation (`shown` empty: the signature
    alone), or the whole code when `shown` is the code itself; after one worked example."""
    example_shown = EXAMPLE_CODE if shown == code else EXAMPLE_EXPLANATION if shown else ""
    return [
        {"role": "system", "content": PREDICT_SYSTEM},
        {"role": "user", "content": _reader_question(EXAMPLE_CODE, example_shown, "f('abc')")},
        {"role": "assistant", "content": f"{prompts.ANSWER_TAG} 'cba'"},
        {"role": "user", "content": _reader_question(code, shown, call)},
    ]


def _reader_question(code: str, shown: str, call: str) -> str:
    if shown == code:
        about = f"The function:\n{prompts.code_block(code, 'python')}"
    else:
        stub = f"{signature(code)}\n    ..."
        about = (
            f"The function's signature (its body is hidden):\n{prompts.code_block(stub, 'python')}"
        )
        if shown:
            about += f"\n\nAn explanation of what the function does:\n{shown}"
    return (
        f"{about}\n\nWhat does {call} return? Reply with nothing but the returned value as a "
        f"Python literal after {prompts.ANSWER_TAG}"
    )


def predict(
    engine: Engine, code: str, shown: str, found: list[tuple[str, str]]
) -> list[Prediction]:
    """The reader's predictions (greedy) for each probe input."""
    out = []
    for args, expected in found:
        messages = prediction_prompt(code, shown, f"f({args})")
        text = engine.sample(messages, k=1, max_tokens=PREDICTION_TOKENS)[0].text
        predicted = extract(text).answer.strip()  # the tag's value, else the last line
        out.append(Prediction(args, expected, predicted, score(expected, predicted)))
    return out


def score_item(
    engine: Engine, item: dict, methods: list[str], options: ReasonSettings
) -> ItemScores | None:
    """Every method's explanation of the item's function, scored; None when fewer than PROBES
    inputs could be run."""
    found = probes(item)
    if len(found) < PROBES:
        return None
    code = item["code"]
    result = ItemScores(
        item.get("id", ""),
        code,
        none=Scored(predict(engine, code, "", found)),
        code_shown=Scored(predict(engine, code, code, found)),
    )
    for method in methods:
        explained = explain(engine, code, method, options, item["input"])
        explained.predictions = predict(engine, code, explained.text, found)
        result.methods[method] = explained
    return result


def summary(records: list[dict], methods: list[str]) -> dict[str, dict]:
    """Per method, over the records (`ItemScores` as dicts) that hold it: mean score with a 95%
    interval (bootstrap over functions), the baselines' means on the same functions, paired
    wins/losses against the first method, seconds per explanation."""
    out = {}
    first = methods[0]
    for method in methods:
        held = [r for r in records if method in r["methods"]]
        if not held:
            continue
        scores = np.array([_score(r["methods"][method]) for r in held])
        firsts = np.array([_score(r["methods"][first]) for r in held if first in r["methods"]])
        low, high = bootstrap_mean(scores)
        out[method] = {
            "n": len(held),
            "score": float(scores.mean()),
            "score_ci": (low, high),
            "none": float(np.mean([_score(r["none"]) for r in held])),
            "code": float(np.mean([_score(r["code_shown"]) for r in held])),
            "wins": int((scores > firsts).sum()) if len(firsts) == len(scores) else 0,
            "losses": int((scores < firsts).sum()) if len(firsts) == len(scores) else 0,
            "s_item": float(np.mean([r["methods"][method]["seconds"] for r in held])),
        }
    return out


def _score(scored: dict) -> float:
    predictions = scored["predictions"]
    return sum(p["right"] for p in predictions) / len(predictions)


def side_by_side(records: list[dict], methods: list[str]) -> str:
    """Markdown: each function, then each method's explanation with its score, to be read."""
    parts = []
    for r in records:
        parts.append(f"## {r['id']}\n\n{prompts.code_block(r['code'], 'python')}\n")
        for method in methods:
            if method in r["methods"]:
                scored = r["methods"][method]
                parts.append(f"**{method}** ({_score(scored):.2f}):\n\n{scored['text']}\n")
    return "\n".join(parts)
