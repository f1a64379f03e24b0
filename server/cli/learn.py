"""`ponder learn`: a training set of verified reasoning → a LoRA adapter for the model ponder
runs (agent/learning). Prints each source's count, training progress, where the adapter went,
and one RESULT line."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from ponder.agent import models
from ponder.agent.errors import PonderError
from ponder.agent.settings import defaults
from ponder.server.cli.arguments import at_least, positive

SOURCES = ("memory", "paths", "traces")

LEARN_EXAMPLES = """examples:
  ponder learn --from traces ../shared/data/cruxeval-dev.jsonl --model qwen2.5-coder-0.5b
  ponder learn --from memory --from paths runs/paths-*.jsonl --epochs 2
  ponder learn --out ~/adapters/run1 --resume          # go on after a stop

Functions of the validation split (a hash of the code) never give an example. Code from a data
file runs only in a confined child process (ponder doctor shows how it is confined).
"""


def add_command(sub) -> None:
    learn = sub.add_parser(
        "learn",
        help="train a LoRA adapter on verified reasoning (accepted traces, right paths, exact traces)",
        description="Build a training set of verified reasoning, train a LoRA adapter for the "
        "model (transformers + peft on the GGUF's own weights; CPU, or CUDA when present), "
        "checkpoint as it goes, and write a llama.cpp adapter file (adapter.gguf).",
        epilog=LEARN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    learn.add_argument(
        "--from",
        dest="sources",
        action="append",
        nargs="+",
        metavar=("SOURCE", "FILE"),
        help="memory (your accepted traces), paths FILE... (saved paths: the right ones), "
        "traces DATA (exact execution traces of the data's functions); repeat to mix",
    )
    learn.add_argument("--model", help="model alias or .gguf path (default: the configured one)")
    learn.add_argument("--out", help="the run's folder (default $PONDER_HOME/adapters/MODEL-TIME)")
    learn.add_argument("--resume", action="store_true", help="go on from --out's last checkpoint")
    learn.add_argument(
        "--examples",
        type=at_least(0),
        default=0,
        metavar="N",
        help="at most N examples (default all)",
    )
    learn.add_argument("--epochs", type=at_least(1), default=1)
    learn.add_argument(
        "--max-tokens",
        type=at_least(1),
        default=512,
        help="longer examples are left out (default 512)",
    )
    learn.add_argument("--learning-rate", type=positive, default=1e-4)
    learn.add_argument("--rank", type=at_least(1), default=16, help="LoRA rank (alpha is twice it)")
    learn.add_argument("--checkpoint-every", type=at_least(1), default=10, metavar="STEPS")
    learn.add_argument("--seed", type=int, default=0)
    learn.add_argument(
        "--inputs-per-item",
        type=at_least(1),
        default=3,
        help="traces: the given input and mutations of it (default 3)",
    )
    learn.add_argument(
        "--paths-per-item",
        type=at_least(1),
        default=2,
        help="paths: right paths kept per item (default 2)",
    )
    learn.add_argument(
        "--data", help="paths: the items' data file (default: the one the paths name)"
    )
    learn.add_argument(
        "--memory", metavar="PATH", help="memory: the store (default $PONDER_HOME/memory)"
    )
    learn.add_argument(
        "--outtype", choices=["f16", "q8_0"], default="f16", help="the adapter file's tensors"
    )
    learn.add_argument(
        "--export-rank",
        type=at_least(1),
        metavar="R",
        help="write the adapter at this lower rank (each update's best rank-R approximation): "
        "a smaller file; with --resume, a finished run exported again",
    )
    learn.set_defaults(run=learn_main)


def learn_main(args) -> None:
    from ponder.agent.learning import export, train

    out = Path(args.out) if args.out else None
    if args.resume:
        if out is None:
            raise PonderError("--resume needs --out: the folder of the run to go on with")
        trained_on, name, budget = train.read_run(out)
        resolved = models.resolve(args.model or name or defaults().model)
        if str(resolved.path) != trained_on:
            raise PonderError(
                f"{out} trains {trained_on}, not {resolved.path}: resume with its --model"
            )
        records = _read_examples(out)
        print(
            f"resuming {out}: {len(records)} examples, the run's budget ({budget})", file=sys.stderr
        )
    else:
        resolved = models.resolve(args.model or defaults().model)
        out = out or _default_folder(resolved.name)
        if not args.sources:
            raise PonderError(
                "say what to learn from: --from memory, --from paths FILE…, --from traces DATA"
            )
        if (out / "checkpoint").exists():
            raise PonderError(
                f"{out} holds a run already: --resume goes on with it, or choose another --out"
            )
        records = _collect(args)
        out.mkdir(parents=True, exist_ok=True)
        _write_examples(out, records)
        budget = train.Budget(
            epochs=args.epochs,
            max_tokens=args.max_tokens,
            learning_rate=args.learning_rate,
            rank=args.rank,
            alpha=2 * args.rank,
            checkpoint_every=args.checkpoint_every,
            seed=args.seed,
        )
    trained = train.train(
        resolved.path, records, out, budget, resume=args.resume, model_name=resolved.name
    )
    from safetensors.torch import load_file

    state = load_file(out / "checkpoint" / "adapter.safetensors")
    alpha = float(budget.alpha)
    if args.export_rank:
        state, alpha, kept = export.lower_rank(state, alpha, args.export_rank)
        print(
            f"rank {budget.rank} → {args.export_rank}: {kept:.1%} of the updates' squared norm "
            "kept",
            file=sys.stderr,
        )
    adapter = out / "adapter.gguf"
    size = export.write_adapter(
        state,
        trained.shape,
        alpha,
        adapter,
        base_sha256=_model_sha256(resolved),
        base_name=resolved.name,
        outtype=args.outtype,
    )
    print(f"adapter: {adapter} ({size / 1e6:.1f} MB), loss curve: {out / 'loss.png'}")
    print(f"use it: ponder ask FILE:LINE QUESTION --model {resolved.name} --adapter {adapter}")
    print(
        f"RESULT examples={trained.examples} too_long={trained.too_long} steps={trained.steps} "
        f"seconds={trained.seconds:.0f} loss_first={trained.loss_first:.4f} "
        f"loss_last={trained.loss_last:.4f}"
    )


def _collect(args) -> list[dict]:
    """The examples of every --from source, counted, each once, shuffled, at most --examples."""
    from ponder.agent.learning import examples

    found: list[examples.Example] = []
    for kind, *files in args.sources:
        if kind not in SOURCES:
            raise PonderError(f"--from {kind}: a source is one of {', '.join(SOURCES)}")
        started = time.perf_counter()
        made = list(_source(kind, files, args))
        verified = sum(e.verified for e in made)
        checked = f", {verified} verified by running" if verified else ""
        seconds = time.perf_counter() - started
        noun = "example" if len(made) == 1 else "examples"
        print(f"from {kind}: {len(made)} {noun}{checked} ({seconds:.0f} s)", file=sys.stderr)
        found += made
    kept = examples.deduplicated(found)
    random.Random(args.seed).shuffle(kept)
    kept = kept[: args.examples or None]
    if not kept:
        raise PonderError("no training examples: every source gave none (see the counts above)")
    counts = {s: sum(1 for e in kept if e.source == s) for s in SOURCES}
    print(
        "training on " + ", ".join(f"{n} from {s}" for s, n in counts.items() if n), file=sys.stderr
    )
    return [e.record() for e in kept]


def _source(kind: str, files: list[str], args):
    from ponder.agent.evaluation import harness
    from ponder.agent.learning import examples
    from ponder.agent.learning.tracer import Bounds

    if kind == "memory":
        if files:
            raise PonderError("--from memory takes no files (--memory PATH names the store)")
        return examples.from_memory(_memory_traces(args.memory))
    if not files:
        raise PonderError(
            f"--from {kind} needs {'saved-paths files' if kind == 'paths' else 'a data file'}"
        )
    paths = [Path(f) for f in files]
    for path in paths:
        if not path.is_file():
            raise PonderError(f"no such file: {path}")
    if kind == "paths":
        header, items = harness.read_many_paths(paths)
        data = Path(args.data or header["data"])
        if not data.is_file():
            raise PonderError(f"the items' code is in {data}, which does not exist (--data FILE)")
        return examples.from_paths(items, examples.code_by_id(data), args.paths_per_item)
    items = [item for path in paths for item in harness.load_items(path)]
    return examples.from_traces(items, args.inputs_per_item, Bounds())


def _memory_traces(path: str | None) -> list[dict]:
    from ponder.agent.services import memory_uri
    from ponder.memory.embedder import make_embedder
    from ponder.memory.store import TraceStore

    store = TraceStore(path or memory_uri(defaults()), make_embedder("minilm")).open()
    return store.all()


def _write_examples(out: Path, records: list[dict]) -> None:
    partial = out / "examples.jsonl.partial"
    with open(partial, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.replace(out / "examples.jsonl")


def _read_examples(out: Path) -> list[dict]:
    path = out / "examples.jsonl"
    if not path.is_file():
        raise PonderError(f"nothing to resume in {out} (no examples.jsonl)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _default_folder(model: str) -> Path:
    return models.ponder_home() / "adapters" / f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def _model_sha256(resolved: models.ResolvedModel) -> str:
    spec = models.MODELS.get(resolved.name)
    return spec.sha256 if spec and resolved.verified else models.sha256_of([resolved.path])
