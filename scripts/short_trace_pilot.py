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

With `--samples K`: K paths of the style sampled at T=0.5 (at most `--max-tokens` each) vote
with the saved greedy path, by majority (`agent.vote`; the greedy path wins ties): a vote whose
extra paths cost a fraction of the default's. Its last line is `RESULT n=… style=… samples=K
greedy=… vote=… won=… lost=… default=… time_ratio≈…`, against the saved default vote (its 6
paths, margin-weighted) on the same items; the time ratio is estimated as 1 + the samples'
decode seconds over greedy's (the prompt as measured here, its saved tokens at `--step-ms`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import models, pipeline, prompts  # noqa: E402
from agent.answer import extract  # noqa: E402
from agent.errors import PonderError  # noqa: E402
from agent.vote import Ballot, vote  # noqa: E402
from scripts.fork_eval import PrefixEngine  # noqa: E402
from server.cli.evaluation import aggregate  # noqa: E402
from server.cli.evaluation.harness import load_items, question_for, score  # noqa: E402

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
GREEDY = aggregate.Rule("greedy", "greedy")
DEFAULT = aggregate.parse_rule("weighted+greedy@6")  # as scripts/time_what_ifs.py scores it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="saved-paths files of the same model")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--offset", type=int, default=3)
    parser.add_argument("--every", type=int, default=32)
    parser.add_argument("--style", choices=sorted(STYLES), default="asked")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument(
        "--samples", type=int, default=0, help="sampled paths that vote with greedy"
    )
    parser.add_argument("--max-tokens", type=int, default=128, help="per sampled path")
    parser.add_argument("--step-ms", type=float, default=62.0, help="a one-path step here")
    args = parser.parse_args()
    try:
        report = aggregate.saved_report(args.paths)
    except PonderError as e:
        sys.exit(str(e))
    if report.header.get("model") != args.model:
        sys.exit(f"the saved paths are {report.header.get('model')}'s, not {args.model}'s")
    saved = {it["id"]: it for it in report.items}
    items = [it for it in load_items(args.data, None, args.offset, args.every) if it["id"] in saved]
    items = items[: args.limit]
    resolved = models.resolve(args.model)
    engine = PrefixEngine(str(resolved.path), resolved.name)
    prompts.TRACE_HINT, start, stop = STYLES[args.style]  # read by trace_hint at each call
    engine.load()
    engine.prefix = engine._plain_tokens(start)  # the reply begins with `start`
    if args.samples:
        vote_with_greedy(engine, start, items, report, saved, stop, args)
        return
    short_tokens = saved_tokens = short_right = saved_right = 0
    for n, item in enumerate(items):
        task = pipeline.Task(question_for(item), item["code"], "f.py", "python", 0, 0)
        [path] = engine.sample(
            pipeline.messages_for(task), k=1, max_tokens=512, stop=stop,
            answer_tag=prompts.ANSWER_TAG,
        )  # fmt: skip
        right = score(item["output"], extract(start + path.text).answer)
        greedy = saved[item["id"]]["paths"][0]  # path 0: the greedy one
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


def vote_with_greedy(
    engine: PrefixEngine, start: str, items: list[dict], report, saved: dict, stop, args
) -> None:
    totals = dict.fromkeys(
        ("greedy", "vote", "won", "lost", "default", "sample_s", "greedy_s"), 0.0
    )
    for n, item in enumerate(items):
        task = pipeline.Task(question_for(item), item["code"], "f.py", "python", 0, 0)
        started = time.perf_counter()
        paths = engine.sample(
            pipeline.messages_for(task), k=args.samples, temperature=0.5,
            max_tokens=args.max_tokens, stop=stop, answer_tag=prompts.ANSWER_TAG, seed=n,
        )  # fmt: skip
        sample_s = time.perf_counter() - started
        kept = saved[item["id"]]
        greedy = kept["paths"][0]
        answers = [greedy["answer"]] + [extract(start + p.text).answer for p in paths]
        winner = vote([Ballot(a, "", 0.0) for a in answers]).winner
        voted = score(item["output"], winner.answer) if winner else False
        greedy_ok = report.apply(GREEDY, kept).correct
        totals["greedy"] += greedy_ok
        totals["vote"] += voted
        totals["won"] += voted and not greedy_ok
        totals["lost"] += greedy_ok and not voted
        totals["default"] += report.apply(DEFAULT, kept).correct
        prompt_s = engine.last_stats.prompt_s  # paid once: greedy's, and cached for the samples
        totals["sample_s"] += sample_s - prompt_s
        totals["greedy_s"] += prompt_s + greedy["tokens"] * args.step_ms / 1000
        print(f"[{n + 1}/{len(items)}] {item['id']}: greedy {'ok' if greedy_ok else '--'} vote "
              f"{'ok' if voted else '--'} {[a[:16] for a in answers]} {sample_s:.0f} s, "
              f"{sum(p.completion_tokens for p in paths)} tokens", file=sys.stderr)  # fmt: skip
    t, n = totals, len(items)
    ratio = 1 + t["sample_s"] / max(t["greedy_s"], 1e-9)
    print(f"RESULT n={n} style={args.style} samples={args.samples} greedy={t['greedy'] / n:.3f} "
          f"vote={t['vote'] / n:.3f} won={t['won']:.0f} lost={t['lost']:.0f} "
          f"default={t['default'] / n:.3f} time_ratio≈{ratio:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
