"""Memory as a check after the answer, on related questions: does the 1.5B correct its own trace
of B when shown, afterwards, the trace the user verified for A?

    python scripts/check_with_memory.py --limit 60 [--offset 0 --model qwen2.5-coder-1.5b]

Six ways of showing A's accepted trace *before* B's question were measured (`ponder eval related
--same-code …`, docs/evaluation.md): the model copied A's answer or its values. Here B is first
answered without memory, as the product does today; then, where A was right (and so accepted),
the conversation goes on: A's question, verified reasoning and answer, and B's own reasoning to
be checked step by step against how the code behaved there, keeping what agrees. The model's
own answer is the anchor, not A's. The pairs are `ponder eval related`'s (the first `--limit`
dev items from `--offset` that have a second input), greedy, A asked without memory. A's trace
is taken straight from its answer: retrieval always found it (same code, the question's own
form; `ponder eval related` retrieved every accepted A).

Prints one line per pair and `RESULT n=N memory_off=… memory_on=… won=W lost=L shown=S
changed=C copied=K` (won and lost against memory off; changed: checked answers that differ from
B's first one; copied: checked answers equal to A's).

Measured (session 28, the 1.5B, stopped after 12 pairs): 8 of the 9 checked answers were A's
exact output, 5 right answers lost and none won (`scripts/results/check-with-memory-1.5b-first12.log`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import models, pipeline, prompts  # noqa: E402
from agent.answer import extract  # noqa: E402
from agent.engine import LlamaEngine  # noqa: E402
from agent.settings import ReasonSettings  # noqa: E402
from server.cli.evaluation.harness import ask, load_items, question_for, score  # noqa: E402
from server.cli.evaluation.related import related_item, same_value  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/cruxeval-dev.jsonl"


def check_turn(a_question: str, a_answer: pipeline.Answer) -> str:
    """The user's second turn: A's verified trace, then B's reasoning to be checked against it."""
    return (
        "For reference, the user verified this reasoning about the same code, for another input:"
        f"\n\nQuestion: {a_question}\n{a_answer.rationale.strip()}\n{prompts.ANSWER_TAG} "
        f"{a_answer.answer}\n\nThat input is not yours, so your answer may well differ. Go "
        "through your reasoning above again, step by step, and compare each operation with how "
        "the code behaved in the verified reasoning. Where one of your steps applies an "
        "operation differently from how it behaved there, correct that step and those after it; "
        "keep the steps that agree. End with the answer line for your input."
    )


def checked(
    engine: LlamaEngine, b: dict, first: pipeline.Answer, a: dict, a_answer: pipeline.Answer
) -> str:
    """B's answer after the check turn (greedy, cut-off paths made to write their answer line)."""
    task = pipeline.Task(question_for(b), b["code"], "f.py", "python", 0, 0, ReasonSettings())
    messages = pipeline.messages_for(task) + [
        {"role": "assistant", "content": f"{first.rationale.strip()}\n{prompts.ANSWER_TAG} "
         f"{first.answer}"},
        {"role": "user", "content": check_turn(question_for(a), a_answer)},
    ]  # fmt: skip
    done = engine.sample(messages, k=1, stop=pipeline.STOP, answer_tag=prompts.ANSWER_TAG)
    return extract(done[0].text).answer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=60, help="pairs to ask")
    parser.add_argument("--offset", type=int, default=0, help="dev items to skip first")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    args = parser.parse_args()
    pairs = []
    for item in load_items(args.data, offset=args.offset):
        second = related_item(item)
        if second is not None:
            pairs.append((item, second))
        if len(pairs) >= args.limit:
            break
    resolved = models.resolve(args.model)
    engine = LlamaEngine(str(resolved.path), resolved.name, context_size=4096)
    engine.load()
    options = ReasonSettings(strategy="greedy")
    off = on = won = lost = shown = changed = copied = 0
    started = time.perf_counter()
    for n, (a, b) in enumerate(pairs, start=1):
        a_answer = ask(a, engine, options)
        first = ask(b, engine, options)
        b_off = score(b["output"], first.answer)
        b_on, note = b_off, ""
        if score(a["output"], a_answer.answer):  # accepted: the check turn shows its trace
            answer = checked(engine, b, first, a, a_answer)
            b_on = score(b["output"], answer)
            shown += 1
            changed += not same_value(answer, first.answer)
            copied += same_value(answer, a_answer.answer)
            note = f" | checked {answer!r}"
        off += b_off
        on += b_on
        won += b_on and not b_off
        lost += b_off and not b_on
        print(f"[{n}/{len(pairs)}] {a['id']}: B {b['output']!r} off {first.answer!r} "
              f"{'ok' if b_off else '--'}{note} {'ok' if b_on else '--'} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    count = len(pairs)
    print(f"RESULT n={count} memory_off={off / count:.3f} memory_on={on / count:.3f} won={won} "
          f"lost={lost} shown={shown} changed={changed} copied={copied}")  # fmt: skip


if __name__ == "__main__":
    main()
