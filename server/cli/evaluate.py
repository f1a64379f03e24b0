"""`ponder eval`: cruxeval (ask items, or --save-paths), aggregate (voting rules on saved paths),
related (memory on related questions), concepts (step-back on conceptual vs execution
questions). The harness lives in agent/evaluation/."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ponder.agent.errors import PonderError
from ponder.agent.settings import ReasonSettings, refusal
from ponder.server.cli import eval_explain
from ponder.server.cli.arguments import SPLITS, add_items, command_settings
from ponder.server.cli.files import check_writable

# `ponder eval aggregate`'s rules unless --rules says otherwise: greedy, the default, its cheaper
# and unweighted neighbours.
DEFAULT_RULES = (
    "greedy,majority+greedy@6,weighted+greedy@5,weighted+greedy@6,weighted+greedy+first5@6"
)


def add_command(sub) -> None:
    ev = sub.add_parser(
        "eval",
        help="evaluate strategies on CRUXEval items (what does f(x) return?)",
        description="Ask each item through the server's pipeline and score the answers by parsing them "
        "as Python literals and comparing them with the true output. Prints a table per strategy and a RESULT line. "
        "With --save-paths, sample every path once instead (the greedy path and --samples "
        "sampled ones, in one batch) and save them; `ponder eval aggregate` then scores voting "
        "rules offline.",
    )
    evsub = ev.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    crux = evsub.add_parser("cruxeval", help="ask CRUXEval items (output prediction)")
    crux.set_defaults(run=checked(cruxeval_main))
    add_items(crux, 20, "items to ask")
    crux.add_argument(
        "--strategies",
        default="greedy,sc",
        help="comma-separated: greedy, sc, sc+stepback, greedy+stepback, cot_decoding",
    )
    crux.add_argument(
        "--samples",
        type=int,
        help="paths for sc / cot_decoding (default: settings, 6, the greedy path "
        "among them); with --save-paths, sampled paths besides the greedy one "
        "(default: one fewer than the settings' paths, 5)",
    )
    crux.add_argument("--max-tokens", type=int, default=512, help="tokens per path")
    crux.add_argument("--temperature", type=float, help="sampling temperature (default: settings)")
    crux.add_argument(
        "--seed", type=int, help="sampling seed (default: settings, 0): another seed, another draw"
    )
    crux.add_argument("--json", metavar="FILE", help="write per-item results and summaries here")
    crux.add_argument("--memory", metavar="PATH", help="retrieve worked examples from this store")
    crux.add_argument(
        "--remember",
        action="store_true",
        help="accept every correct answer into --memory (as a user would)",
    )
    crux.add_argument(
        "--save-paths",
        metavar="FILE",
        help="sample and save every path (JSONL; resumes a stopped run)",
    )
    con = evsub.add_parser(
        "concepts",
        help="step-back on conceptual vs execution questions about the same calls",
        description="For each CRUXEval function with a list, dict or set argument, asks "
        "conceptual True/False questions about the call (mutates: does it change an argument in "
        "place? aliases: is the result one of its arguments itself? order: would the result be "
        "the same with its list reversed? true answers from running f) and the execution "
        "question 'What does f(x) return?', with each strategy; prints accuracy per kind of "
        "question and each strategy's items won/lost against the first. With --questions type, "
        "every function's call is asked what type of value it returns (a free answer).",
    )
    con.set_defaults(run=checked(concepts_main))
    add_items(con, 30, "functions to ask about")
    con.add_argument(
        "--strategies",
        default="greedy,greedy+stepback",
        help="comma-separated, as for cruxeval (default greedy,greedy+stepback)",
    )
    con.add_argument("--max-tokens", type=int, default=512, help="tokens per path")
    con.add_argument(
        "--questions",
        default="conceptual,execution",
        help="which kinds to ask, comma-separated: mutates, aliases, order, "
        "conceptual (those three), type (what type of value f(x) returns: every "
        "call, a free answer), execution (default conceptual,execution)",
    )
    con.add_argument("--json", metavar="FILE", help="write per-item results and summaries here")
    rel = evsub.add_parser(
        "related",
        help="memory on related questions: ask A, accept when right, ask B with memory on/off",
        description="For each CRUXEval function, B is a second input made by a small mutation "
        "of A's, its true output computed by running f (items that raise, hang or keep A's "
        "output are skipped). A is asked without memory and accepted into a fresh store when "
        "right; B is asked with memory off and on; then each B is asked with only other "
        "functions' traces retrievable (memory must not hurt unrelated questions). Greedy.",
    )
    rel.set_defaults(run=checked(related_main))
    add_items(rel, 60, "pairs to ask")
    rel.add_argument("--store", metavar="PATH", help="memory store (default: a temporary one)")
    rel.add_argument("--json", metavar="FILE", help="write per-pair results here")
    # agent.pipeline.SameCode, spelled out: the parser does not import the pipeline (start-up).
    rel.add_argument(
        "--same-code",
        choices=["hide", "trace", "rule", "answer", "contrast"],
        default="hide",
        help="what B is shown of its function's remembered A: hide (the product: "
        "shown whole, it was measured to hurt), trace (A's whole trace, to measure "
        "that again), rule (a one- or two-sentence rule of the code, derived by "
        "the model from A's accepted trace; costs one short generation per accept) "
        "answer (A's question and verified answer only, no reasoning) or contrast (that "
        "answer, and B asked to say how its input differs from A's first)",
    )
    eval_explain.add_subcommand(evsub).set_defaults(run=checked(eval_explain.explain_main))
    agg = evsub.add_parser(
        "aggregate",
        help="score voting rules on saved paths (no model needed)",
        description="Rules: greedy, or VOTE[+greedy][+adaptive][+early][+firstM]@K with VOTE one of "
        "majority (one vote per path), weighted (votes weighted by answer-token margin), "
        "maxmargin (the path with the largest margin). +greedy: the greedy path is one of the K "
        "votes. +adaptive: 3 paths first, the other K-3 only when the first 3 disagree. +early "
        "(majority only): one batch, stopped once the paths still running cannot change the "
        "majority. +firstM: one batch, stopped once M paths have finished; only they vote. "
        "Seconds are "
        "estimated from the run's own decode-step timings.",
    )
    agg.set_defaults(run=checked(aggregate_main))
    agg.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="files written by `ponder eval cruxeval --save-paths` (several: scored "
        "as one set of items; they must be sampled the same way)",
    )
    agg.add_argument(
        "--rules",
        default=DEFAULT_RULES,
        help=f"comma-separated rules (see above; default {DEFAULT_RULES})",
    )
    agg.add_argument("--model", help="refuse a file sampled with another model")
    agg.add_argument(
        "--split",
        choices=SPLITS,
        default="all",
        help="only the items of ponder learn's training or validation functions",
    )
    agg.add_argument("--plot", metavar="PNG", help="reliability diagram and accuracy vs k")
    agg.add_argument(
        "--fit-calibration",
        action="store_true",
        help="print calibration tables fitted on all items (agent/calibration.py)",
    )
    agg.add_argument("--json", metavar="FILE", help="write the summaries here")
    agg.add_argument(
        "--held-out",
        action="store_true",
        help="the items were not used to fit agent/calibration.py: the calibrated "
        "column maps raw confidences through the shipped table of the file's model "
        "(greedy's table for greedy, the default self-consistency's for every vote "
        "rule, so only the default rule's row is its own) instead of cross-fitting",
    )
    agg.add_argument(
        "--rescore",
        action="store_true",
        help="extract the answers again with this version's extractor and score them",
    )


def checked(command):
    """`command`, after refusing an output file that cannot be written (before the run, not
    after hours of it)."""

    def run(args) -> None:
        for flag in ("json", "plot", "save_paths"):
            if isinstance(value := getattr(args, flag, None), str):
                check_writable(Path(value), "--" + flag.replace("_", "-"))
        command(args)

    return run


def cruxeval_main(args) -> None:
    if args.save_paths:
        sample_paths_main(args)
    else:
        eval_main(args)


def eval_setup(args, limit: int | None):
    """The items, settings and loaded engine an `eval` command runs on."""
    from ponder.agent.evaluation import harness as evaluate
    from ponder.agent.services import make_engine

    data = Path(args.data)
    if not data.is_file():
        raise PonderError(
            f"no such data file: {data} (give --data FILE: items as JSONL lines with code, input "
            "and output; the default is this workspace's CRUXEval dev split)"
        )
    items = evaluate.load_items(data, limit, args.offset, args.every, args.split)
    if not items:
        raise PonderError(f"no items in {data} from --offset {args.offset}")
    settings, _ = command_settings(args)
    _apply_reason_flags(args, settings.reason)
    engine = make_engine(settings)
    engine.load()
    if problem := engine.adapter_problem:
        raise PonderError(problem)  # a figure must be of what it names
    return data, items, settings, engine


def _apply_reason_flags(args, reason) -> None:
    """--temperature, --seed, --max-tokens and --samples onto `reason`, within the limits the
    editor settings have (a PonderError naming the flag otherwise)."""
    for name in ("temperature", "seed", "max_tokens", "samples"):
        value = getattr(args, name, None)
        if value is None:
            continue
        flag = "--" + name.replace("_", "-")
        if name == "samples" and getattr(args, "save_paths", None):
            # --save-paths samples the greedy path besides these: one path more than asked
            if why := refusal(ReasonSettings, name, value + 1):
                raise PonderError(
                    f"{flag} {value} and the greedy path make {value + 1} paths: {why}"
                )
            continue
        if why := refusal(ReasonSettings, name, value):
            raise PonderError(f"{flag} {why}")
        setattr(reason, name, value)


def eval_main(args) -> None:
    import dataclasses

    from ponder.agent import pipeline
    from ponder.agent.evaluation import harness as evaluate

    names = _strategy_names(args.strategies)
    data, items, settings, engine = eval_setup(args, args.limit)
    base = settings.reason  # the flags are already on it (_apply_reason_flags)
    recall = remember = None
    if args.memory:
        from ponder.memory.embedder import make_embedder
        from ponder.memory.store import TraceStore

        store = TraceStore(args.memory, make_embedder("minilm")).open()

        def recall(question: str, code: str) -> list[dict]:
            return store.search(question, code, k=settings.memory.top_k)

        if args.remember:

            def remember(answer) -> None:
                store.add({**dataclasses.asdict(answer), "tags": ["eval"]})
    elif args.remember:
        raise PonderError("--remember needs --memory PATH")
    print(f"{len(items)} items from {data}, model {pipeline.model_label(engine)}", file=sys.stderr)
    summaries, everything = {}, []
    for name in names:

        def on_item(n: int, r, name=name) -> None:
            mark = "ok " if r.correct else "-- "
            conf = "-" if r.confidence is None else f"{r.confidence:.2f}"
            print(
                f"[{name} {n + 1}/{len(items)}] {mark}{r.id}: {r.prediction!r:.60} "
                f"(true {r.expected!r:.40}, conf {conf}, {r.seconds:.1f} s)",
                file=sys.stderr,
            )

        results = evaluate.run_strategy(items, engine, name, base, on_item, recall, remember)
        summaries[name] = evaluate.summarise(results)
        everything += [dataclasses.asdict(r) for r in results]
    print(evaluate.table(summaries))
    if args.json:
        out = {
            "model": pipeline.model_label(engine),
            "data": str(data),
            "offset": args.offset,
            "samples": base.samples,
            "max_tokens": args.max_tokens,
            "summaries": summaries,
            "items": everything,
        }
        Path(args.json).write_text(json.dumps(out, indent=1))
    scores = " ".join(f"{name}={s['accuracy']:.3f}" for name, s in summaries.items())
    adapter = engine.adapter.name if engine.adapter else "none"
    print(f"RESULT n={len(items)} adapter={adapter} {scores}")


def sample_paths_main(args) -> None:
    """`ponder eval cruxeval --save-paths FILE`: sample every item's paths once, saved as JSONL."""
    from ponder.agent.evaluation import harness as evaluate

    data, items, settings, engine = eval_setup(args, args.limit)
    reason = settings.reason
    # Sampled paths besides the greedy one: by default the settings' paths in all.
    samples = max(1, reason.samples - 1) if args.samples is None else args.samples
    header = evaluate.paths_header(
        engine,
        data,
        args.offset,
        args.every,
        samples,
        reason.temperature,
        reason.top_p,
        reason.max_tokens,
        reason.seed,
    )
    file = Path(args.save_paths)
    done, out = evaluate.open_paths_file(file, header)
    todo = [it for it in items if it.get("id", "") not in done]
    print(
        f"{len(items)} items from {data} ({len(items) - len(todo)} already in {file}), "
        f"model {engine.name}, 1 greedy + {samples} paths at T={settings.reason.temperature}",
        file=sys.stderr,
    )
    with out:
        for n, item in enumerate(todo, start=1):
            saved = evaluate.sample_item(item, engine, header)
            out.write(json.dumps(saved) + "\n")
            out.flush()
            right = sum(p["correct"] for p in saved["paths"])
            greedy = "ok" if saved["paths"][0]["correct"] else "--"
            print(
                f"[{n}/{len(todo)}] {saved['id']}: greedy {greedy}, {right}/{len(saved['paths'])} "
                f"paths right, {saved['seconds']:.1f} s",
                file=sys.stderr,
            )
    k = samples + 1
    aggregate_main(
        argparse.Namespace(
            files=[str(file)],
            rules=f"greedy,majority+greedy@{k},weighted+greedy@{k}",
            model=None,
            plot=None,
            fit_calibration=False,
            json=None,
            rescore=False,
            held_out=False,
            split="all",
        )
    )


