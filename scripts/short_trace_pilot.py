"""Can the vote's samples be made cheaper by asking for shorter traces? A pilot on the greedy path.

    python scripts/short_trace_pilot.py scripts/results/paths-1.5b-T0.5-{continued,heldout*}.jsonl \
        --limit 20 --every 32 --style asked

On a CPU where a decode step's cost grows with its rows (a 5-row step 4.4x a one-row step on the
2-core machines), the greedy-first vote costs greedy's time plus the 5 samples' batch. At 2.5x
greedy's time that leaves the batch 1.5x, so the samples would have to be at most ~0.34 of greedy's
length. This decodes the greedy path with a shorter-trace prompt and compares its length and
answer with the saved greedy path of the same item (the default prompt):

- `asked`: the trace hint asks for no sentences, one `name = value` line per changed value, and the
  reply starts with "Trace:" (a prefilled start, so the model cannot open with its usual prose);
- `code`: the reply starts inside a ```python block, for a trace written as code;
- `direct`: no trace: the reply starts with the answer tag and ends at its line (CRUXEval's
  direct output prediction).

Prints one line per item and `RESULT n=… style=… short_tokens=… saved_tokens=… length_ratio=…
short_right=… saved_right=…`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import models, pipeline, prompts  # noqa: E402
from agent.answer import extract  # noqa: E402
from agent.engine import LlamaEngine  # noqa: E402
from agent.errors import PonderError  # noqa: E402
from server.cli.evaluation.harness import load_items, question_for, read_many_paths, score  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/cruxeval-dev.jsonl"
SHORT_HINT = (
    "Trace the execution as compactly as you can: no sentences, only one `name = value` line for "
    "each value that changes. Then give the exact return value as a Python literal."
)
DIRECT_HINT = "Do not explain: give only the exact return value as a Python literal."
STYLES = {  # style → (the trace hint, the reply's prefilled start, where the reply stops)
    "asked": (SHORT_HINT, "Trace:\n", pipeline.STOP),
    "code": (SHORT_HINT, "```python\n", pipeline.STOP),
    "direct": (DIRECT_HINT, f"{prompts.ANSWER_TAG} ", ("\n",)),
}


class StartedEngine(LlamaEngine):
    """An engine whose reply begins with `start` (tokens fed after the prompt)."""

    start = ""

    def prompt_tokens(self, messages):
        return super().prompt_tokens(messages) + self._plain_tokens(self.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="saved-paths files of the same model")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--offset", type=int, default=3)
    parser.add_argument("--every", type=int, default=32)
    parser.add_argument("--style", choices=sorted(STYLES), default="asked")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    args = parser.parse_args()
    try:
        _, saved_items = read_many_paths(args.paths, args.model)
    except PonderError as e:
        sys.exit(str(e))
    saved = {it["id"]: it["paths"][0] for it in saved_items}  # path 0: the greedy one
    items = [it for it in load_items(args.data, None, args.offset, args.every) if it["id"] in saved]
    items = items[: args.limit]
    resolved = models.resolve(args.model)
    engine = StartedEngine(str(resolved.path), resolved.name)
    prompts.TRACE_HINT, engine.start, stop = STYLES[args.style]  # read by trace_hint at each call
    short_tokens = saved_tokens = short_right = saved_right = 0
    for n, item in enumerate(items):
        task = pipeline.Task(question_for(item), item["code"], "f.py", "python", 0, 0)
        [path] = engine.sample(
            pipeline.messages_for(task), k=1, max_tokens=512, stop=stop,
            answer_tag=prompts.ANSWER_TAG,
        )  # fmt: skip
        right = score(item["output"], extract(engine.start + path.text).answer)
        greedy = saved[item["id"]]
        short_tokens += path.completion_tokens
        saved_tokens += greedy["tokens"]
        short_right += right
        saved_right += bool(greedy["correct"])
        print(f"[{n + 1}/{len(items)}] {item['id']}: {path.completion_tokens} tokens "
              f"({'ok' if right else '--'}) against {greedy['tokens']} "
              f"({'ok' if greedy['correct'] else '--'}): {path.text[:80]!r}", file=sys.stderr)  # fmt: skip
    print(f"RESULT n={len(items)} style={args.style} short_tokens={short_tokens} "
          f"saved_tokens={saved_tokens} length_ratio={short_tokens / max(saved_tokens, 1):.2f} "
          f"short_right={short_right} saved_right={saved_right}")  # fmt: skip


if __name__ == "__main__":
    main()
