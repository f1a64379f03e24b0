"""`ponder ask`: start `ponder serve`, ask one question over LSP, print the answer."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path

from ponder.agent.errors import PonderError
from ponder.agent.settings import STRATEGIES
from ponder.server.cli.arguments import add_adapter


def add_command(sub) -> None:
    ask = sub.add_parser(
        "ask",
        help="ask a question about code (starts `ponder serve` and speaks LSP to it)",
        description="Ask about a file, or about the definition at PATH:LINE[:COL] (1-based).",
    )
    ask.add_argument("location", metavar="PATH[:LINE[:COL]]")
    ask.add_argument("question", nargs="?", default="", help='default: "reason about this"')
    ask.add_argument("--model", help="model alias or path to a .gguf file")
    add_adapter(ask)
    ask.add_argument(
        "--strategy",
        choices=STRATEGIES,
        help="default auto: self_consistency, or greedy for a free-text question (explain, why, "
        "review, or prose from the first path to another open question)",
    )
    ask.add_argument("--samples", type=int, help="paths for self_consistency / cot_decoding")
    ask.add_argument("--step-back", action="store_true", help="ask for the principle first")
    ask.add_argument("--json", action="store_true", help="print the ponder/reason result as JSON")
    ask.set_defaults(run=lambda args: sys.exit(asyncio.run(ask_main(args))))


def parse_location(location: str) -> tuple[Path, str, int | None, int | None]:
    """PATH[:LINE[:COL]] as the file, its text and the 1-based line and column, checked here, in
    the user's terms, before a server (and its model) starts."""
    m = re.fullmatch(r"(.+?)(?::(\d+))?(?::(\d+))?", location)
    assert m
    path = Path(m.group(1))
    if path.is_dir():
        raise PonderError(f"{path} is a folder: name a file in it")
    if not path.is_file():
        raise PonderError(f"no such file: {path}")
    line = int(m.group(2)) if m.group(2) else None
    col = int(m.group(3)) if m.group(3) else None
    if line is not None and line < 1 or col is not None and col < 1:
        raise PonderError("LINE and COL are 1-based")
    text = path.read_text(encoding="utf-8", errors="replace")
    # An editor shows one line more after a final newline (where the cursor can stand), as LSP
    # allows the position just past the last line.
    if line is not None and line > len(text.split("\n")):
        count = len(text.splitlines())
        raise PonderError(f"line {line} is past the end of {path} ({count} lines)")
    return path, text, line, col


async def ask_main(args) -> int:
    from ponder.server.client import AskClient, LspError, Spinner

    logging.getLogger("pygls").setLevel(logging.CRITICAL)  # what fails is said once, by us

    path, text, line, col = parse_location(args.location)
    spinner = Spinner()
    messages: list[str] = []
    kept: list[str] = []
    answered = False  # once True, the model load's progress is not drawn below the answer

    def on_notification(method: str, params) -> None:
        if method == "$/progress" and not answered:
            value = params.get("value", {})
            text = value.get("message") or value.get("title") or ""
            if value.get("kind") == "end":
                spinner.show(text)
                spinner.clear()
            elif text.startswith("first answer ") and not kept:
                kept.append(text)  # greedy's answer: kept on screen while the other paths run
                spinner.keep(text)
            elif text:
                spinner.show(text)
        elif method == "window/showMessage":
            messages.append(params.get("message", ""))

    client = AskClient(on_notification)
    # --quiet: a refused request or a model that does not load is said once, here, not also
    # as a warning in the server's log (which goes to the same terminal).
    serve = [sys.executable, "-m", "ponder", "serve", "--quiet"]
    await client.start(serve, env=dict(os.environ))
    try:
        chosen = {"model": args.model, "adapter": args.adapter}
        await client.begin({k: v for k, v in chosen.items() if v is not None})
    except LspError as e:  # the server died at start (its stderr said why)
        print(f"ponder: {e}", file=sys.stderr)
        await client.close()
        return 1
    uri = path.resolve().as_uri()
    client.open(uri, text)
    params: dict = {"textDocument": {"uri": uri}, "workDoneToken": "ponder-ask"}
    if line is not None:
        params["position"] = {"line": line - 1, "character": (col or 1) - 1}
    if args.question:
        params["question"] = args.question
    reason_options = {}
    if args.strategy:
        reason_options["strategy"] = args.strategy
    if args.samples is not None:  # 0 too: the server refuses it with the allowed range
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
        answered = True
        spinner.clear()
        for m in dict.fromkeys(messages):  # the same failure is told by the load and the request
            if m != f"ponder: {e}":
                print(m, file=sys.stderr)
        print(f"ponder: {e}", file=sys.stderr)
        await client.close()
        return 130 if e.code == -32800 else 1
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    answered = True
    spinner.clear()
    await client.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_answer(result, time.perf_counter() - started)
    return 0


def print_answer(wire: dict, seconds: float) -> None:
    from ponder.agent.results import Answer
    from ponder.server.render import agreement_text, votes_text
    from ponder.server.wire import parse

    result = parse(Answer, wire)
    uncertain = result.verdict == "uncertain"
    print(f"Answer: {result.answer}" + ("   (UNCERTAIN: do not rely on it)" if uncertain else ""))
    if result.verdict == "unchecked":
        trust = "free text, not checked (only values are scored)"
    elif result.confidence is None:
        trust = f"{result.verdict}, {result.uncalibrated or 'not calibrated'}"
    else:
        trust = f"{result.confidence:.2f} ({result.verdict})"
    print(f"Confidence: {trust}; {agreement_text(result)}  ({result.strategy})")
    votes = votes_text(result)
    if votes:
        print(f"Votes: {votes}")
    if result.principle:
        print(f"\nPrinciple: {result.principle}")
    print(f"\nReasoning:\n{result.rationale}")
    usage = result.usage
    print(
        f"\n[{result.model}: {usage.prompt_tokens} prompt + {usage.completion_tokens} "
        f"generated tokens, {usage.seconds:.1f} s model time, {seconds:.1f} s in all]"
    )