def _strategy_names(text: str) -> list[str]:
    from ponder.agent.evaluation import harness as evaluate

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in evaluate.STRATEGIES]
    if unknown:
        raise PonderError(
            f"unknown strategy {', '.join(unknown)}: use {', '.join(evaluate.STRATEGIES)}"
        )
    return names


def concepts_main(args) -> None:
    import dataclasses

    from ponder.agent.evaluation import concepts
    from ponder.agent.evaluation import harness as evaluate

    names = _strategy_names(args.strategies)
    asked = _question_kinds(args.questions, concepts.YES_NO_KINDS, concepts.KINDS)
    data, items, settings, engine = eval_setup(args, None)
    kinds, calls = _concept_questions(items, asked, args.limit)
    if not calls:
        raise PonderError(f"no item in {data} has a question of the kinds asked ({args.questions})")
    truths = ", ".join(
        f"{kind} {sum(q['output'] == 'True' for q in qs)} of {len(qs)}"
        for kind, qs in kinds.items()
        if kind in concepts.YES_NO_KINDS
    )
    print(
        f"{calls} calls from {data} (true: {truths or '-'}), model {engine.name}", file=sys.stderr
    )
    base = settings.reason  # the flags are already on it (_apply_reason_flags)
    results: dict[tuple[str, str], list] = {}
    for kind, kind_items in kinds.items():
        for name in names:
            on_item = _concept_progress(f"{kind} {name}", len(kind_items))
            results[kind, name] = evaluate.run_strategy(kind_items, engine, name, base, on_item)
    _print_concepts(results, names)
    if args.json:
        rows = {
            f"{kind} {name}": [dataclasses.asdict(r) for r in rs]
            for (kind, name), rs in results.items()
        }
        Path(args.json).write_text(json.dumps({"model": engine.name, "items": rows}, indent=1))


