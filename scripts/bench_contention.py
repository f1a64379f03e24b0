"""Decode speed of one ponder engine alone, and of two engines in two processes at once.

    python scripts/bench_contention.py --model qwen2.5-coder-0.5b

Two editor windows mean two servers on one machine; this shows what they do to each other.
Prints tok/s alone and for each of the two; GOMP_SPINCOUNT from the environment wins over
ponder's default (agent/engine.py), so `GOMP_SPINCOUNT=300000 python scripts/bench_contention.py`
shows the OpenMP default.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT = [
    {
        "role": "user",
        "content": "Explain in detail how Python's dict works. Write at least 600 words.",
    }
]


def one(model: str, tokens: int) -> None:
    sys.path.insert(0, str(ROOT))
    from ponder.agent import models
    from ponder.agent.engine import LlamaEngine

    resolved = models.resolve(model)
    engine = LlamaEngine(str(resolved.path), resolved.name, context_size=2048)
    engine.load()
    engine.sample(PROMPT, k=1, max_tokens=2)
    started = time.perf_counter()
    out = engine.sample(PROMPT, k=1, max_tokens=tokens)[0]
    print(f"{len(out.tokens) / (time.perf_counter() - started):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        one(args.model, args.tokens)
        return
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--model",
        args.model,
        "--tokens",
        str(args.tokens),
    ]
    alone = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    pair = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    both = [p.communicate()[0].strip() for p in pair]
    print(f"alone: {alone} tok/s; two at once: {both[0]} + {both[1]} tok/s")
    print(f"RESULT model={args.model} alone_tok_s={alone} two_at_once_tok_s={both[0]},{both[1]}")


if __name__ == "__main__":
    main()
