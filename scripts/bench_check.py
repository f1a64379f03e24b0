"""Check by running on dev items: how often the default vote's answer is refuted, and what the
model's second look says about the refuted ones.

    python scripts/bench_check.py [FILE…] [--rule weighted+greedy@6] [--second-looks 20]
        [--model qwen2.5-coder-1.5b] [--out runs/second-looks.md]

FILEs are saved paths (default: the 12 files the shipped tables were fitted on, all 640 dev
items); each item's answer is the rule's winner, as the editor would show it. Every item is
checked as "Ponder: check by running" does (agent/check.py: the question's call run after the
function, confined). Prints the share verified / refuted / could not run with 95% intervals, and
how often the check's verdict agrees with the benchmark's own scoring of the answer (they must:
both compare with what running gives). Then the first N refuted items get the model's second
look (greedy, as in the editor); they are written to --out with the function, the claimed and
the real value, to be read: whether the second look names the line where the code and the
reasoning part is judged by reading, not by a script.
Last line: RESULT n=N verified=V refuted=R could_not_run=C agree=A second_looks=K s_look=T
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.agent import models  # noqa: E402
from ponder.agent.answer import extract  # noqa: E402
from ponder.agent.check import AnsweredPath, check, second_look  # noqa: E402
from ponder.agent.evaluation.aggregate import parse_rule, saved_report, wilson  # noqa: E402
from ponder.agent.evaluation.harness import question_for  # noqa: E402

SAVED = Path(__file__).resolve().parents[1] / "docs" / "saved-paths"
FIRST_DRAW = ["continued", "heldout"] + [f"heldout{n}" for n in range(2, 12)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="saved-paths files (default: the first draw)")  # fmt: skip
    parser.add_argument("--rule", default="weighted+greedy@6", help="the vote (default: ponder's)")
    parser.add_argument("--second-looks", type=int, default=20, help="refuted items to ask again")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", help="for the second looks")
    parser.add_argument("--out", type=Path, default=Path("runs/second-looks.md"))
    args = parser.parse_args()
    files = args.files or [SAVED / f"paths-1.5b-T0.5-{name}.jsonl" for name in FIRST_DRAW]
    report = saved_report(files)
    data = Path(report.header["data"])
    code_of = {}
    for line in data.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            code_of[item["id"]] = item["code"]
    rule = parse_rule(args.rule)
    counts = {"verified": 0, "refuted": 0, "could not run": 0}
    agree = 0
    refuted = []
    for n, item in enumerate(report.items, 1):
        outcome = report.apply(rule, item)
        question = item.get("question") or question_for(item)
        checked = check(code_of[item["id"]], question, outcome.answer)
        counts[checked.verdict] += 1
        agree += (checked.verdict == "verified") == outcome.correct
        if checked.verdict == "refuted":
            winner = next(p for p in item["paths"] if p["answer"] == outcome.answer)
            refuted.append((item, question, outcome.answer, winner["text"], checked))
        if n % 50 == 0:
            print(f"checked {n}/{len(report.items)}", file=sys.stderr)
    total = len(report.items)
    for verdict, count in counts.items():
        low, high = wilson(count, total)
        print(f"{verdict}: {count}/{total} = {count / total:.3f} [{low:.3f}, {high:.3f}]")
    print(f"check agrees with the benchmark's scoring on {agree}/{total}")

    looks = refuted[: args.second_looks]
    seconds = 0.0
    if looks:
        from ponder.agent.engine import LlamaEngine

        resolved = models.resolve(args.model)
        engine = LlamaEngine(str(resolved.path), resolved.name)
        engine.load()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as out:
            out.write(f"# Second looks: {args.model}, rule {args.rule}, {len(looks)} refuted\n\n")
            for i, (item, question, claimed, text, checked) in enumerate(looks, 1):
                started = time.perf_counter()
                path = AnsweredPath(question, claimed, extract(text).rationale or text)
                said = second_look(engine, code_of[item["id"]], path, checked)
                seconds += time.perf_counter() - started
                out.write(
                    f"## {i}. {item['id']}: {question}\n\n```python\n{code_of[item['id']]}\n```\n\n"
                    f"claimed `{claimed}`, running gives `{checked.actual}`\n\n"
                    f"**second look:** {said}\n\n"
                )
                out.flush()
                print(f"second look {i}/{len(looks)} ({item['id']})", file=sys.stderr)
        print(f"{len(looks)} second looks written to {args.out}")
    s_look = seconds / len(looks) if looks else 0.0
    print(
        f"RESULT n={total} verified={counts['verified']} refuted={counts['refuted']} "
        f"could_not_run={counts['could not run']} agree={agree} second_looks={len(looks)} "
        f"s_look={s_look:.1f}"
    )


if __name__ == "__main__":
    main()
