"""When self-consistency's first answer shows, and when its vote does, with each schedule.

    python scripts/bench_first_answer.py [--model qwen2.5-coder-1.5b] [--items 6] [--every 97]

Asks CRUXEval dev items ("What does f(x) return?") through the pipeline and the real engine with
the default strategy (6 paths vote), once decoding them in one batch (`schedule: batch`) and once
decoding the greedy path alone first, then the 5 samples (`greedy_first`, the default on a CPU),
the prompt cached before both. With one batch nothing shows before the vote (the greedy path's
reasoning streams at the batch's pace); with greedy first, its answer shows when it ends.
Per item: seconds to the first answer and to the vote, and whether the two votes agree.
Last line: RESULT model=M items=N greedy_first_first_s=A greedy_first_vote_s=B batch_vote_s=C
first_answer_ratio=A/C vote_ratio=B/C
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.agent import models, pipeline  # noqa: E402
from ponder.agent.engine import LlamaEngine  # noqa: E402
from ponder.agent.evaluation.harness import load_items, question_for  # noqa: E402
from ponder.agent.settings import ReasonSettings  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cruxeval-dev.jsonl"


def timed(task: pipeline.Task, engine: LlamaEngine) -> tuple[float, float, str]:
    """Seconds to the first answer (the vote's, when none shows before), to the vote; the answer."""
    started = time.perf_counter()
    first: list[float] = []

    class FirstHeard(pipeline.Events):
        def first_answer(self, answer: str) -> None:
            if not first:
                first.append(time.perf_counter() - started)

    answer = pipeline.run(task, engine, events=FirstHeard())
    vote = time.perf_counter() - started
    return (first[0] if first else vote), vote, answer.answer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--items", type=int, default=6)
    parser.add_argument("--every", type=int, default=97, help="take every Nth dev item")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    resolved = models.resolve(args.model)
    engine = LlamaEngine(str(resolved.path), resolved.name)
    engine.load()
    options = ReasonSettings(strategy="self_consistency")
    totals = {"first": 0.0, "vote": 0.0, "batch": 0.0}
    same = 0
    items = load_items(args.data, args.items, every=args.every)
    for item in items:
        task = pipeline.Task(question_for(item), item["code"], "f.py", "python", 0, 0, options)
        engine.sample([{"role": "user", "content": "hi"}], k=1, max_tokens=1)  # a cold cache
        batch = timed(replace(task, options=replace(options, schedule="batch")), engine)
        engine.sample([{"role": "user", "content": "hi"}], k=1, max_tokens=1)
        first = timed(replace(task, options=replace(options, schedule="greedy_first")), engine)
        totals["first"] += first[0]
        totals["vote"] += first[1]
        totals["batch"] += batch[1]
        same += first[2] == batch[2]
        print(f"{item['id']}: greedy first: first answer {first[0]:.1f} s, vote {first[1]:.1f} s;"
              f" one batch: vote {batch[1]:.1f} s; same answer: {first[2] == batch[2]}",
              flush=True)  # fmt: skip
    n = len(items)
    print(f"votes agreeing between the schedules: {same} of {n}")
    print(
        f"RESULT model={resolved.name} items={n} greedy_first_first_s={totals['first'] / n:.1f} "
        f"greedy_first_vote_s={totals['vote'] / n:.1f} batch_vote_s={totals['batch'] / n:.1f} "
        f"first_answer_ratio={totals['first'] / totals['batch']:.2f} "
        f"vote_ratio={totals['vote'] / totals['batch']:.2f}"
    )


if __name__ == "__main__":
    main()
