"""Would stopping the batch soon after the greedy path ends bring the default under 2.5x?

    python scripts/stop_with_greedy.py scripts/results/paths-1.5b-T0.5-*.jsonl

Scored offline on saved paths, with `ponder eval aggregate`'s cost model: the default's batch
(the greedy path + 5 sampled, margin-weighted votes) is stopped at C times the greedy path's
length; paths not finished by then do not vote (pessimistic: ponder would ask each for its
answer line, a few tokens more). One line per C: accuracy, won/lost against greedy, x greedy's time.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.cli.evaluation import aggregate, harness  # noqa: E402

FACTORS = (1.0, 1.2, 1.5, 2.0, 3.0)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    header, items = harness.read_many_paths([Path(f) for f in sys.argv[1:]], None)
    harness.rescore(items)
    report = aggregate.Report(header, items)
    greedy = report.outcomes(aggregate.Rule("greedy", "greedy"))
    greedy_seconds = sum(g.seconds for g in greedy)
    rule = aggregate.parse_rule("weighted+greedy@6")
    for factor in FACTORS:
        right = won = lost = 0
        seconds = 0.0
        for item, g in zip(items, greedy, strict=True):
            paths = report.paths_for(rule, item)
            stop = int(factor * paths[0]["tokens"])
            finished = [p for p in paths if p["tokens"] <= stop]
            seconds += item["prompt_s"] + report.decode_seconds(
                item, [min(p["tokens"], stop) for p in paths]
            )
            best = aggregate.vote_paths(finished, weighted=True)[1]
            ok = best is not None and best["correct"]
            right += ok
            won += ok and not g.correct
            lost += g.correct and not ok
        print(f"C={factor}: n={len(items)} accuracy {right / len(items):.3f} "
              f"(+{won}/-{lost} vs greedy) x{seconds / greedy_seconds:.2f} greedy's time")  # fmt: skip


if __name__ == "__main__":
    main()