def _concept_questions(
    items: list[dict], asked: list[str], limit: int
) -> tuple[dict[str, list[dict]], int]:
    """The questions of each kind asked, about the first `limit` calls that have one, and how
    many calls that is. A call counts when it has a conceptual question of a kind asked
    (execution alone: the calls with a container argument, as for the True/False kinds)."""
    from ponder.agent.evaluation import concepts

    kinds: dict[str, list[dict]] = {kind: [] for kind in asked}
    deciding = [kind for kind in asked if kind != "execution"] or list(concepts.YES_NO_KINDS)
    calls = 0
    # Each item's f is run in a subprocess: stop at the limit, not at the file's end.
    for item in items:
        if calls >= limit:
            break
        conceptual = concepts.conceptual_items(item)
        if any(q["kind"] in deciding for q in conceptual):
            calls += 1
            for question in [*conceptual, {**item, "kind": "execution"}]:
                if question["kind"] in kinds:
                    kinds[question["kind"]].append(question)
    return {kind: questions for kind, questions in kinds.items() if questions}, calls


def _concept_progress(label: str, total: int):
    def on_item(n: int, r) -> None:
        print(
            f"[{label} {n + 1}/{total}] {'ok' if r.correct else '--'} {r.id}: "
            f"{r.prediction!r:.50} (true {r.expected!r:.30}, {r.seconds:.1f} s)",
            file=sys.stderr,
        )

    return on_item


