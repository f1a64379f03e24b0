"""Evaluation on CRUXEval-style items: does the pipeline predict what f(input) returns?

Each item is asked as a user would in the editor: the code is the document, the cursor is in `f`,
the question is "What does f(<input>) return?". A prediction is right when it parses as a Python
literal equal to the true output (parsed, never run).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ponder.agent import pipeline, prompts
from ponder.agent.engine import Engine
from ponder.agent.errors import PonderError
from ponder.agent.settings import ReasonSettings
from ponder.memory import jsonl

# Strategy names on the command line → reason options.
STRATEGIES: dict[str, dict] = {
    "greedy": {"strategy": "greedy"},
    "sc": {"strategy": "self_consistency"},
    "sc+stepback": {"strategy": "self_consistency", "step_back": True},
    "greedy+stepback": {"strategy": "greedy", "step_back": True},
    "cot_decoding": {"strategy": "cot_decoding"},
}
HIGH_CONFIDENCE = 0.8
_YES_NO = {"yes": "True", "true": "True", "no": "False", "false": "False"}
_TYPE_WORDS = {
    "str": "str",
    "string": "str",
    "int": "int",
    "integer": "int",
    "float": "float",
    "bool": "bool",
    "boolean": "bool",
    "list": "list",
    "dict": "dict",
    "dictionary": "dict",
    "tuple": "tuple",
    "set": "set",
    "none": "NoneType",
    "nonetype": "NoneType",
    "bytes": "bytes",
}


ITEM_KEYS = frozenset({"code", "input", "output"})  # a CRUXEval item's, as every eval asks it


VALIDATION_SHARE = 30  # percent of functions held out (640 dev items: about 190)


def in_validation(code: str) -> bool:
    """The fixed split: by a hash of the function's code, so an item, its mutations and any
    trace of the same code fall on the same side."""
    digest = hashlib.sha256(" ".join(code.split()).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < VALIDATION_SHARE


def load_items(
    path: Path, limit: int | None = None, offset: int = 0, every: int = 1, split: str = "all"
) -> list[dict]:
    """The items of `split` ("all", "train" or "validation": `in_validation`) from `offset` on,
    every `every`th of them, at most `limit`; a line that is not a JSON object with ITEM_KEYS is
    refused with its number."""
    items: list[dict] = []
    for n, item in jsonl.records(path):
        missing = ITEM_KEYS - set(item) if isinstance(item, dict) else ITEM_KEYS
        if missing or not isinstance(item, dict):
            raise PonderError(
                f"{path}:{n}: not an item (a JSON object with {', '.join(sorted(ITEM_KEYS))};"
                f" missing {', '.join(sorted(missing))})"
            )
        if split == "all" or in_validation(item["code"]) == (split == "validation"):
            items.append(item)
    return items[offset::every][: limit or None]


def question_for(item: dict) -> str:
    return item.get("question") or f"What does f({item['input']}) return?"


def type_named(text: str) -> str | None:
    """The first Python type `text` names ("`list`", "a string", "<class 'dict'>"), or None."""
    for word in re.findall(r"[A-Za-z]+", text):
        if word.lower() in _TYPE_WORDS:
            return _TYPE_WORDS[word.lower()]
    return None


def score(expected: str, prediction: str, form: str = "literal") -> bool:
    """True when the prediction is a Python literal equal to the expected output. The model's
    text is parsed (`ast.literal_eval`), never run: the harness must not execute model output.
    `form` "yes_no" (a True/False question): an answer starting with yes/true or no/false counts
    as True or False, whatever follows ("False. The list is copied first."). "type" (a question
    for the type of a value): the first type named in the answer ("a list of str" is a list)."""
    if form == "type":
        return type_named(prediction) == expected
    if form == "yes_no":
        words = prediction.strip().lower().split(maxsplit=1)
        first = words[0].strip(".,:;!`'\"") if words else ""
        prediction = _YES_NO.get(first, prediction)
    try:
        return bool(ast.literal_eval(expected) == ast.literal_eval(prediction.strip()))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


@dataclass
class ItemResult:
    id: str
    strategy: str
    prediction: str
    expected: str
    correct: bool
    confidence: float | None  # None: no calibration table covers the answer
    tokens: int
    seconds: float
    candidates: list[dict]
    memories: int = 0  # retrieved examples shown to the model


def ask(
    item: dict,
    engine: Engine,
    options: ReasonSettings,
    recall=None,
    same_code: pipeline.SameCode = "hide",
) -> pipeline.Answer:
    code = item["code"]
    task = pipeline.Task(question_for(item), code, "f.py", "python", 0, 0, options)
    return pipeline.run(task, engine, recall=recall, same_code=same_code)


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
            correct=score(item["output"], answer.answer, item.get("form", "literal")),
            confidence=answer.confidence,
            tokens=answer.usage.prompt_tokens + answer.usage.completion_tokens,
            seconds=time.perf_counter() - started,
            candidates=[dataclasses.asdict(c) for c in answer.candidates],
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
    stated = [r.confidence for r in results if r.confidence is not None]
    confident = [r for r in results if r.confidence is not None and r.confidence >= HIGH_CONFIDENCE]
    return {
        "n": n,
        "accuracy": sum(r.correct for r in results) / n if n else 0.0,
        # over the answers that have a confidence; `calibrated_n` says how many
        "mean_confidence": sum(stated) / len(stated) if stated else None,
        "calibrated_n": len(stated),
        "high_confidence_n": len(confident),
        "high_confidence_accuracy": (
            sum(r.correct for r in confident) / len(confident) if confident else None
        ),
        "tokens_per_item": sum(r.tokens for r in results) / n if n else 0.0,
        "seconds_per_item": sum(r.seconds for r in results) / n if n else 0.0,
    }


def _mean(confidence: float | None) -> str:
    return "-" if confidence is None else f"{confidence:.2f}"


def table(summaries: dict[str, dict]) -> str:
    header = f"{'strategy':16} {'n':>4} {'acc':>6} {'conf':>6} {'acc@>=0.8':>11} {'tokens':>8} {'s/item':>7}"
    lines = [header, "-" * len(header)]
    for name, s in summaries.items():
        high = s["high_confidence_accuracy"]
        high_text = f"{high:.2f} ({s['high_confidence_n']})" if high is not None else "- (0)"
        lines.append(
            f"{name:16} {s['n']:4d} {s['accuracy']:6.2f} {_mean(s['mean_confidence']):>6} "
            f"{high_text:>11} {s['tokens_per_item']:8.0f} {s['seconds_per_item']:7.1f}"
        )
    return "\n".join(lines)


# ---- saved paths: sample once, aggregate offline (aggregate.py) ---------------------------------------

PATHS_FORMAT = "ponder-paths"
PATHS_VERSION = 1


def paths_header(
    engine: Engine,
    data: Path,
    offset: int,
    every: int,
    samples: int,
    temperature: float,
    top_p: float,
    max_tokens: int,
    seed: int,
) -> dict:
    header = {
        "format": PATHS_FORMAT,
        "version": PATHS_VERSION,
        "model": engine.name,
        "data": str(data),
        "offset": offset,
        "samples": samples,
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "seed": seed,
    }
    if every > 1:  # only then: files from before --every resume with the same header
        header["every"] = every
    if engine.adapter:  # calibration tables are fitted per model file and adapter
        header["adapter"] = {"name": engine.adapter.name, "sha256": engine.adapter.sha256}
    return header


def sample_item(item: dict, engine: Engine, header: dict) -> dict:
    """One item: the greedy path and `samples` sampled paths, in one batch, every path scored."""
    task = pipeline.Task(question_for(item), item["code"], "f.py", "python", 0, 0)
    started = time.perf_counter()
    completions = engine.sample(
        pipeline.messages_for(task),
        k=header["samples"] + 1,
        greedy_first=True,
        temperature=header["temperature"],
        top_p=header["top_p"],
        max_tokens=header["max_tokens"],
        seed=header["seed"],
        stop=pipeline.STOP,
        answer_tag=prompts.ANSWER_TAG,
    )
    seconds = time.perf_counter() - started
    stats = getattr(engine, "last_stats", None)
    verdicts: dict[str, bool] = {}
    paths = []
    for n, c in enumerate(completions):
        path = pipeline.path_of(c)
        if path.answer not in verdicts:
            verdicts[path.answer] = score(item["output"], path.answer)
        paths.append(
            {
                "kind": "greedy" if n == 0 else "sample",
                "answer": path.answer,
                "correct": verdicts[path.answer],
                "margin": round(path.score, 4),
                "tokens": c.completion_tokens,
                "finish": c.finish_reason,
                "concluded": c.concluded,
                "text": c.text,
            }
        )
    return {
        "id": item.get("id", ""),
        "question": task.question,
        "expected": item["output"],
        "prompt_tokens": completions[0].prompt_tokens if completions else 0,
        "seconds": round(seconds, 3),
        "prompt_s": round(stats.prompt_s, 3) if stats else 0.0,
        "steps": {str(r): v for r, v in stats.steps.items()} if stats else {},
        "paths": paths,
    }


def rescore(items: list[dict]) -> int:
    """Extract every saved path's answer again with today's extractor and score the ones that
    changed (answer-extraction changes are measured without sampling again). Returns how many
    changed. Margins stay as saved."""
    from ponder.agent.answer import extract

    changed = 0
    for item in items:
        verdicts: dict[str, bool] = {}
        for path in item["paths"]:
            answer = extract(path["text"]).answer
            if answer != path["answer"]:
                if answer not in verdicts:
                    verdicts[answer] = score(item["expected"], answer)
                path["answer"], path["correct"] = answer, verdicts[answer]
                changed += 1
    return changed


def open_paths_file(file: Path, header: dict) -> tuple[set[str], IO[str]]:
    """Open a saved-paths file for appending: the ids already done (a run resumes where it
    stopped), refusing a file written with other settings or by another model."""
    done: set[str] = set()
    if file.exists() and file.stat().st_size:
        old, items = read_paths(file)
        differs = [k for k in header if old.get(k) != header[k]]
        if differs:
            raise PonderError(
                f"{file} holds paths sampled with other settings ({', '.join(differs)}): "
                "use another file, or the same settings to resume"
            )
        done = {it["id"] for it in items}
        return done, open(file, "a", encoding="utf-8")
    out = open(file, "w", encoding="utf-8")
    out.write(json.dumps(header) + "\n")
    out.flush()
    return done, out


def read_paths(file: Path, model: str | None = None) -> tuple[dict, list[dict]]:
    """A saved-paths file: (header, items). Refuses other formats, versions and models."""
    try:
        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        header = json.loads(lines[0]) if lines else {}
        items = [json.loads(line) for line in lines[1:]]
    except (OSError, UnicodeDecodeError) as e:
        raise PonderError(f"cannot read {file}: {e}") from e
    except json.JSONDecodeError as e:
        raise PonderError(f"{file} is not a saved-paths file (bad JSON: {e})") from e
    if not isinstance(header, dict) or header.get("format") != PATHS_FORMAT:
        raise PonderError(
            f"{file} is not a saved-paths file (written by `ponder eval --save-paths`)"
        )
    if header.get("version") != PATHS_VERSION:
        raise PonderError(
            f"{file} is saved-paths format version {header.get('version')}; this ponder reads "
            f"version {PATHS_VERSION}: sample again"
        )
    if model and header.get("model") != model:
        raise PonderError(f"{file} holds paths from model {header.get('model')}, not {model}")
    for item in items:
        item["run"] = str(file)  # its decode steps are timed on the machine of this run
    return header, items


# Header fields that must agree for saved paths to be scored together (the data file and offset
# may differ: more items of the same split, sampled the same way).
SAMPLING_KEYS = ("model", "samples", "temperature", "top_p", "max_tokens", "seed")


def read_many_paths(files: list[Path], model: str | None = None) -> tuple[dict, list[dict]]:
    """Several saved-paths files as one: refused when they were sampled differently or share
    an item."""
    header, items = read_paths(files[0], model)
    for file in files[1:]:
        other, more = read_paths(file, model)
        differs = [k for k in SAMPLING_KEYS if other.get(k) != header.get(k)]
        if differs:
            raise PonderError(
                f"{file} was sampled with other settings than {files[0]} ({', '.join(differs)}): "
                "its paths cannot be scored together"
            )
        seen = {it["id"] for it in items}
        twice = [it["id"] for it in more if it["id"] in seen]
        if twice:
            raise PonderError(f"{file} repeats items already read ({', '.join(twice[:3])}…)")
        items += more
    return header, items


# ---- memory on related questions (agent/evaluation/related.py) -----------------------------------------


@dataclass
class RelatedResult:
    id: str
    a_correct: bool  # A asked without memory; accepted into memory when right
    b_off: bool  # B without memory
    b_on: bool  # B with memory (the same as b_off when nothing was retrieved: greedy is exact)
    b_on_memories: int
    unrelated: bool | None  # B with only other functions' traces retrievable (None: none came)
    b_prediction_off: str = ""
    b_prediction_on: str = ""
    rule: str = ""  # the code's rule derived from A's accepted trace (same_code="rule")


def run_related(
    pairs: list[tuple[dict, dict]],
    engine: Engine,
    options: ReasonSettings,
    store,
    top_k: int = 3,
    on_item: Callable[[int, RelatedResult], None] | None = None,
    same_code: pipeline.SameCode = "hide",
) -> list[RelatedResult]:
    """For each (A, B): ask A, accept it when right (with `same_code="rule"`, the model first
    writes the code's rule from the accepted trace, `pipeline.derive_rule`, kept as its
    principle), ask B with memory off and on. Then, with every accepted trace in the store, ask each B again
    retrieving only traces of *other* functions: memory must not hurt unrelated questions."""

    def recall_for(same: bool):
        def recall(question: str, code: str) -> list[dict]:
            found = store.search(question, code, k=top_k + 1)
            kept = [m for m in found if (m["code"].strip() == code.strip()) == same]
            return kept[:top_k]

        return recall

    results = []
    for n, (a, b) in enumerate(pairs):
        answer = ask(a, engine, options)
        a_ok = score(a["output"], answer.answer)
        rule = ""
        if a_ok:
            trace = {**dataclasses.asdict(answer), "tags": ["eval-related"]}
            if same_code == "rule":
                rule = trace["principle"] = pipeline.derive_rule(engine, trace)
            store.add(trace)
        off = ask(b, engine, options)
        recall = recall_for(same=True)
        # Greedy decoding is exact: with nothing shown, memory on is memory off. By default
        # the pipeline hides A's trace (another question about this code).
        question = question_for(b)
        shown = pipeline.memory_to_show(recall(question, b["code"]), question, b["code"], same_code)
        on = ask(b, engine, options, recall, same_code) if any(shown) else off
        result = RelatedResult(
            id=a.get("id", str(n)),
            a_correct=a_ok,
            b_off=score(b["output"], off.answer),
            b_on=score(b["output"], on.answer),
            b_on_memories=len(on.memories),
            unrelated=None,
            b_prediction_off=off.answer,
            b_prediction_on=on.answer,
            rule=rule,
        )
        results.append(result)
        if on_item:
            on_item(n, result)
    for (_, b), result in zip(pairs, results, strict=True):
        recall = recall_for(same=False)
        if recall(question_for(b), b["code"]):  # nothing retrieved: the same prompt as off
            other = ask(b, engine, options, recall)
            result.unrelated = score(b["output"], other.answer)
    return results


def summarise_related(results: list[RelatedResult]) -> dict:
    n = len(results)
    unrelated = [r for r in results if r.unrelated is not None]
    return {
        "n": n,
        "a_accuracy": sum(r.a_correct for r in results) / n if n else 0.0,
        "b_off": sum(r.b_off for r in results) / n if n else 0.0,
        "b_on": sum(r.b_on for r in results) / n if n else 0.0,
        "b_on_wins": sum(r.b_on and not r.b_off for r in results),
        "b_on_losses": sum(r.b_off and not r.b_on for r in results),
        "retrieved_same": sum(r.b_on_memories > 0 for r in results),
        "unrelated_n": len(unrelated),
        "unrelated_change": sum(int(bool(r.unrelated)) - int(r.b_off) for r in unrelated) / n
        if n
        else 0.0,
    }
