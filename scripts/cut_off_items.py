"""The dev items whose greedy path was cut off at maxTokens in saved paths, as eval data.

    python scripts/cut_off_items.py scripts/results/paths-1.5b-T0.5-{continued,heldout*}.jsonl \
        --every 2 > cutoff.jsonl
    ponder eval cruxeval --data cutoff.jsonl --limit 48 --strategies greedy --max-tokens 1024

Prints the items (JSONL, in the split's order) to stdout, and to stderr how many there are and
how many of their saved greedy answers were right: the baseline a longer cap has to beat.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.errors import PonderError  # noqa: E402
from server.cli.evaluation.harness import load_items, read_many_paths  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/cruxeval-dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "paths", nargs="+", type=Path, help="saved-paths files (ponder eval --save-paths)"
    )
    parser.add_argument(
        "--data", type=Path, default=DATA, help="the split the paths were sampled on"
    )
    parser.add_argument("--every", type=int, default=1, help="keep every Nth cut-off item")
    args = parser.parse_args()
    try:
        _, saved = read_many_paths(args.paths)
    except PonderError as e:
        sys.exit(str(e))
    cut = {
        item["id"]: item["paths"][0]["correct"]
        for item in saved
        if item["paths"][0]["finish"] == "length"
    }
    kept = [item for item in load_items(args.data) if item["id"] in cut][:: args.every]
    for item in kept:
        print(json.dumps(item))
    right = sum(cut[item["id"]] for item in kept)
    print(
        f"{len(kept)} items cut off (of {len(cut)}); saved greedy right on {right}", file=sys.stderr
    )


if __name__ == "__main__":
    main()
