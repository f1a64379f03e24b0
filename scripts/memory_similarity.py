"""How similar memory's embedding finds related and unrelated questions: where to put the threshold.

    python scripts/memory_similarity.py [--limit N]

Memory retrieves accepted traces whose embedding (question + code, all-MiniLM-L6-v2) is at least
`memory.store.DEFAULT_THRESHOLD` similar to the request's. On the dev split's CRUXEval functions,
for each item:
- unrelated: its most similar *other* function, asked about its own input (the traces that
  `ponder eval related` shows B as "unrelated" memory);
- same code: the same function asked about another input (B of `ponder eval related`);
- edited: the same function with its first parameter renamed, asked the same question (what an
  editor user who edited the code and asked again would retrieve);
- reworded: the same code, the question asked in other words.
Prints quantiles of each, and for thresholds, the share of each kind retrieved at or above it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memory.embedder import make_embedder  # noqa: E402
from memory.store import DEFAULT_THRESHOLD, _embedded_text  # noqa: E402
from server.cli.evaluation.harness import load_items, question_for  # noqa: E402
from server.cli.evaluation.related import related_item  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/cruxeval-dev.jsonl"
THRESHOLDS = (0.7, DEFAULT_THRESHOLD, 0.8, 0.85, 0.9, 0.95)


def renamed(code: str) -> str | None:
    """The code with f's first parameter renamed (None when f has none or it does not parse)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "f" and node.args.args:
            old = node.args.args[0].arg
            new = f"{old}_in"
            node.args.args[0].arg = new
            for name in ast.walk(node):
                if isinstance(name, ast.Name) and name.id == old:
                    name.id = new
            return ast.unparse(tree)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    items = load_items(args.data, args.limit)
    embed = make_embedder("minilm").embed
    texts = [_embedded_text(question_for(i), i["code"]) for i in items]
    base = embed(texts)
    kinds: dict[str, list[float]] = {"unrelated": [], "same code": [], "edited": [], "reworded": []}
    others = base @ base.T
    np.fill_diagonal(others, -1.0)
    codes = [i["code"].strip() for i in items]
    for n, item in enumerate(items):
        distinct = [others[n, m] for m in range(len(items)) if codes[m] != codes[n]]
        kinds["unrelated"].append(max(distinct))
        pairs = []
        if (b := related_item(item)) is not None:
            pairs.append(("same code", _embedded_text(question_for(b), item["code"])))
        if (edited := renamed(item["code"])) is not None:
            pairs.append(("edited", _embedded_text(question_for(item), edited)))
        pairs.append(("reworded", _embedded_text(
            f"Work out the value returned by f({item['input']}).", item["code"])))  # fmt: skip
        vectors = embed([text for _, text in pairs])
        for (kind, _), vector in zip(pairs, vectors, strict=True):
            kinds[kind].append(float(vector @ base[n]))
    print(f"{len(items)} dev items; similarity to the request (cosine, all-MiniLM-L6-v2)")
    print(
        "kind        n    min   p10   p50   p90   max  " + "  ".join(f">={t}" for t in THRESHOLDS)
    )
    for kind, values in kinds.items():
        v = np.array(values)
        quantiles = " ".join(f"{q:5.3f}" for q in np.quantile(v, [0, 0.1, 0.5, 0.9, 1]))
        shares = "  ".join(f"{(v >= t).mean():5.2f}".rjust(len(f">={t}")) for t in THRESHOLDS)
        print(f"{kind:10} {len(v):3}  {quantiles}  {shares}")


if __name__ == "__main__":
    main()