def _question_kinds(text: str, conceptual: tuple[str, ...], known: tuple[str, ...]) -> list[str]:
    """--questions: kinds by name (`known` and execution); `conceptual` stands for those kinds."""
    asked: list[str] = []
    for name in (k.strip() for k in text.split(",") if k.strip()):
        for kind in conceptual if name == "conceptual" else (name,):
            if kind not in asked:
                asked.append(kind)
    if not asked or set(asked) - {*known, "execution"}:
        others = ", ".join(k for k in known if k not in conceptual)
        raise PonderError(
            f"--questions {text!r}: use conceptual ({', '.join(conceptual)}), {others}, "
            "execution, or a comma-separated list of them"
        )
    return asked


def _print_concepts(results: dict[tuple[str, str], list], names: list[str]) -> None:
    """One row per (kind of question, strategy): accuracy with its interval, items won/lost
    against the first strategy on the same calls, accuracy at confidence >= 0.8, seconds."""
    from ponder.agent.evaluation import aggregate
    from ponder.agent.evaluation import harness as evaluate

    print(
        f"{'question':11} {'strategy':16} {'n':>3} {'acc [95% CI]':>19} {'vs first':>9} "
        f"{'acc@>=0.8':>10} {'s/item':>7}"
    )
    lines = []
    for (kind, name), rs in results.items():
        first = results[kind, names[0]]
        s = evaluate.summarise(rs)
        low, high = aggregate.wilson(sum(r.correct for r in rs), len(rs))
        won = sum(r.correct and not f.correct for r, f in zip(rs, first, strict=True))
        lost = sum(f.correct and not r.correct for r, f in zip(rs, first, strict=True))
        confident = s["high_confidence_accuracy"]
        at_high = (
            f"{confident:.2f} ({s['high_confidence_n']})" if confident is not None else "- (0)"
        )
        print(
            f"{kind:11} {name:16} {s['n']:3d} {s['accuracy']:.3f} [{low:.2f},{high:.2f}] "
            f"{f'+{won}/-{lost}':>9} {at_high:>10} {s['seconds_per_item']:7.1f}"
        )
        lines.append(
            f"RESULT n={s['n']} question={kind} strategy={name} "
            f"acc={s['accuracy']:.3f} s_item={s['seconds_per_item']:.1f}"
        )
    print("\n".join(lines))


