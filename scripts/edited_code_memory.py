"""Memory when the user edits a function and asks the same question again.

    python scripts/edited_code_memory.py --limit 20 [--offset 0 --model qwen2.5-coder-1.5b] [--keep-output]

The related set (`ponder eval related`) changes the input; an editor user also changes the code.
For each dev item, B is the same question on the function with one integer constant changed by
one (the first such edit that runs and changes the output; the true output by running it, as
the related set does). A (the original) is asked with memory off and accepted into a fresh
store when right; B is asked with memory off and on, retrieving as the product does (A's trace
is not "this same code", so it is shown whole as an earlier turn when similar enough). Greedy.
`--keep-output` takes the first such edit that leaves the output as it was instead (a constant
in a branch this input never takes, a bound it never reaches): A's remembered answer is then
B's right answer too.

A copy guard is scored on the same answers: where B's answer with memory is A's remembered one,
ask again without memory and take that answer. `fired` counts the answers it changes (the
memory-off answer differs); in use it would ask again for every answer equal to the remembered
one, a second decode each (`scripts/copy_guard.py` counts those as fired).

Prints one line per pair and `RESULT n=N memory_off=… memory_on=… won=W lost=L shown=S
guarded=… guard_won=… guard_lost=… fired=F` (won and lost against memory off).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import models  # noqa: E402
from agent.engine import LlamaEngine  # noqa: E402
from agent.settings import ReasonSettings  # noqa: E402
from memory.embedder import make_embedder  # noqa: E402
from memory.store import TraceStore  # noqa: E402
from server.cli.evaluation.harness import (  # noqa: E402
    RelatedResult,
    ask,
    load_items,
    question_for,
    score,
    summarise_related,
)
from server.cli.evaluation.related import run_f, same_value  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/cruxeval-dev.jsonl"


def edited_item(item: dict, keep_output: bool = False) -> dict | None:
    """The item with one integer constant of its code changed by one, where that changes f's
    output for the same input (or, with keep_output, leaves it as it was); None when no such
    edit runs."""
    try:
        tree = ast.parse(item["code"])
    except SyntaxError:
        return None
    constants = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and type(node.value) is int
    ]
    lines = item["code"].splitlines(keepends=True)
    for node in constants:
        line = lines[node.lineno - 1]
        if node.lineno != node.end_lineno or not line.isascii():  # offsets count UTF-8 bytes
            continue
        for change in (1, -1):  # the source kept as written but for the one number
            number = repr(node.value + change)
            edited = line[: node.col_offset] + number + line[node.end_col_offset :]
            code = "".join(lines[: node.lineno - 1] + [edited] + lines[node.lineno :])
            output = run_f(code, item["input"])
            if output is not None and same_value(output, item["output"]) == keep_output:
                return {**item, "id": f"{item['id']}-edited", "code": code, "output": output}
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=20, help="pairs to ask")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument(
        "--keep-output", action="store_true", help="edits that leave the output as it was"
    )
    args = parser.parse_args()
    pairs = []
    for item in load_items(args.data, offset=args.offset):
        if (edited := edited_item(item, args.keep_output)) is not None:
            pairs.append((item, edited))
        if len(pairs) >= args.limit:
            break
    resolved = models.resolve(args.model)
    engine = LlamaEngine(str(resolved.path), resolved.name)
    options = dataclasses.replace(ReasonSettings(), strategy="greedy", step_back=False)
    store = TraceStore(tempfile.mkdtemp(prefix="ponder-edited-"), make_embedder("minilm")).open()
    results = []
    guarded = []  # whether the guard's answer is right, per pair
    fired_count = 0
    for n, (a, b) in enumerate(pairs):
        answer = ask(a, engine, options)
        a_ok = score(a["output"], answer.answer)
        if a_ok:
            store.add({**dataclasses.asdict(answer), "tags": ["eval-edited"]})
        off = ask(b, engine, options)
        found = store.search(question_for(b), b["code"])
        # With nothing to show the prompt is off's, and so is the greedy answer (as in the
        # related set): not asked again.
        on = ask(b, engine, options, recall=store.search) if found else off
        r = RelatedResult(
            id=a["id"], a_correct=a_ok, b_off=score(b["output"], off.answer),
            b_on=score(b["output"], on.answer), b_on_memories=len(on.memories), unrelated=None,
            b_prediction_off=off.answer, b_prediction_on=on.answer,
        )  # fmt: skip
        results.append(r)
        copied = a_ok and bool(on.memories) and same_value(on.answer, answer.answer)
        fired = copied and not same_value(off.answer, on.answer)
        guarded.append(r.b_off if fired else r.b_on)
        fired_count += fired
        print(f"[{n + 1}/{len(pairs)}] {r.id}: A {'ok' if a_ok else '--'}, B off "
              f"{off.answer!r} {'ok' if r.b_off else '--'}, on {on.answer!r} "
              f"{'ok' if r.b_on else '--'} ({r.b_on_memories} shown"
              f"{'; guard fired' if fired else ''}; A's output "
              f"{a['output']!r}, B's {b['output']!r})", flush=True)  # fmt: skip
    s = summarise_related(results)
    print(f"RESULT n={s['n']} memory_off={s['b_off']:.3f} memory_on={s['b_on']:.3f} "
          f"won={s['b_on_wins']} lost={s['b_on_losses']} shown={s['retrieved_same']} "
          f"guarded={sum(guarded) / max(len(guarded), 1):.3f} "
          f"guard_won={sum(g and not r.b_off for g, r in zip(guarded, results, strict=True))} "
          f"guard_lost={sum(r.b_off and not g for g, r in zip(guarded, results, strict=True))} "
          f"fired={fired_count}")  # fmt: skip


if __name__ == "__main__":
    main()
