"""Prompt-lookup speculation against plain decoding, same model, same prompts, one run.

    python scripts/bench_speculative.py [--model qwen2.5-coder-1.5b] [--items 10] [--tokens 256]

Prompts: CRUXEval dev items asked as ponder asks them, alternately a trace question ("What does
f(x) return?") and an explanation (no question). Each is decoded greedily for `--tokens` tokens with
speculation off, then on (alternating, so drift hits both). Decode tokens/s excludes the prompt.
Last lines: one RESULT per question kind and one overall:
RESULT kind=K spec=ngram accepted_per_step=A tok_s_off=X tok_s_on=Y speedup=R identical=yes|no
`identical` compares tokens; where they differ, the margin at the first difference is printed
(float rounding differs with batch shape and flips near-ties).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ponder.agent import models, pipeline  # noqa: E402
from ponder.agent.engine import LlamaEngine, build_info  # noqa: E402
from ponder.agent.evaluation.harness import load_items, question_for  # noqa: E402


def decode(engine: LlamaEngine, messages, tokens: int, speculation: str):
    engine.speculation = speculation
    started = time.perf_counter()
    path = engine.sample(messages, k=1, max_tokens=tokens)[0]
    stats = engine.last_stats
    seconds = time.perf_counter() - started - stats.prompt_s
    steps = sum(n for n, _ in stats.steps.values()) + 1  # +1: the token from the prompt's logits
    return path, seconds, steps, stats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument(
        "--data", default=str(ROOT.parent / "shared" / "data" / "cruxeval-dev.jsonl")
    )
    args = parser.parse_args()
    resolved = models.resolve(args.model)
    engine = LlamaEngine(str(resolved.path), resolved.name, context_size=4096)
    engine.load()
    totals: dict[str, dict[str, float]] = {}
    for i, item in enumerate(load_items(args.data, args.items)):
        kind = "trace" if i % 2 == 0 else "explain"
        question = question_for(item) if kind == "trace" else None
        task = pipeline.Task(question, item["code"], "f.py", "python", 0, len(item["code"]))
        messages = pipeline.messages_for(task)
        decode(engine, messages, 1, "off")  # warm: the prompt is cached for both runs
        off, off_s, _, _ = decode(engine, messages, args.tokens, "off")
        on, on_s, on_steps, stats = decode(engine, messages, args.tokens, "ngram")
        same = off.tokens == on.tokens
        note = ""
        if not same:
            pairs = zip(off.tokens, on.tokens, strict=False)
            at = next((j for j, (a, b) in enumerate(pairs) if a != b), None)
            if at is not None:
                note = f" (first difference at token {at}, margins {off.margins[at]:.3f}/{on.margins[at]:.3f})"
        print(
            f"{item['id']} {kind:8s} off {len(off.tokens) / off_s:5.1f} tok/s  on {len(on.tokens) / on_s:5.1f} "
            f"tok/s  {len(on.tokens) / on_steps:.2f} tokens/step  drafts kept "
            f"{stats.draft_accepted}/{stats.drafted}  identical={'yes' if same else 'no'}{note}",
            flush=True,
        )
        for key in (kind, "all"):
            t = totals.setdefault(
                key, dict(off_tokens=0, off_s=0, on_tokens=0, on_s=0, steps=0, same=1)
            )
            t["off_tokens"] += len(off.tokens)
            t["off_s"] += off_s
            t["on_tokens"] += len(on.tokens)
            t["on_s"] += on_s
            t["steps"] += on_steps
            t["same"] = t["same"] and same
    device = "gpu" if build_info()["gpu_offload"] else "cpu"
    for kind, t in totals.items():
        x, y = t["off_tokens"] / t["off_s"], t["on_tokens"] / t["on_s"]
        print(
            f"RESULT kind={kind} device={device} spec=ngram accepted_per_step={t['on_tokens'] / t['steps']:.2f} "
            f"tok_s_off={x:.1f} tok_s_on={y:.1f} speedup={y / x:.2f} identical={'yes' if t['same'] else 'no'}"
        )


if __name__ == "__main__":
    main()
