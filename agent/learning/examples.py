"""Training examples of verified reasoning, from three sources: the user's accepted traces (the
user was the verifier), saved paths whose answer equals the true output (rejection sampling over
the model's own reasoning), and exact execution traces (agent/learning/tracer.py).

Every example's prompt is the one ponder sends at inference (`pipeline.messages_for`), so the
adapter learns to answer the question as it will be asked. A function in the validation split
(`in_validation`) never gives an example, from any source: the split is by the function's code,
so its mutated inputs and a memory trace of the same code stay out too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ponder.agent import pipeline, prompts
from ponder.agent.evaluation import harness, related
from ponder.agent.evaluation.harness import in_validation
from ponder.agent.learning.tracer import Bounds, trace_call
from ponder.agent.results import VERIFIED_TAG


@dataclass(frozen=True)
class Example:
    messages: list[dict[str, str]]  # system, user (the inference prompt), assistant (the target)
    source: str  # "memory", "paths" or "traces"
    function: str  # the item's id, or the trace's id: what it was made from
    verified: bool = False  # a memory trace whose answer running the code confirmed

    def record(self) -> dict:
        return {"messages": self.messages, "source": self.source, "function": self.function}


def prompt_for(question: str, code: str) -> list[dict[str, str]]:
    """The messages ponder sends for this question about this code (no memory, no step-back)."""
    return pipeline.messages_for(pipeline.Task(question, code, "f.py", "python", 0, 0))


def _example(
    question: str, code: str, reasoning: str, source: str, function: str, verified: bool = False
) -> Example:
    target = {"role": "assistant", "content": reasoning.strip()}
    return Example([*prompt_for(question, code), target], source, function, verified)


def from_memory(traces: Iterable[dict]) -> Iterator[Example]:
    """The user's accepted traces (store.all()), each as its question, code and reasoning; those
    tagged "verified" (checked by running before they were accepted) say so."""
    for trace in traces:
        if not trace.get("accepted", True) or not trace.get("answer", "").strip():
            continue
        if not trace.get("code", "").strip() or in_validation(trace["code"]):
            continue
        reasoning = (trace.get("rationale") or "").strip()
        reasoning += f"\n{prompts.ANSWER_TAG} {trace['answer'].strip()}"
        verified = VERIFIED_TAG in (trace.get("tags") or [])
        yield _example(
            trace["question"], trace["code"], reasoning, "memory", trace.get("id", ""), verified
        )


def from_paths(items: list[dict], code_of: dict[str, str], per_item: int = 2) -> Iterator[Example]:
    """Saved paths (harness.read_many_paths) that reached the true output and wrote their answer
    line: at most `per_item` different ones per item, shortest first."""
    for item in items:
        code = code_of.get(item["id"])
        if code is None or in_validation(code):
            continue
        right = {
            p["text"].strip()
            for p in item["paths"]
            if p["correct"] and prompts.ANSWER_TAG in p["text"] and p.get("finish") == "stop"
        }
        for text in sorted(right, key=len)[:per_item]:
            yield _example(item["question"], code, text, "paths", item["id"])


def from_traces(
    items: list[dict], inputs_per_item: int = 3, bounds: Bounds | None = None
) -> Iterator[Example]:
    """Exact execution traces: each function on its given input and on up to
    `inputs_per_item - 1` small mutations of it, traced confined. Kept only when the call
    returns, the trace is whole (no bound hit), and on the given input, when it returns the
    item's output."""
    bounds = bounds or Bounds()
    for item in items:
        if in_validation(item["code"]):
            continue
        for n, args in enumerate(related.mutated_inputs(item["input"], inputs_per_item - 1)):
            trace = trace_call(item["code"], f"f({args})", bounds)
            if trace.output is None or trace.cut:
                continue
            if n == 0 and not related.same_value(trace.output, item["output"]):
                continue  # the data's output and the run disagree: trust neither
            question = harness.question_for({"input": args})
            reasoning = f"{trace.text}\n{prompts.ANSWER_TAG} {trace.output}"
            yield _example(question, item["code"], reasoning, "traces", item.get("id", ""))


def code_by_id(data: Path) -> dict[str, str]:
    return {item["id"]: item["code"] for item in harness.load_items(data) if "id" in item}


def deduplicated(found: Iterable[Example]) -> list[Example]:
    """Each example once (the same question and reasoning from two sources counts once)."""
    seen: set[str] = set()
    kept = []
    for example in found:
        key = json.dumps(example.messages[1:], sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept
