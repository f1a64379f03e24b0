"""`ponder eval explain`: explanations scored by what they let a reader predict
(agent/evaluation/explain.py). Each function's record is appended to --out as it is scored, so a
stopped run resumes; the summary covers every record in the file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from ponder.agent.errors import PonderError
from ponder.server.cli.arguments import add_items

FORMAT = "ponder-explain"


def add_subcommand(benchmarks) -> argparse.ArgumentParser:
    """The subcommand's arguments; `ponder eval` sets what runs it (explain_main)."""
    explain = benchmarks.add_parser(
        "explain",
        help="score explanations by what they let a reader predict",
        description="For each function: ponder's explanation (as the editor asks it), then the "
        "model predicts f(x') for 3 mutated inputs from the explanation and the signature only "
        "(never the body); true outputs by running f confined. Beside it, the same "
        "predictions from the signature alone (none) and from the code (code). Prints per "
        "method: RESULT n=N method=M score=S none=S0 code=S1 s_item=T.",
    )
    add_items(explain, 100, "functions to explain")
    explain.add_argument(
        "--methods",
        default="greedy,stepback",
        help="comma-separated: greedy (today's: one path), stepback (the principle first), "
        "worked (ends with the item's own input worked through); the first is the one the "
        "others are paired with (default greedy,stepback)",
    )
    explain.add_argument(
        "--out",
        metavar="FILE",
        required=True,
        help="per-function records (JSONL; a stopped run resumes); the explanations side by "
        "side go to FILE with .md",
    )
    return explain


def explain_main(args) -> None:
    from ponder.agent.evaluation import explain
    from ponder.server.cli.evaluate import eval_setup

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in explain.METHODS]
    if unknown or not methods:
        raise PonderError(f"--methods: unknown {unknown}; use {', '.join(explain.METHODS)}")
    out = Path(args.out)
    data, items, settings, engine = eval_setup(args, args.limit)
    header = {
        "format": FORMAT,
        "model": engine.name,
        "adapter": settings.adapter or None,
        "methods": methods,
    }
    records = _resume(out, header)
    print(f"{len(items)} functions from {data}, {len(records)} already scored", file=sys.stderr)
    with out.open("a", encoding="utf-8") as file:
        if not records and out.stat().st_size == 0:
            file.write(json.dumps(header) + "\n")
        done = {r["id"] for r in records}
        todo = [item for item in items if item.get("id", "") not in done]
        records += _score_all(engine, todo, methods, settings.reason, file)
    engine.close()
    out.with_suffix(".md").write_text(explain.side_by_side(records, methods), encoding="utf-8")
    _print_summary(explain.summary(records, methods), methods[0])


def _score_all(engine, items: list[dict], methods: list[str], options, file) -> list[dict]:
    """Each item scored and appended to `file` at once, with progress and the time left."""
    from ponder.agent.evaluation import explain

    records = []
    started = time.perf_counter()
    for n, item in enumerate(items, 1):
        scored = explain.score_item(engine, item, methods, options)
        if scored is None:
            print(
                f"[{n}/{len(items)}] {item.get('id')}: skipped (f does not run on 3 mutated "
                "inputs)",
                file=sys.stderr,
            )
            continue
        records.append(dataclasses.asdict(scored))
        file.write(json.dumps(records[-1]) + "\n")
        file.flush()
        scores = " ".join(f"{m}={s.score:.2f}" for m, s in scored.methods.items())
        left = (time.perf_counter() - started) / n * (len(items) - n)
        print(
            f"[{n}/{len(items)}] {scored.id}: {scores} none={scored.none.score:.2f} "
            f"code={scored.code_shown.score:.2f} ({left / 60:.0f} min left)",
            file=sys.stderr,
        )
    return records


def _print_summary(summary: dict[str, dict], first: str) -> None:
    for method, s in summary.items():
        low, high = s["score_ci"]
        paired = "" if method == first else f", against {first}: won {s['wins']} lost {s['losses']}"
        print(
            f"{method}: score {s['score']:.3f} [{low:.3f}, {high:.3f}] (none {s['none']:.3f}, "
            f"code {s['code']:.3f}), {s['s_item']:.1f} s per explanation{paired}"
        )
        print(
            f"RESULT n={s['n']} method={method} score={s['score']:.3f} none={s['none']:.3f} "
            f"code={s['code']:.3f} s_item={s['s_item']:.1f}"
        )


def _resume(out: Path, header: dict) -> list[dict]:
    """The records already in `out` (none for a new file), refusing one written otherwise."""
    if not out.exists() or out.stat().st_size == 0:
        out.touch()
        return []
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]
    if not lines or lines[0].get("format") != FORMAT:
        raise PonderError(f"{out} is not a `ponder eval explain` file")
    if lines[0] != header:
        raise PonderError(
            f"{out} was written with another model, adapter or --methods: use another --out"
        )
    return lines[1:]
