"""Benchmark the memory store at scale:

    python scripts/bench_memory.py --traces 100000

Fills a fresh LanceDB store with N synthetic traces (random unit vectors, in bulk), builds the
IVF-PQ index, then measures: vector search latency (p50/p99 over queries near stored traces),
recall@5 against exact search (numpy over all vectors), search with a text query (MiniLM embedding
included), and accept latency (`store.add`: embedding, duplicate check, append, index upkeep).
Then, in another fresh store, `--individual` accepts one at a time as users make them: the answer's
retrieval searches the store for the same question and code (its embedding and nearest trace are
then reused by the accept), then the accept (one Lance commit; compaction and the index run in the
background). Accept p50/p99 over the first and the last 500; every 10th accept comes without a
search before it ("cold": an answer computed when the store was still empty, or more than
RECENT_SEARCHES answers ago) and is reported apart.
`--traces 0` skips the bulk part.
Last lines: RESULT traces=N search_p50_ms=X search_p99_ms=Y recall_at_5=R accept_p50_ms=Z
RESULT individual_accepts=M first_p50_ms=A first_p99_ms=B last_p50_ms=C last_p99_ms=D
  cold_p50_ms=E cold_p99_ms=F recall_p50_ms=G recall_p99_ms=H   (one line)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.memory.embedder import MiniLMEmbedder  # noqa: E402
from ponder.memory.store import TraceStore, now  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def fill(store: TraceStore, vectors: np.ndarray, batch: int = 20000) -> list[str]:
    import pyarrow as pa

    ids = [uuid.uuid4().hex for _ in range(len(vectors))]
    schema = store.table.schema
    for start in range(0, len(vectors), batch):
        chunk = vectors[start : start + batch]
        n = len(chunk)
        columns = {name: pa.array([""] * n, pa.string()) for name in schema.names}
        columns["id"] = pa.array(ids[start : start + n])
        columns["question"] = pa.array([f"synthetic question {start + i}" for i in range(n)])
        columns["answer"] = pa.array([str(start + i) for i in range(n)])
        columns["created_at"] = pa.array([now()] * n)
        columns["tags"] = pa.array(["[]"] * n)
        columns["confidence"] = pa.array(np.ones(n, dtype=np.float32))
        columns["accepted"] = pa.array(np.ones(n, dtype=bool))
        columns["vector"] = pa.FixedSizeListArray.from_arrays(
            pa.array(chunk.reshape(-1)), chunk.shape[1]
        )
        store.table.add(pa.table([columns[name] for name in schema.names], schema=schema))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--accepts", type=int, default=30)
    parser.add_argument("--individual", type=int, default=5000, help="accepts one at a time")
    parser.add_argument("--dir", help="where to build the store (default: a temp dir)")
    args = parser.parse_args()
    if args.traces:
        bulk(args)
    if args.individual:
        individual(args.individual, args.dir)


def individual(count: int, where: str | None) -> None:
    """`count` accepts one at a time into a fresh store; latency of the first and last 500."""
    embedder = MiniLMEmbedder()
    embedder.embed(["warm up"])
    latencies, cold, recalls = [], [], []
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        store = TraceStore(Path(tmp) / "memory", embedder).open()
        for n in range(count):
            trace = {"question": f"What does h({n}, {n % 97}) return for case {n * 31}?",
                     "code": f"def h(a, b):\n    return a * {n} - b // {n % 13 + 1}",
                     "answer": str(n), "rationale": "…"}  # fmt: skip
            if n % 10 == 9:
                started = time.perf_counter()
                store.add(trace)
                cold.append((time.perf_counter() - started) * 1000)
                continue
            started = time.perf_counter()
            store.search(trace["question"], trace["code"])  # the answer's retrieval
            searched = time.perf_counter()
            store.add(trace)
            latencies.append((time.perf_counter() - searched) * 1000)
            recalls.append((searched - started) * 1000)
            if len(latencies) % 500 == 0:
                print(f"{n + 1} accepts: last 500 p50 {percentile(latencies[-500:], 50):.1f} ms, "
                      f"p99 {percentile(latencies[-500:], 99):.1f} ms", flush=True)  # fmt: skip
        store.wait_for_upkeep()
    first, last = latencies[:500], latencies[-500:]
    print(
        f"RESULT individual_accepts={count} first_p50_ms={percentile(first, 50):.1f} "
        f"first_p99_ms={percentile(first, 99):.1f} last_p50_ms={percentile(last, 50):.1f} "
        f"last_p99_ms={percentile(last, 99):.1f} cold_p50_ms={percentile(cold, 50):.1f} "
        f"cold_p99_ms={percentile(cold, 99):.1f} recall_p50_ms={percentile(recalls, 50):.1f} "
        f"recall_p99_ms={percentile(recalls, 99):.1f}"
    )


def bulk(args) -> None:

    rng = np.random.default_rng(0)
    embedder = MiniLMEmbedder()
    embedder.embed(["warm up"])  # load the model outside the measurements
    dim = embedder.dim
    # Real embeddings cluster by topic; uniform random vectors have no meaningful top-5 beyond the
    # first hit. So: traces around 1 topic per 50 traces, with within-topic spread.
    topics = rng.standard_normal((max(1, args.traces // 50), dim)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    vectors = topics[rng.integers(0, len(topics), args.traces)]
    vectors = vectors + 0.06 * rng.standard_normal((args.traces, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        store = TraceStore(Path(tmp) / "memory", embedder).open()
        started = time.perf_counter()
        ids = fill(store, vectors)
        print(f"filled {args.traces} traces in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        store.build_index()
        print(f"built IVF-PQ index in {time.perf_counter() - started:.1f} s")

        # Queries near stored traces (a paraphrase lands near its original, not on it).
        picks = rng.choice(args.traces, args.queries, replace=False)
        queries = vectors[picks] + 0.05 * rng.standard_normal((args.queries, dim)).astype(
            np.float32
        )
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        exact = [{ids[i] for i in np.argsort(-(vectors @ q))[:5]} for q in queries]
        store.search_vector(queries[0], 5)  # warm the index cache
        default = store.nprobes
        result = (0.0, 0.0, 0.0)
        for nprobes in sorted({16, 32, default, 128}):  # the trade-off, for choosing NPROBES
            store.nprobes = nprobes
            latencies, recalls = [], []
            for q, truth in zip(queries, exact, strict=True):
                started = time.perf_counter()
                hits = store.search_vector(q, 5)
                latencies.append((time.perf_counter() - started) * 1000)
                recalls.append(len(truth & {h["id"] for h in hits}) / 5)
            p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
            recall = float(np.mean(recalls))
            mark = " (default)" if nprobes == default else ""
            print(
                f"vector search, nprobes {nprobes}{mark}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, recall@5 {recall:.3f}"
            )
            if nprobes == default:
                result = (p50, p99, recall)
        store.nprobes = default
        p50, p99, recall = result

        text_latencies = []
        for n in range(30):
            started = time.perf_counter()
            store.search(
                f"What does f({n}) return for a list of names?", "def f(x): ...", k=3, threshold=0.0
            )
            text_latencies.append((time.perf_counter() - started) * 1000)
        print(f"text search (embedding included): p50 {percentile(text_latencies, 50):.1f} ms")

        accept_latencies = []
        for n in range(args.accepts):
            trace = {"question": f"What does g({n}, {n * 7}) return?", "code": f"def g(a, b):\n    return a * {n} - b",
                     "answer": str(n), "rationale": "…"}  # fmt: skip
            started = time.perf_counter()
            store.add(trace)
            accept_latencies.append((time.perf_counter() - started) * 1000)
        accept_p50 = percentile(accept_latencies, 50)
        print(
            f"accept (embedding included): p50 {accept_p50:.1f} ms, p99 {percentile(accept_latencies, 99):.1f} ms"
        )
        print(
            f"RESULT traces={args.traces} search_p50_ms={p50:.1f} search_p99_ms={p99:.1f} "
            f"recall_at_5={recall:.3f} accept_p50_ms={accept_p50:.1f}"
        )


if __name__ == "__main__":
    main()
