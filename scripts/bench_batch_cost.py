"""What one decode step costs with r rows in the batch, relative to one row, in one run.

    python scripts/bench_batch_cost.py [--model qwen2.5-coder-1.5b] [--max-rows 8] [--tokens 48]
        [--reps 3] [--threads 0]

Two kinds of rows, both through ponder's engine: r paths decoded together (self-consistency:
the greedy path and r-1 sampled ones), and one greedy path that feeds r-1 drafted tokens with its
next one (speculation's verify step; the drafts are the path's own earlier tokens, so most are
rejected, which changes nothing in what the step costs). Each size is run `--reps` times in turn
and the median ms per step is kept. The ratios say what self-consistency and speculation can
gain here: on a CPU, time follows rows, and llama.cpp's matrix kernels take rows in fours.
Last line: RESULT model=M step_ms_1=X paths_2=.. paths_8=.. verify_2=.. verify_8=..
extra_row=E auto=S (each figure a step's time over a one-row step's; E an extra row's cost as a
fraction of one row's, from the widest batch, and S the schedule `reason.schedule: auto` picks
from it: `batch` below 1/3).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ponder.agent.engine as engine_module  # noqa: E402
from ponder.agent import models, speculation  # noqa: E402
from ponder.agent.engine import LlamaEngine  # noqa: E402

PROMPT = [
    {
        "role": "user",
        "content": "Explain step by step, at length, how Python's dict works internally: "
        "hashing, probing, resizing, ordering.",
    }
]


class FixedDrafter(speculation.Drafter):
    """Always proposes `size` tokens (the path's latest ones): a verify step of size + 1 rows."""

    size = 0

    def propose(self, limit: int) -> list[int]:
        draft = self.tokens[-self.size :][:limit] if self.size else []
        self.proposed += len(draft)
        return draft

    def accept(self, proposed: int, accepted: int) -> None:
        self.accepted += accepted


def ms_per_step(engine: LlamaEngine, rows: int, kind: str, tokens: int, seed: int) -> float:
    if kind == "paths":
        engine.speculation = "off"
        engine.sample(PROMPT, k=rows, temperature=0.5, greedy_first=True, max_tokens=tokens,
                      seed=seed)  # fmt: skip
        steps, seconds = engine.last_stats.steps[rows]
    else:
        engine.speculation = "ngram"
        FixedDrafter.size = rows - 1
        engine.sample(PROMPT, k=1, max_tokens=tokens)
        steps, seconds = engine.last_stats.steps[1]
    return 1000 * seconds / steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--max-rows", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: one per core)")
    args = parser.parse_args()
    resolved = models.resolve(args.model)
    engine = LlamaEngine(str(resolved.path), resolved.name, context_size=4096,
                         threads=args.threads)  # fmt: skip
    engine.load()
    engine_module.Drafter = FixedDrafter  # type: ignore[misc]
    engine.sample(PROMPT, k=1, max_tokens=1)  # the prompt is cached for every run below
    sizes = range(1, args.max_rows + 1)
    times: dict[tuple[str, int], list[float]] = {}
    for rep in range(args.reps):
        for kind in ("paths", "verify"):
            for rows in sizes:
                ms = ms_per_step(engine, rows, kind, args.tokens, rep)
                times.setdefault((kind, rows), []).append(ms)
    one = statistics.median(times[("paths", 1)] + times[("verify", 1)])
    print("rows  paths ms/step (x one row)  verify ms/step (x one row)")
    for rows in sizes:
        p, v = (statistics.median(times[(kind, rows)]) for kind in ("paths", "verify"))
        print(f"{rows:4d}  {p:8.1f} ({p / one:4.2f})             {v:8.1f} ({v / one:4.2f})")
    ratios = " ".join(
        f"{kind}_{rows}={statistics.median(times[(kind, rows)]) / one:.2f}"
        for kind in ("paths", "verify")
        for rows in sizes
        if rows > 1
    )
    # What `reason.schedule: auto` would choose from these steps (agent/step_costs.py).
    # Unmeasured (fewer than MIN_STEPS steps of a size, e.g. a small --tokens): the GPU rule.
    extra = engine.step_costs.extra_row_cost()
    measured = "unmeasured" if extra is None else f"{extra:.2f}"
    auto = "batch" if engine.batches_cheaply else "greedy_first"
    print(
        f"RESULT model={resolved.name} step_ms_1={one:.1f} {ratios} extra_row={measured} auto={auto}"
    )


if __name__ == "__main__":
    main()
