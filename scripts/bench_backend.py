"""One reasoning request in this process, then the same request through llama.cpp's llama-server
(the OpenAI-compatible backend), same model, same machine, one run.

    python scripts/bench_backend.py [--model qwen2.5-coder-0.5b] [--k 5] [--items 3]

The request is ponder's pipeline with self_consistency (the greedy path and k-1 sampled ones,
maxTokens 256) on CRUXEval dev items. Each side first answers a warm-up item (model loaded), then
the timed items; the two sides never run at once. llama-server runs with --parallel k, so its k
paths decode together (continuous batching) as the in-process engine's do in one batch.
Last line:
RESULT backend=openai k=K local_s=X remote_s=Y remote_over_local=R
(seconds summed over the timed items).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ponder.agent import models, pipeline  # noqa: E402
from ponder.agent.engine import LlamaEngine  # noqa: E402
from ponder.agent.evaluation.harness import load_items, question_for  # noqa: E402
from ponder.agent.remote_engine import OpenAICompatibleEngine  # noqa: E402
from ponder.agent.settings import ReasonSettings  # noqa: E402
from tests.llama_server import LlamaServer  # noqa: E402


def task(item: dict, k: int) -> pipeline.Task:
    code = item["code"]
    options = ReasonSettings(strategy="self_consistency", samples=k, max_tokens=256)
    return pipeline.Task(question_for(item), code, "f.py", "python", 0, len(code), options)


def timed(engine, items: list[dict], k: int) -> tuple[float, list[dict]]:
    pipeline.run(task(items[0], k), engine)  # warm-up: loads, and nothing timed is cached
    seconds, answers = 0.0, []
    for item in items[1:]:
        started = time.perf_counter()
        answer = pipeline.run(task(item, k), engine)
        elapsed = time.perf_counter() - started
        seconds += elapsed
        answers.append({"answer": answer.answer, "tokens": answer.usage.completion_tokens})
        print(f"  {elapsed:6.1f} s  {answer.usage.completion_tokens:5d} tokens  {answer.answer!r}")
    return seconds, answers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--items", type=int, default=3, help="timed items (plus one warm-up)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--data", default=str(ROOT.parent / "shared" / "data" / "cruxeval-dev.jsonl")
    )
    args = parser.parse_args()
    resolved = models.resolve(args.model)
    items = load_items(Path(args.data), limit=args.items + 1)
    print(f"model {resolved.name}, self_consistency k={args.k}, {args.items} timed items")

    print("in-process engine:")
    local = LlamaEngine(str(resolved.path), resolved.name, threads=args.threads)
    local_s, local_answers = timed(local, items, args.k)
    local.close()

    print(f"llama-server --parallel {args.k}:")
    with LlamaServer(
        str(resolved.path), parallel=args.k, slot_context=4096, threads=args.threads
    ) as server:
        remote = OpenAICompatibleEngine(server.url, resolved.name, max_concurrent=args.k)
        remote_s, remote_answers = timed(remote, items, args.k)
        caps = remote.capabilities
    print(
        f"server: n per request {'yes' if caps.n else 'no'}, logprobs {'yes' if caps.logprobs else 'no'}"
    )
    tokens = [sum(a["tokens"] for a in side) for side in (local_answers, remote_answers)]
    # Sampled paths differ between the two sides (different random streams), so the number of
    # tokens does too: seconds per completion token is printed beside the plain ratio.
    per_token = (remote_s / tokens[1]) / (local_s / tokens[0])
    print(f"completion tokens: local {tokens[0]}, remote {tokens[1]}")
    print(f"seconds per completion token, remote over local: {per_token:.2f}")
    print(
        f"RESULT backend=openai k={args.k} local_s={local_s:.1f} remote_s={remote_s:.1f} "
        f"remote_over_local={remote_s / local_s:.2f} per_token={per_token:.2f}"
    )


if __name__ == "__main__":
    main()
