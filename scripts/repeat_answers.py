"""Does the same greedy question get the same answer when asked again?

    python scripts/repeat_answers.py [--model qwen2.5-coder-1.5b] [--items 8] [--every 37]
                                     [--strategy greedy]

Asks CRUXEval dev items through the pipeline and the real engine (greedy, or another strategy:
its samples are seeded, so its answer too is a function of the question) three times each:
after an unrelated prompt (a cold cache), again at once (the whole prompt cached), and after the
next item's question (a shared prefix cached, then another tail). A greedy answer is a function
of the question; when the KV cache's reuse changes how the prompt's tokens are evaluated, a
near-tie between two tokens can tip and the reasoning (and answer) differ: before the engine
reused whole prompt chunks only, 1 of 6 greedy answers' texts was the same asked again.
Per item: whether each repeat's text equals the first. Last line:
RESULT model=M strategy=S items=N same_again=A same_after_other=B
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import models  # noqa: E402
from agent.engine import LlamaEngine  # noqa: E402
from agent.settings import ReasonSettings  # noqa: E402
from server.cli.evaluation.harness import ask, load_items  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cruxeval-dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--every", type=int, default=37, help="take every Nth dev item")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--strategy", default="greedy", help="greedy, self_consistency, auto, …")
    args = parser.parse_args()
    resolved = models.resolve(args.model)
    engine = LlamaEngine(str(resolved.path), resolved.name)
    options = dataclasses.replace(ReasonSettings(), strategy=args.strategy, step_back=False)
    items = load_items(args.data, args.items + 1, every=args.every)
    same_again = same_after_other = 0
    for item, other in zip(items, items[1:], strict=False):
        engine.sample([{"role": "user", "content": "hi"}], k=1, max_tokens=1)  # a cold cache
        first = ask(item, engine, options)
        again = ask(item, engine, options)
        ask(other, engine, options)
        after_other = ask(item, engine, options)
        again_same = again.rationale == first.rationale
        after_other_same = after_other.rationale == first.rationale
        same_again += again_same
        same_after_other += after_other_same
        print(
            f"{item['id']}: {first.answer!r}; again {again.answer!r} (same text: {again_same}); "
            f"after another question {after_other.answer!r} (same text: {after_other_same})",
            flush=True,
        )
    n = len(items) - 1
    print(
        f"RESULT model={resolved.name} strategy={args.strategy} items={n} same_again={same_again}/{n} "
        f"same_after_other={same_after_other}/{n}"
    )


if __name__ == "__main__":
    main()
