"""Would starting the sampled paths only once the greedy path runs long bring the default under 2.5x?

    python scripts/samples_join_late.py scripts/results/paths-1.5b-T0.5-*.jsonl

Scored offline on saved paths, with `ponder eval aggregate`'s cost model. The greedy path decodes
alone; an item whose greedy path ends within L tokens gets greedy's answer at greedy's cost.
Otherwise the 5 sampled paths join the batch at step L (their prompt is already in the KV cache),
and the answer is the default's vote over all 6 (margin-weighted). Short greedy traces are right
more often than long ones, so this spends the samples where the vote gains most. One line per L:
accuracy, won/lost against greedy, x greedy's time, and how many answers had a unanimous vote of
6 (the only ones the shipped tables call confident) and how many of those were right.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.vote import key_of  # noqa: E402
from server.cli.evaluation import aggregate, harness  # noqa: E402

JOIN_AFTER = (0, 200, 250, 275, 300, 325, 350, 400)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    header, items = harness.read_many_paths([Path(f) for f in sys.argv[1:]], None)
    harness.rescore(items)
    report = aggregate.Report(header, items)
    greedy = report.outcomes(aggregate.Rule("greedy", "greedy"))
    greedy_seconds = sum(g.seconds for g in greedy)
    rule = aggregate.parse_rule("weighted+greedy@6")
    for join in JOIN_AFTER:
        right = won = lost = unanimous = unanimous_right = 0
        seconds = 0.0
        for item, g in zip(items, greedy, strict=True):
            paths = report.paths_for(rule, item)
            if paths[0]["tokens"] <= join:
                ok = g.correct
                seconds += g.seconds
            else:
                one_row = aggregate.step_cost(report.step_costs[item.get("run", "")], 1)
                lengths = [paths[0]["tokens"] - join] + [p["tokens"] for p in paths[1:]]
                seconds += item["prompt_s"] + join * one_row + report.decode_seconds(item, lengths)
                best = aggregate.vote_paths(paths, weighted=True)[1]
                ok = best is not None and best["correct"]
                if best is not None and all(_same_answer(p, best) for p in paths):
                    unanimous += 1
                    unanimous_right += ok
            right += ok
            won += ok and not g.correct
            lost += g.correct and not ok
        print(f"L={join}: n={len(items)} accuracy {right / len(items):.3f} "
              f"(+{won}/-{lost} vs greedy) x{seconds / greedy_seconds:.2f} greedy's time; "
              f"unanimous {unanimous_right} right of {unanimous}")  # fmt: skip


def _same_answer(path: dict, best: dict) -> bool:
    return key_of(path["answer"]) == key_of(best["answer"])


if __name__ == "__main__":
    main()
