"""Benchmark: one path vs k paths, raw llama-cpp-python vs ponder's engine, in one run.

    python scripts/bench_sampling.py --model qwen2.5-coder-1.5b --k 5 --tokens 128
    python scripts/bench_sampling.py --model qwen2.5-coder-1.5b --adapter runs/x/adapter.gguf --k 0

Measures, on one prompt (prompt already cached for both, so the figures are decode speed):
raw `Llama.create_completion` greedy tok/s; the engine's single greedy path; k sampled paths in a
sequential loop; k sampled paths in one batched decode (--k 0: neither). With --adapter, the
engine's single path again with the LoRA adapter applied (what a trained adapter costs per
token). Last line:
RESULT model=M k=5 single_tok_s=X batched_over_single=R engine_over_raw=E [adapter_over_base=A]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.agent import models  # noqa: E402
from ponder.agent.engine import LlamaEngine, build_info  # noqa: E402

PROMPT = [
    {
        "role": "user",
        "content": "Explain in detail, step by step and at length, how Python's dict works "
        "internally: hashing, probing, resizing, ordering. Write at least 600 words.",
    }
]


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=models.DEFAULT_MODEL)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement (median)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--gpu-layers", type=int, default=-1)
    parser.add_argument("--adapter", help="a LoRA adapter (.gguf) to time beside the base model")
    args = parser.parse_args()

    from llama_cpp import Llama

    resolved = models.resolve(args.model)
    info = build_info()
    print(f"model {resolved.name} ({resolved.path}), threads {args.threads}, "
          f"GPU offload {'yes' if info['gpu_offload'] else 'no'}")  # fmt: skip
    n_ctx = 4096
    engine = LlamaEngine(str(resolved.path), resolved.name, context_size=n_ctx,
                         threads=args.threads, gpu_layers=args.gpu_layers)  # fmt: skip
    engine.load()
    prompt_text = engine.format(PROMPT)
    raw = Llama(str(resolved.path), n_ctx=n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
                n_gpu_layers=args.gpu_layers, verbose=False)  # fmt: skip
    n = args.tokens

    def raw_single():
        out = raw.create_completion(prompt_text, max_tokens=n, temperature=0.0)
        return out["usage"]["completion_tokens"]

    def engine_single():
        return len(engine.sample(PROMPT, k=1, max_tokens=n)[0].tokens)

    def engine_loop():
        return sum(len(engine.sample(PROMPT, k=1, temperature=0.7, max_tokens=n, seed=i)[0].tokens)
                   for i in range(args.k))  # fmt: skip

    def engine_batched():
        return sum(len(p.tokens) for p in engine.sample(PROMPT, k=args.k, temperature=0.7,
                                                        max_tokens=n, seed=1))  # fmt: skip

    # Warm-up: loads weights into the page cache and puts the prompt in both KV caches.
    raw_single()
    engine_single()

    measured = [("raw create_completion, 1 path", raw_single), ("engine, 1 path", engine_single)]
    if args.k:
        measured += [(f"engine, {args.k} paths in a loop", engine_loop),
                     (f"engine, {args.k} paths batched", engine_batched)]  # fmt: skip
    if args.adapter:
        adapted = LlamaEngine(str(resolved.path), resolved.name, context_size=n_ctx,
                              threads=args.threads, gpu_layers=args.gpu_layers,
                              adapter=args.adapter,
                              model_sha256=lambda: models.sha256_of([resolved.path]))  # fmt: skip
        adapted.load()
        if adapted.adapter_problem:
            sys.exit(f"the adapter does not load: {adapted.adapter_problem}")

        def adapted_single():
            return len(adapted.sample(PROMPT, k=1, max_tokens=n)[0].tokens)

        adapted_single()  # its prompt in its cache too
        measured.append(("engine + adapter, 1 path", adapted_single))
    rows = {}
    for name, fn in measured:
        runs = [timed(fn) for _ in range(args.repeat)]
        tokens = runs[0][0]
        wall = statistics.median(t for _, t in runs)
        rows[name] = (tokens, wall)
        print(f"{name:34} {tokens:5d} tokens {wall:7.2f} s {tokens / wall:7.1f} tok/s")

    raw_tokens, raw_wall = rows["raw create_completion, 1 path"]
    single_tokens, single_wall = rows["engine, 1 path"]
    single_tok_s = single_tokens / single_wall
    engine_over_raw = single_tok_s / (raw_tokens / raw_wall)
    result = f"RESULT model={resolved.name} k={args.k} single_tok_s={single_tok_s:.1f}"
    if args.k:
        loop_wall = rows[f"engine, {args.k} paths in a loop"][1]
        batched_tokens, batched_wall = rows[f"engine, {args.k} paths batched"]
        # Normalise to N tokens a path, in case a path stopped early.
        per_path = batched_wall / (batched_tokens / args.k)
        print(f"loop over single: {loop_wall / single_wall:.2f}")
        result += f" batched_over_single={per_path / (single_wall / single_tokens):.2f}"
    result += f" engine_over_raw={engine_over_raw:.2f}"
    if args.adapter:
        adapted_tokens, adapted_wall = rows["engine + adapter, 1 path"]
        result += f" adapter_over_base={(adapted_wall / adapted_tokens) / (single_wall / single_tokens):.2f}"  # fmt: skip
    print(result)


if __name__ == "__main__":
    main()
