"""Benchmark the server as an editor sees it, over stdio:

    python scripts/bench_server.py --model qwen2.5-coder-1.5b

cold `initialize` latency (process start → response), first-answer latency for the demo question
(sent right after `initialized`, so it includes the model load), generated tokens per second of that
answer, and cancel latency ($/cancelRequest → the -32800 error) during a long generation. Last line:
RESULT model=M initialize_ms=A first_answer_s=B answer_tok_s=C cancel_ms=D
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

from agent.models import DEFAULT_MODEL  # noqa: E402
from server.client import LspError, StdioClient  # noqa: E402

EXAMPLE = ROOT / "examples" / "inventory.py"
QUESTION = "What does restock({'Apple': 0, 'pear': 2}, ['apple', ' Pear', 'fig', 'FIG']) return?"


async def main(model: str) -> None:
    client = StdioClient()
    started = time.perf_counter()
    await client.start([sys.executable, "-m", "server"], env=dict(os.environ, PONDER_MODEL=model))
    await client.request("initialize", {"processId": os.getpid(), "capabilities": {}})
    initialize_ms = (time.perf_counter() - started) * 1000
    client.notify("initialized", {})
    uri = EXAMPLE.as_uri()
    client.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": "python",
                "version": 1,
                "text": EXAMPLE.read_text(),
            }
        },
    )
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
        f"answer_tok_s={answer_tok_s:.1f} cancel_ms={cancel_ms:.0f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_MODEL)
    asyncio.run(main(parser.parse_args().model))
