"""How often the right answer is on screen: the chosen answer, or one of the other answers the
paths gave (the "votes" line ponder shows beside an answer whose paths disagree).

    python scripts/answers_listed.py FILE.jsonl [FILE.jsonl …] [--rule weighted+greedy@6]

Prints, over the items of the saved-paths files: the rule's answer right; the right answer among
all answers the paths gave; and on the items whose paths disagree (where the votes line shows),
both again, with the runner-up alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.vote import key_of  # noqa: E402
from server.cli.evaluation import aggregate  # noqa: E402


def ranks_right(report: aggregate.Report, rule: aggregate.Rule, item: dict) -> list[bool]:
    """For each group with an answer, heaviest first: whether its answer is right."""
    paths = report.paths_for(rule, item)
    result, _ = aggregate.vote_paths(paths, weighted=rule.vote == "weighted")
    right = {key_of(p["answer"]): p["correct"] for p in paths}
    return [right[key_of(g.answer)] for g in result.groups if g.answer.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--rule", default="weighted+greedy@6")
    args = parser.parse_args()
    rule = aggregate.parse_rule(args.rule)
    report = aggregate.saved_report(args.files)
    rows = [ranks_right(report, rule, item) for item in report.items]
    split = [r for r in rows if len(r) > 1]

    def line(label: str, hits: int, n: int) -> str:
        lo, hi = aggregate.wilson(hits, n)
        return f"{label:44} {hits:4d} of {n:4d}  {hits / n:.3f} [{lo:.2f}, {hi:.2f}]"

    print(f"{rule.name}, {len(rows)} items; {len(split)} whose paths gave more than one answer")
    print(line("answer right", sum(r[:1] == [True] for r in rows), len(rows)))
    print(line("right answer among the answers shown", sum(any(r) for r in rows), len(rows)))
    print(line("paths disagree: answer right", sum(r[0] for r in split), len(split)))
    print(line("paths disagree: runner-up right", sum(r[1] for r in split), len(split)))
    print(
        line(
            "paths disagree: right answer among those shown", sum(any(r) for r in split), len(split)
        )
    )


if __name__ == "__main__":
    main()
