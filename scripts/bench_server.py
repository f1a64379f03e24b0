"""Benchmark the server as an editor sees it, over stdio:

    python scripts/bench_server.py --model qwen2.5-coder-1.5b

cold `initialize` latency (process start → response), first-answer latency for the demo question
(sent right after `initialized`, so it includes the model load), generated tokens per second of that
answer, first streamed words (request → the first partial result of the reasoning, model loaded;
also split into the prompt evaluation before generation starts and the time after it), and cancel
latency ($/cancelRequest → the -32800 error) during a long generation. Last line:
RESULT model=M initialize_ms=A first_answer_s=B answer_tok_s=C first_partial_ms=P
  first_partial_after_prompt_ms=Q cancel_ms=D
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ponder.agent.models import DEFAULT_MODEL  # noqa: E402
from ponder.server.client import AskClient, LspError  # noqa: E402

EXAMPLE = ROOT / "examples" / "inventory.py"
QUESTION = "What does restock({'Apple': 0, 'pear': 2}, ['apple', ' Pear', 'fig', 'FIG']) return?"


async def main(model: str) -> None:
    partials: list[float] = []
    thinking: list[float] = []  # "thinking: N tokens" reports: the first one is the first token

    def on_notification(method: str, params) -> None:
        if method != "$/progress":
            return
        if params.get("token") == "bench-partial":
            partials.append(time.perf_counter())
        value = params.get("value") or {}
        if value.get("kind") == "report" and str(value.get("message", "")).endswith(" tokens"):
            thinking.append(time.perf_counter())

    client = AskClient(on_notification)
    started = time.perf_counter()
    await client.start(
        [sys.executable, "-m", "ponder.server"], env=dict(os.environ, PONDER_MODEL=model)
    )
    await client.begin({}, progress=False)
    initialize_ms = (time.perf_counter() - started) * 1000
    uri = EXAMPLE.as_uri()
    client.open(uri, EXAMPLE.read_text(), "python")
    params = {
        "textDocument": {"uri": uri},
        "position": {"line": 10, "character": 0},
        "question": QUESTION,
    }
    started = time.perf_counter()
    result = await client.request("ponder/reason", params)
    first_answer_s = time.perf_counter() - started
    usage = result["usage"]
    answer_tok_s = usage["completionTokens"] / usage["seconds"]
    print(f"initialize: {initialize_ms:.0f} ms")
    print(
        f"first answer: {first_answer_s:.1f} s ({usage['completionTokens']} tokens): {result['answer']}"
    )

    # Streaming, with the model loaded: the first partial reasoning text.
    partials.clear()
    thinking.clear()
    started = time.perf_counter()
    await client.request(
        "ponder/reason",
        dict(params, partialResultToken="bench-partial", workDoneToken="bench-work"),
    )
    first_partial_ms = (partials[0] - started) * 1000 if partials else float("nan")
    after_prompt_ms = (partials[0] - thinking[0]) * 1000 if partials and thinking else float("nan")
    print(
        f"first partial result: {first_partial_ms:.0f} ms after the request "
        f"({after_prompt_ms:.0f} ms after generation started), {len(partials)} partials"
    )

    long_params = dict(params, options={"maxTokens": 2000})
    request = asyncio.ensure_future(client.request("ponder/reason", long_params))
    await asyncio.sleep(3.0)
    msg_id = client.last_request_id
    started = time.perf_counter()
    client.cancel(msg_id)
    try:
        await request
        cancel_ms = float("nan")
        print("cancel: the request finished before the cancel arrived")
    except LspError as e:
        cancel_ms = (time.perf_counter() - started) * 1000
        print(f"cancel: error {e.code} after {cancel_ms:.0f} ms")
    # The server must still answer.
    after = await client.request("ponder/reason", dict(params, options={"maxTokens": 8}))
    assert after["usage"]["completionTokens"] > 0
    code = await client.close()
    print(f"shutdown/exit status: {code}")
    print(
        f"RESULT model={model} initialize_ms={initialize_ms:.0f} first_answer_s={first_answer_s:.1f} "
        f"answer_tok_s={answer_tok_s:.1f} first_partial_ms={first_partial_ms:.0f} "
        f"first_partial_after_prompt_ms={after_prompt_ms:.0f} cancel_ms={cancel_ms:.0f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_MODEL)
    asyncio.run(main(parser.parse_args().model))
