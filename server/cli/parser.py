"""The `ponder` command line: every command's arguments, in one place."""

from __future__ import annotations

import argparse

from ponder import VERSION
from ponder.agent.settings import EMBEDDERS, STRATEGIES

SPLITS = ("all", "train", "validation")  # agent/evaluation/harness.py load_items

# `ponder eval aggregate`'s rules unless --rules says otherwise: greedy, the default, its cheaper
# and unweighted neighbours.
DEFAULT_RULES = (
    "greedy,majority+greedy@6,weighted+greedy@5,weighted+greedy@6,weighted+greedy+first5@6"
)


def at_least(low: int):
    """An argparse type: an integer no smaller than `low` (argparse names the flag)."""

    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse's message for a non-number: "invalid integer value"
    return parse


def positive(text: str) -> float:
    """An argparse type: a number above 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


EXAMPLES = """examples:
  ponder serve                                   # the language server, over stdio
  ponder ask examples/inventory.py:12 "What does restock return for an empty list?"
  ponder ask app.py "reason about this" --model qwen2.5-coder-0.5b --json
  ponder eval cruxeval --limit 50 --strategies greedy,sc --model qwen2.5-coder-0.5b
  ponder serve --backend-url http://gpu-box:8080/v1   # reason with a team's model server
  ponder doctor
"""


def _items(command: argparse.ArgumentParser, limit: int, what: str) -> None:
    """The arguments every command over CRUXEval items takes."""
    command.add_argument("--data", default="../shared/data/cruxeval-dev.jsonl", help="JSONL items")
    command.add_argument(
        "--limit", type=at_least(1), default=limit, help=f"{what} (default {limit})"
    )
    command.add_argument("--offset", type=at_least(0), default=0, help="skip this many items first")
    command.add_argument(
        "--every",
        type=at_least(1),
        default=1,
        metavar="N",
        help="take every Nth item from --offset on (a spread sample of the split; default 1)",
    )
    command.add_argument(
        "--split",
        choices=SPLITS,
        default="all",
        help="the functions ponder learn trains on, or those it never sees (a hash of the "
        "code: 181 of the 640 dev items are validation)",
    )
    command.add_argument("--model", help="model alias or .gguf path")
    _adapter(command)


def _adapter(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--adapter",
        metavar="FILE",
        help="a LoRA adapter for the model (.gguf, from ponder learn; env PONDER_ADAPTER)",
    )


def _backend(command: argparse.ArgumentParser) -> None:
    """The arguments that point ponder at a team's model server."""
    command.add_argument(
        "--backend-url",
        metavar="URL",
        help="reason with an OpenAI-compatible model server (llama-server, vLLM) at URL, e.g. "
        "http://gpu-box:8080/v1, instead of a model in this process (env PONDER_BACKEND_URL)",
    )
    command.add_argument(
        "--backend-model",
        metavar="NAME",
        help="the served model's name (default: the first the server lists)",
    )


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ponder",
        description="ponder: a local reasoning language server (offline, GGUF models).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ponder {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the language server over stdio")
    serve.add_argument("--model", help="model alias or path to a .gguf file (env PONDER_MODEL)")
    _adapter(serve)
    _backend(serve)
    serve.add_argument(
        "--stdio", action="store_true", help="accepted and ignored: stdio is the only transport"
    )
    serve.add_argument("--log-file", help="write the server log here (default: stderr)")
    serve.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    serve.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="log errors only, not refused requests (for a client that reports those itself)",
    )

    ask = sub.add_parser(
        "ask",
        help="ask a question about code (starts `ponder serve` and speaks LSP to it)",
        description="Ask about a file, or about the definition at PATH:LINE[:COL] (1-based).",
    )
    ask.add_argument("location", metavar="PATH[:LINE[:COL]]")
    ask.add_argument("question", nargs="?", default="", help='default: "reason about this"')
    ask.add_argument("--model", help="model alias or path to a .gguf file")
    _adapter(ask)
    ask.add_argument(
        "--strategy",
        choices=STRATEGIES,
        help="default auto: self_consistency, or greedy for a free-text question (explain, why, "
        "review, or prose from the first path to another open question)",
    )
    ask.add_argument("--samples", type=int, help="paths for self_consistency / cot_decoding")
    ask.add_argument("--step-back", action="store_true", help="ask for the principle first")
    ask.add_argument("--json", action="store_true", help="print the ponder/reason result as JSON")

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
    _items(crux, 20, "items to ask")
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
    _items(con, 30, "functions to ask about")
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
    _items(rel, 60, "pairs to ask")
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

    mem = sub.add_parser(
        "memory", help="the memory of accepted reasoning (list, search, export...)"
    )
    mem.add_argument("--path", help="store path or LanceDB URI (default $PONDER_HOME/memory)")
    mem.add_argument("--embedder", choices=EMBEDDERS, default="minilm")
    msub = mem.add_subparsers(dest="action", required=True, metavar="ACTION")
    msub.add_parser("list", help="the most recent traces").add_argument(
        "--limit", type=at_least(1), default=20
    )
    msub.add_parser("search", help="accepted traces similar to a query").add_argument("query")
    msub.add_parser("show", help="one trace in full").add_argument("id")
    msub.add_parser("forget", help="delete one trace").add_argument("id")
    exp = msub.add_parser("export", help="write every trace as JSONL")
    exp.add_argument("file")
    exp.add_argument(
        "--format",
        choices=["traces", "chat"],
        default="traces",
        help="chat: accepted traces as chat-format training examples",
    )
    msub.add_parser("import", help="read traces from an export").add_argument("file")
    msub.add_parser("stats", help="counts, indices, embedder")

    _learn(sub)

    doctor = sub.add_parser(
        "doctor",
        help="show the llama.cpp build, GPU offload, the resolved model and the model server",
    )
    doctor.add_argument("--model", help="model alias or .gguf path (default: the configured one)")
    _adapter(doctor)
    _backend(doctor)

    models_cmd = sub.add_parser("models", help="list the bundled model aliases")
    models_cmd.add_argument("--prepare", metavar="ALIAS", help="assemble and verify one now")

    return parser


LEARN_EXAMPLES = """examples:
  ponder learn --from traces ../shared/data/cruxeval-dev.jsonl --model qwen2.5-coder-0.5b
  ponder learn --from memory --from paths runs/paths-*.jsonl --epochs 2
  ponder learn --out ~/adapters/run1 --resume          # go on after a stop

Functions of the validation split (a hash of the code) never give an example. Code from a data
file runs only in a confined child process (ponder doctor shows how it is confined).
"""


def _learn(sub) -> None:
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
