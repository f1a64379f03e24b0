"""Two sampling runs of the same items, paired: did the second's settings win or lose items?

    python scripts/compare_paths.py A.jsonl B.jsonl [--rules greedy,weighted+greedy@6]
    python scripts/compare_paths.py A1.jsonl,A2.jsonl,… B.jsonl   (a side held in several files)

A and B are saved-paths files (`ponder eval cruxeval --save-paths`) sampled with different
settings (say T=0.5 and T=0.7) or seeds (`--seed`: another draw of the samples). On the items
both hold, for each rule: each run's accuracy, the items B got right and A wrong (won) and the
reverse (lost), each run's unanimous answers and how many were right (what the shipped tables
call confident), and each run's time against A's greedy.
At n≈60 an accuracy's 95% interval is about ±12 points: the paired counts are the evidence.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.agent.evaluation import aggregate  # noqa: E402


def shared_outcomes(a: aggregate.Report, b: aggregate.Report, rule: aggregate.Rule) -> tuple:
    """Outcomes of the rule on the items both runs hold, in the same order."""
    pairs = aggregate.paired_items(a, b)
    return [a.apply(rule, x) for x, _ in pairs], [b.apply(rule, y) for _, y in pairs]


def describe(outs: list[aggregate.Outcome], k: int, greedy_seconds: float) -> str:
    """Accuracy, unanimous answers right (votes of k > 1 paths only) and time."""
    unanimous = [o for o in outs if o.agree == k]
    agreeing = (
        f"unanimous {sum(o.correct for o in unanimous)}/{len(unanimous)} right, " if k > 1 else ""
    )
    return (
        f"acc {sum(o.correct for o in outs) / len(outs):.3f}, {agreeing}"
        f"x{sum(o.seconds for o in outs) / greedy_seconds:.2f} A's greedy time"
    )


def main() -> None:
    parser = aggregate.two_runs_parser(__doc__)
    parser.add_argument("--rules", default="greedy,weighted+greedy@4,weighted+greedy@6")
    args = parser.parse_args()
    a, b = aggregate.saved_report(args.a), aggregate.saved_report(args.b)
    for name, files, run in (("A", args.a, a), ("B", args.b, b)):
        shown = ", ".join(map(str, files))
        print(f"{name}: {shown} (T={run.header['temperature']}, seed {run.header.get('seed', 0)})")
    greedy_a, _ = shared_outcomes(a, b, aggregate.parse_rule("greedy"))
    if not greedy_a:
        sys.exit("A and B hold no item in common: nothing to pair")
    greedy_seconds = sum(o.seconds for o in greedy_a)
    for name in args.rules.split(","):
        rule = aggregate.parse_rule(name)
        outs_a, outs_b = shared_outcomes(a, b, rule)
        won = sum(y.correct and not x.correct for x, y in zip(outs_a, outs_b, strict=True))
        lost = sum(x.correct and not y.correct for x, y in zip(outs_a, outs_b, strict=True))
        print(f"{rule.name} n={len(outs_a)}: B +{won}/-{lost} against A")
        print(f"  A: {describe(outs_a, rule.k, greedy_seconds)}")
        print(f"  B: {describe(outs_b, rule.k, greedy_seconds)}")


if __name__ == "__main__":
    main()
