"""Related questions: the editor's case for memory, built from CRUXEval items.

An editor user asks about the same code again and again. For each function, a second input (B)
is made by a small mutation of the given input (A), and B's true output is computed by running
the function (confined: agent/confine.py, 1 CPU second at most; items that raise, hang, print or give B the same
output as A are skipped). The memory protocol then asks A, accepts A's answer when it is right
(as a user would), and asks B with memory on and off.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from ponder.agent import confine

RUN_TIMEOUT_S = 1.0
LIMITS = confine.Limits(cpu_s=1, wall_s=RUN_TIMEOUT_S + 2, memory_mb=1024)

_RUNNER = """
import json, sys
ns = {}
exec(sys.stdin.read(), ns)
args = eval("(" + sys.argv[1] + ",)", {})
print(json.dumps(repr(ns["f"](*args))))
"""


def _mutants(value) -> list[Any]:
    """Small changes of one argument, most natural first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1, value * 2 + 3]
    if isinstance(value, str):
        out: list[Any] = []
        if len(value) > 1:
            out.append(value[:-1])
        out += [value + (value[0] if value else "a"), value[::-1], value.swapcase()]
        return out
    if isinstance(value, list | tuple):
        kind = type(value)
        out = []  # type: ignore[var-annotated]
        if len(value) > 1:
            out.append(kind(value[:-1]))
        if value:
            out += [kind(list(value) + [value[0]]), kind(list(value)[::-1])]
        return out
    if isinstance(value, dict) and value:
        first = next(iter(value))
        return [{k: v for k, v in value.items() if k != first}]
    return []


def run_f(code: str, args_text: str) -> str | None:
    """repr(f(*args)), or None when it raises, hangs or prints."""
    return run_python(_RUNNER, code, args_text)


def run_python(runner: str, code: str, args_text: str):
    """The one JSON line `runner` prints, run on `code` (stdin) and the arguments' text (argv),
    confined (agent/confine.py), RUN_TIMEOUT_S at most; None when it raises, hangs or prints
    anything else."""
    return confine.run_python(runner, stdin=code, args=(args_text,), limits=LIMITS).json_line()


def _mutated_args(args_text: str) -> Iterator[str]:
    """The arguments' text with one argument changed a little, most natural changes first."""
    try:
        args = ast.literal_eval(f"({args_text},)")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return
    for position, value in enumerate(args):
        for mutant in _mutants(value):
            new_args = list(args)
            new_args[position] = mutant
            yield ", ".join(repr(a) for a in new_args)


def mutated_inputs(args_text: str, extra: int) -> list[str]:
    """The given arguments' text, then up to `extra` different mutations of it."""
    found = [args_text]
    for text in _mutated_args(args_text):
        if len(found) > extra:
            break
        if text not in found:
            found.append(text)
    return found


def related_item(item: dict) -> dict | None:
    """A second question about the same function: a mutated input with its true output."""
    for text in _mutated_args(item["input"]):
        output = run_f(item["code"], text)
        if output is None or same_value(output, item["output"]):
            continue
        return {**item, "id": f"{item.get('id', '')}-b", "input": text, "output": output}
    return None


def same_value(a: str, b: str) -> bool:
    """Whether two answers written as Python literals are the same value (as text otherwise)."""
    try:
        return ast.literal_eval(a) == ast.literal_eval(b)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return a == b
