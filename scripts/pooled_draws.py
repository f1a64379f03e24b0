"""A rule's expected accuracy over draws, on items sampled twice (two seeds).

    python scripts/pooled_draws.py A1.jsonl,A2.jsonl,… B1.jsonl,… [--rule weighted+greedy@6]

One draw of 5 samples per item moves a rule's accuracy by several points on 100 items (two seeds
of the same items differed by +2 / -12). On the items both runs hold, this pools each item's
samples from both runs (10) and its two greedy paths, and averages the rule's correctness over
many draws of one greedy path and k-1 samples from the pool: the rule's expected accuracy on
these items, with less of one draw's luck in it. Greedy's is the mean of its two paths.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.cli.evaluation import aggregate  # noqa: E402


def expected(a: aggregate.Report, b: aggregate.Report, rule: aggregate.Rule, draws: int,
             seed: int = 0) -> tuple[int, float, float]:  # fmt: skip
    """(items paired, the rule's expected accuracy, greedy's) on the items both runs hold."""
    rng = random.Random(seed)
    pairs = aggregate.paired_items(a, b)
    rule_total = greedy_total = 0.0
    for x, y in pairs:
        greedy = [x["paths"][0], y["paths"][0]]
        pool = x["paths"][1:] + y["paths"][1:]
        if len(pool) < rule.k - 1:
            raise SystemExit(f"{rule.name} needs {rule.k - 1} samples; the runs pool {len(pool)}")
        right = 0
        for n in range(draws):
            drawn = {**x, "paths": [greedy[n % 2], *rng.sample(pool, rule.k - 1)]}
            right += a.apply(rule, drawn).correct
        rule_total += right / draws
        greedy_total += (greedy[0]["correct"] + greedy[1]["correct"]) / 2
    n = len(pairs)
    return n, rule_total / n if n else 0.0, greedy_total / n if n else 0.0


def main() -> None:
    parser = aggregate.two_runs_parser(__doc__)
    parser.add_argument("--rule", default="weighted+greedy@6")
    parser.add_argument("--draws", type=int, default=200, help="draws per item")
    args = parser.parse_args()
    rule = aggregate.parse_rule(args.rule)
    if not rule.greedy or rule.adaptive or rule.early or rule.first:
        sys.exit(
            "--rule: a vote over the greedy path and samples in one batch (e.g. weighted+greedy@6)"
        )
    a, b = aggregate.saved_report(args.a), aggregate.saved_report(args.b)
    n, rule_acc, greedy_acc = expected(a, b, rule, args.draws)
    if not n:
        sys.exit("the two runs hold no item in common: nothing to pool")
    print(f"n={n} {rule.name} expected {rule_acc:.3f}, greedy {greedy_acc:.3f}, "
          f"{100 * (rule_acc - greedy_acc):+.1f} points ({args.draws} draws per item from "
          f"{len(a.items[0]['paths']) - 1 + len(b.items[0]['paths']) - 1} pooled samples)")  # fmt: skip


if __name__ == "__main__":
    main()
