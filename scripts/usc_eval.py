"""Universal self-consistency (Chen et al. 2023) scored on saved paths, against the vote.

    python scripts/usc_eval.py scripts/results/paths-1.5b-T0.5-continued.jsonl [--k 6] [--limit N]

For every saved item whose k paths do not all give the same answer, the model is shown the task
and the k responses and asked which is the most consistent ("The most consistent response is
Response X", the paper's prompt); the chosen response's answer is USC's answer. Items where all
paths agree cost nothing (USC would pick that answer). Prints accuracy of greedy, of the
margin-weighted vote (ponder's default) and of USC on the same items, the paired counts, and
what the selection prompt costs in seconds per item asked.
Last line: RESULT n=N k=K greedy=.. weighted=.. usc=.. usc_vs_weighted=+W/-L usc_s_item=S
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import models, prompts  # noqa: E402
from agent.engine import LlamaEngine  # noqa: E402
from agent.vote import key_of  # noqa: E402
from server.cli.evaluation import aggregate, harness  # noqa: E402

CHOICE = re.compile(r"Response\s*(\d+)", re.I)


def usc_messages(code: str, question: str, responses: list[str]) -> list[dict[str, str]]:
    """The paper's selection prompt, with the code the question is about."""
    shown = "\n\n".join(f"Response {i}:\n{text.strip()}" for i, text in enumerate(responses))
    return [
        {
            "role": "user",
            "content": (
                f"I have generated the following responses to the question: {question}\n\n"
                f"{prompts.code_block(code, 'python')}\n\n{shown}\n\n"
                "Evaluate these responses.\n"
                "Select the most consistent response based on majority consensus.\n"
                'Start your answer with "The most consistent response is Response X" '
                "(without quotes)."
            ),
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths_file", type=Path)
    parser.add_argument("--k", type=int, default=6, help="the first k saved paths (greedy first)")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--data", type=Path, default=None, help="the items (default: the file's)")
    args = parser.parse_args()

    header, items = harness.read_paths(args.paths_file)
    harness.rescore(items)  # answers extracted with today's extractor, as `ponder eval aggregate`
    data = args.data or Path(header["data"])
    code_of = {item["id"]: item["code"] for item in harness.load_items(data)}
    resolved = models.resolve(header["model"])
    engine = LlamaEngine(str(resolved.path), resolved.name, context_size=8192)
    engine.load()

    items = items[: args.limit] if args.limit else items
    report = aggregate.Report(header, items)
    default = aggregate.parse_rule(f"weighted+greedy@{args.k}")  # ponder's default vote
    tally = {"greedy": 0, "weighted": 0, "usc": 0}
    wins = losses = asked = 0
    seconds = 0.0
    for n, item in enumerate(items, 1):
        paths = report.paths_for(default, item)
        right = [p["correct"] for p in paths]
        weighted_right = report.apply(default, item).correct
        if len({key_of(p["answer"]) for p in paths}) == 1:
            usc_right, note = right[0], "all agree"
        else:
            started = time.perf_counter()
            reply = engine.sample(
                usc_messages(code_of[item["id"]], item["question"], [p["text"] for p in paths]),
                k=1,
                max_tokens=16,
                stop=("\n",),
            )[0].text
            seconds += time.perf_counter() - started
            asked += 1
            found = CHOICE.search(reply)
            chosen = int(found.group(1)) if found else -1
            usc_right = right[chosen] if 0 <= chosen < len(paths) else False
            note = f"chose {chosen} ({reply.strip()[:60]!r})"
        tally["greedy"] += right[0]
        tally["weighted"] += weighted_right
        tally["usc"] += usc_right
        wins += usc_right and not weighted_right
        losses += weighted_right and not usc_right
        print(
            f"[{n}/{len(items)}] {item['id']}: greedy {'ok' if right[0] else '--'}, "
            f"weighted {'ok' if weighted_right else '--'}, usc {'ok' if usc_right else '--'}: "
            f"{note}",
            flush=True,
        )
    n = len(items)
    per_item = seconds / asked if asked else 0.0
    print(f"asked the model on {asked} of {n} items (the rest: all paths agree), "
          f"{per_item:.1f} s per item asked")  # fmt: skip
    print(
        f"RESULT n={n} k={args.k} greedy={tally['greedy'] / n:.3f} "
        f"weighted={tally['weighted'] / n:.3f} usc={tally['usc'] / n:.3f} "
        f"usc_vs_weighted=+{wins}/-{losses} usc_s_item={per_item:.1f}"
    )


if __name__ == "__main__":
    main()
