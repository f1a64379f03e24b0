"""Two runs over the same items, paired: did B (say, with an adapter) win or lose items against A
(the base model)?

    python scripts/compare_evals.py --a A.json… --b B.json… [--strategy greedy]

Each side is one or more files: `ponder eval cruxeval --json` runs (chunks of one run, say) or
saved-paths files (`--save-paths`; their greedy path, its answer extracted again with today's
extractor). On the items both sides asked with the strategy: each side's accuracy with its 95%
(Wilson) interval, the items B got right and A wrong (won) and the reverse (lost), the difference
with a 95% interval (paired bootstrap over items), and seconds per item where the runs timed it
(a saved path's item time covers all its paths, so it is left out). Prints
`RESULT n=N a=ACC_A b=ACC_B diff=D diff_lo=L diff_hi=H won=W lost=Lo s_item_a=… s_item_b=…`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.agent.evaluation.aggregate import bootstrap_mean, wilson  # noqa: E402
from ponder.agent.evaluation.harness import PATHS_FORMAT, read_paths, rescore  # noqa: E402


def outcomes(files: list[Path], strategy: str) -> dict[str, tuple[bool, float | None]]:
    """Item id → (right, seconds or None) over all files of one side."""
    found: dict[str, tuple[bool, float | None]] = {}
    for path in files:
        first = path.read_text(encoding="utf-8").lstrip()[:200]
        if f'"format": "{PATHS_FORMAT}"' in first:
            _, items = read_paths(path)
            rescore(items)
            for item in items:
                greedy = next(p for p in item["paths"] if p["kind"] == "greedy")
                found[item["id"]] = (bool(greedy["correct"]), None)
        else:
            for item in json.loads(path.read_text(encoding="utf-8"))["items"]:
                if item["strategy"] == strategy:
                    found[item["id"]] = (bool(item["correct"]), float(item["seconds"]))
    return found


def seconds_per_item(side: dict[str, tuple[bool, float | None]], ids: list[str]) -> str:
    times = [side[i][1] for i in ids]
    return "n/a" if None in times else f"{np.mean(times):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, nargs="+", required=True, help="the baseline's files")
    parser.add_argument("--b", type=Path, nargs="+", required=True, help="the other run's files")
    parser.add_argument("--strategy", default="greedy", help="which strategy's items (default greedy)")  # fmt: skip
    args = parser.parse_args()
    a_side, b_side = outcomes(args.a, args.strategy), outcomes(args.b, args.strategy)
    ids = [i for i in b_side if i in a_side]
    if not ids:
        sys.exit(f"no {args.strategy} items on both sides")
    a = np.array([a_side[i][0] for i in ids], dtype=float)
    b = np.array([b_side[i][0] for i in ids], dtype=float)
    won, lost = int(((b == 1) & (a == 0)).sum()), int(((a == 1) & (b == 0)).sum())
    lo, hi = bootstrap_mean(b - a)  # paired: items resampled together
    s_a, s_b = seconds_per_item(a_side, ids), seconds_per_item(b_side, ids)
    for name, right, seconds in (("A", a, s_a), ("B", b, s_b)):
        low, high = wilson(int(right.sum()), len(ids))
        print(f"{name}: acc {right.mean():.3f} [{low:.3f}, {high:.3f}], {seconds} s/item")
    print(f"B against A on {len(ids)} items: won {won}, lost {lost}, "
          f"difference {b.mean() - a.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]")  # fmt: skip
    print(f"RESULT n={len(ids)} a={a.mean():.3f} b={b.mean():.3f} diff={b.mean() - a.mean():+.3f} "
          f"diff_lo={lo:+.3f} diff_hi={hi:+.3f} won={won} lost={lost} "
          f"s_item_a={s_a} s_item_b={s_b}")  # fmt: skip


if __name__ == "__main__":
    main()
