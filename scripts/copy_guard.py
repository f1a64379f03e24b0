"""A guard against memory's copying, scored offline on `ponder eval related --json` results.

    python scripts/copy_guard.py scripts/results/related-1.5b-{answer,same-code,rule}.json

Where B's answer with memory is A's output (the remembered answer for another input of the same
function), ask B again without memory, i.e. take memory-off's answer. In `ponder eval related`
such an answer is always wrong (B's output differs from A's by construction). One line per file:
B right off / on / guarded, won and lost against off, and how often the guard fired.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.cli.evaluation.harness import load_items  # noqa: E402
from server.cli.evaluation.related import same_value  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/cruxeval-dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", nargs="+", help="`ponder eval related --json` files")
    args = parser.parse_args()
    outputs = {item["id"]: item["output"] for item in load_items(DATA)}
    for file in args.results:
        pairs = json.loads(Path(file).read_text())["pairs"]
        off = on = guarded = won = lost = fired = 0
        for p in pairs:
            copied = p["a_correct"] and same_value(p["b_prediction_on"] or "", outputs[p["id"]])
            right = p["b_off"] if copied else p["b_on"]
            fired += copied
            off += p["b_off"]
            on += p["b_on"]
            guarded += right
            won += right and not p["b_off"]
            lost += p["b_off"] and not right
        print(f"{file}: n={len(pairs)} off={off} on={on} guarded={guarded} "
              f"(+{won}/-{lost} vs off) fired={fired}")  # fmt: skip


if __name__ == "__main__":
    main()
