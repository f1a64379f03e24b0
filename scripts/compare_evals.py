"""Two `ponder eval cruxeval --json` runs of the same items, paired: did B (say, with an adapter)
win or lose items against A (the base model)?

    python scripts/compare_evals.py A.json B.json [--strategy greedy]

On the items both runs asked with the strategy: each run's accuracy with its 95% (Wilson)
interval, the items B got right and A wrong (won) and the reverse (lost), the difference with a
95% interval (paired bootstrap over items), and each run's seconds per item. Prints
`RESULT n=N a=ACC_A b=ACC_B diff=D diff_lo=L diff_hi=H won=W lost=Lo s_item_a=… s_item_b=…`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.agent.evaluation.aggregate import wilson  # noqa: E402


def outcomes(path: Path, strategy: str) -> dict[str, dict]:
    run = json.loads(path.read_text())
    return {item["id"]: item for item in run["items"] if item["strategy"] == strategy}


def paired_difference(a: np.ndarray, b: np.ndarray, draws: int = 10_000) -> tuple[float, float]:
    """95% interval of mean(b) - mean(a) by resampling items (seeded: the same every run)."""
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(a), size=(draws, len(a)))
    diffs = b[picks].mean(axis=1) - a[picks].mean(axis=1)
    return float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="the first run's --json file (the baseline)")
    parser.add_argument("b", type=Path, help="the second run's")
    parser.add_argument("--strategy", default="greedy", help="which strategy's items (default greedy)")  # fmt: skip
    args = parser.parse_args()
    a_items, b_items = outcomes(args.a, args.strategy), outcomes(args.b, args.strategy)
    ids = [i for i in a_items if i in b_items]
    if not ids:
        sys.exit(f"no {args.strategy} items in both {args.a} and {args.b}")
    a = np.array([a_items[i]["correct"] for i in ids], dtype=float)
    b = np.array([b_items[i]["correct"] for i in ids], dtype=float)
    won, lost = int(((b == 1) & (a == 0)).sum()), int(((a == 1) & (b == 0)).sum())
    lo, hi = paired_difference(a, b)
    s_a = np.mean([a_items[i]["seconds"] for i in ids])
    s_b = np.mean([b_items[i]["seconds"] for i in ids])
    for name, path, right, seconds in (("A", args.a, a, s_a), ("B", args.b, b, s_b)):
        low, high = wilson(int(right.sum()), len(ids))
        print(f"{name} {path}: acc {right.mean():.3f} [{low:.3f}, {high:.3f}], {seconds:.1f} s/item")  # fmt: skip
    print(f"B against A on {len(ids)} items: won {won}, lost {lost}, "
          f"difference {b.mean() - a.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]")  # fmt: skip
    print(f"RESULT n={len(ids)} a={a.mean():.3f} b={b.mean():.3f} diff={b.mean() - a.mean():+.3f} "
          f"diff_lo={lo:+.3f} diff_hi={hi:+.3f} won={won} lost={lost} "
          f"s_item_a={s_a:.1f} s_item_b={s_b:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