def related_main(args) -> None:
    import dataclasses
    import tempfile

    from ponder.agent.evaluation import harness as evaluate
    from ponder.agent.evaluation import related
    from ponder.memory.embedder import make_embedder
    from ponder.memory.store import TraceStore

    data, items, settings, engine = eval_setup(args, None)
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
        print(
            f"[{n + 1}/{len(pairs)}] {r.id}: A {'ok' if r.a_correct else '--'}, "
            f"B off {'ok' if r.b_off else '--'}, B on {'ok' if r.b_on else '--'} "
            f"({r.b_on_memories} memories)" + (f"; rule: {r.rule!r}" if r.rule else ""),
            file=sys.stderr,
        )

    results = evaluate.run_related(
        pairs, engine, options, store, settings.memory.top_k, on_item, args.same_code
    )
    s = evaluate.summarise_related(results)
    print(
        f"pairs {s['n']}: A right {s['a_accuracy']:.3f}; B memory off {s['b_off']:.3f}, "
        f"on {s['b_on']:.3f} (+{s['b_on_wins']}/-{s['b_on_losses']}; {s['retrieved_same']} "
        f"retrieved their A); unrelated memories shown on {s['unrelated_n']} B items, "
        f"accuracy change over all B {s['unrelated_change']:+.3f}"
    )
    print(
        f"RESULT n={s['n']} memory_off={s['b_off']:.3f} memory_on={s['b_on']:.3f} "
        f"unrelated_change={s['unrelated_change']:+.3f}"
    )
    if args.json:
        rows = [dataclasses.asdict(r) for r in results]
        Path(args.json).write_text(json.dumps({"summary": s, "pairs": rows}, indent=1))


def _of_split(items: list[dict], data: Path, split: str) -> list[dict]:
    """The saved items whose function is on `split`'s side (their code is in the data file)."""
    from ponder.agent.evaluation import harness as evaluate

    if not data.is_file():
        raise PonderError(f"--split needs the items' data file {data}, which does not exist")
    held = {item["id"] for item in evaluate.load_items(data, split=split) if "id" in item}
    return [item for item in items if item["id"] in held]


def aggregate_main(args) -> None:
    from ponder.agent.evaluation import aggregate
    from ponder.agent.evaluation import harness as evaluate

    files = [Path(f) for f in args.files]
    header, items = evaluate.read_many_paths(files, args.model)
    if args.split != "all":
        items = _of_split(items, Path(header["data"]), args.split)
    if not items:
        raise PonderError(f"{', '.join(args.files)} hold no items yet")
    if args.rescore:
        print(
            f"re-extracted: {evaluate.rescore(items)} paths changed their answer", file=sys.stderr
        )
    rules = [aggregate.parse_rule(r) for r in args.rules.split(",") if r.strip()]
    report = aggregate.Report(header, items, held_out=args.held_out)
    summaries = {rule.name: report.summarise(rule) for rule in rules}
    print(
        f"{len(items)} items ({args.split}), model {header['model']}, T={header['temperature']}, "
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
