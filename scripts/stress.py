"""Reliability under hostile input and crashes (issue 11), printed as figures.

    python scripts/stress.py [--fuzz 10000] [--kill9 100] [--writers 500] [--egress-model M]

- fuzz: generated LSP messages (seeded `random`, over the real message shapes: every field of
  ponder/reason with wrong types, huge/NaN/negative numbers, lone surrogates, form feed, U+2028,
  a 5 MB document, unknown methods, duplicate ids, requests before initialize and after a second
  initialize, broken framing, 100,000-character values, requests and notifications with a bad
  envelope: "jsonrpc" missing or not "2.0", a response to no request) sent to one server
  (scripted engine, hashing embedder). After each batch a good request must be answered within
  10 s. Counts deaths, hangs, internal errors (-32603 replies, or a traceback on stderr), oversized
  replies (an error reply, a message to the user or a log line over 1 KiB: a client's value
  quoted whole) and bad-envelope requests left unanswered.
- concurrency: 100 ponder/reason requests at once (scripted:slow), half cancelled: every one
  answered (about 5 minutes: the engine takes one request at a time).
- kill -9: a writer process accepting traces is killed at a random point; every acknowledged
  accept must be in the store afterwards, and the store must open.
- writers: two processes accepting N traces each into one store: none lost.
- egress: one real `ponder ask` under `strace -f -e trace=connect`: connections to non-local
  addresses (skipped without --egress-model).
Last line: RESULT fuzz_cases=N deaths=D hangs=H internal_errors=I oversized_replies=O
bad_envelopes=B unanswered_bad_envelopes=U concurrent_unanswered=C kill9_trials=T lost=L writers_lost=W egress=E
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_memory import writer  # noqa: E402  (a process accepting traces)
from tests.wire import WireServer  # noqa: E402

URI = "file:///fuzz/a.py"
TEXT = "import math\n\ndef area(r):\n    return math.pi * r * r\n\f\u2028\nprint(area(2))\n"
ODD_STRINGS = [
    "",
    "\ud800",
    "a\udfffb",
    "\f",
    "\u2028",
    "<|im_end|>",
    "x" * 10_000,
    "x" * 100_000,
    "é😀",
    "\x00",
]
METHODS = [
    "ponder/reason", "ponder/accept", "ponder/reject", "ponder/status", "textDocument/inlayHint",
    "textDocument/hover", "textDocument/codeAction", "workspace/executeCommand",
    "workspace/didChangeConfiguration", "textDocument/didChange", "textDocument/didOpen",
    "no/such/method", "initialize", "$/cancelRequest",
]  # fmt: skip


def leaf(rng: random.Random):
    return rng.choice([
        0, -1, 1, 2**31, 2**64, -(2**63), 10**30, 0.5, float("nan"), float("inf"), -1e308, True,
        None, rng.choice(ODD_STRINGS), [], {}, [1, "a"], {"a": {"b": 1}}, "1", "line",
    ])  # fmt: skip


def maybe(rng: random.Random, good):
    return good if rng.random() < 0.6 else leaf(rng)


def position(rng):
    return maybe(
        rng, {"line": maybe(rng, rng.randint(0, 9)), "character": maybe(rng, rng.randint(0, 30))}
    )


def params_for(method: str, rng: random.Random, answer_ids: list[str]):
    doc = maybe(rng, {"uri": maybe(rng, URI)})
    rng_ = maybe(rng, {"start": position(rng), "end": position(rng)})
    if method == "ponder/reason":
        p = {"textDocument": doc}
        for key, value in [
            ("range", rng_), ("position", position(rng)), ("question", maybe(rng, "what?")),
            ("workDoneToken", maybe(rng, "t")), ("partialResultToken", maybe(rng, 7)),
            ("options", maybe(rng, {rng.choice(["samples", "maxTokens", "temperature", "topP",
                                                "strategy", "seed", "stepBack", "bogus"]): leaf(rng),
                                    "maxTokens": 20})),
        ]:  # fmt: skip
            if rng.random() < 0.5:
                p[key] = value
        return maybe(rng, p)
    if method in ("ponder/accept", "ponder/reject"):
        good = rng.choice(answer_ids) if answer_ids else "0" * 32
        return maybe(rng, {"id": maybe(rng, good), "answer": maybe(rng, "4"), "note": leaf(rng)})
    if method in ("textDocument/inlayHint", "textDocument/codeAction"):
        return maybe(rng, {"textDocument": doc, "range": rng_, "context": {"diagnostics": []}})
    if method == "textDocument/hover":
        return maybe(rng, {"textDocument": doc, "position": position(rng)})
    if method == "workspace/executeCommand":
        command = rng.choice(
            ["ponder.reason", "ponder.acceptAnswer", "ponder.rejectAnswer", "nope"]
        )
        return maybe(rng, {"command": command, "arguments": maybe(rng, [{"textDocument": doc}])})
    if method == "workspace/didChangeConfiguration":
        return {"settings": maybe(rng, {"reason": {"samples": leaf(rng), "maxTokens": 20},
                                        "contextSize": leaf(rng), "inline": leaf(rng)})}  # fmt: skip
    if method == "textDocument/didChange":
        change = {"range": rng_, "text": maybe(rng, "y = 1\n")}
        return maybe(rng, {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [change]})
    if method == "textDocument/didOpen":
        text = "z = 1\n" * rng.choice([1, 10, 800_000]) if rng.random() < 0.05 else maybe(rng, TEXT)
        return {
            "textDocument": {
                "uri": maybe(rng, URI),
                "languageId": "python",
                "version": 1,
                "text": text,
            }
        }
    if method == "$/cancelRequest":
        return {"id": maybe(rng, rng.randint(1, 10_000))}
    return leaf(rng)


BAD_ENVELOPES = [{"jsonrpc": True}, {"jsonrpc": None}, {"jsonrpc": "1.0"}, {"jsonrpc": 2}, {}]
KIB = 1024


def bad_envelope(rng: random.Random, msg_id: str | None) -> dict:
    """A request (msg_id given) or notification whose envelope JSON-RPC 2.0 refuses."""
    if msg_id is not None and rng.random() < 0.2:
        return {"jsonrpc": "2.0", "id": msg_id, "result": leaf(rng)}  # a response to no request
    message = {**rng.choice(BAD_ENVELOPES), "method": rng.choice(METHODS), "params": leaf(rng)}
    return message if msg_id is None else {**message, "id": msg_id}


def oversized(server: WireServer) -> int:
    """Error replies, messages to the user and log lines over 1 KiB."""
    errors = [r for r in server.responses if "error" in r]
    told = [
        n
        for n in server.notifications
        if n.get("method") in ("window/showMessage", "window/logMessage")
    ]
    found = [json.dumps(m) for m in errors + told if len(json.dumps(m).encode()) > KIB]
    found += [line for line in server.stderr if len(line.encode()) > KIB]
    for text in found[:3]:  # what was too long, to find its cause
        print(f"oversized ({len(text.encode())} bytes): {text[:300]}", file=sys.stderr)
    return len(found)


def broken_frame(rng: random.Random) -> bytes:
    body = b'{"jsonrpc": "2.0", "id": 5, "method": "ponder/status", "params": {}}'
    return rng.choice([
        b"Content-Length: 100000000000\r\n\r\n{}", b"Content-Length: -5\r\n\r\n{}",
        b"content-length: %d\n\n" % len(body) + body, b"Content-Length: 3\r\n\r\n" + body,
        b"garbage\r\n", b"Content-Length: 20\r\n\r\n{not json at all....}",
        b'Content-Length: 2\r\n\r\n[]',
    ])  # fmt: skip


def fuzz(cases: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    home = Path(tempfile.mkdtemp(prefix="ponder-fuzz-"))
    server = WireServer(home, model="scripted")
    deaths = hangs = 0
    answer_ids: list[str] = []
    envelope_ids: list[str] = []
    next_id = 0
    try:
        server.initialize({"memory": {"embedder": "hashing"}, "reason": {"maxTokens": 20}})
        server.open(URI, TEXT)
        for n in range(cases):
            if rng.random() < 0.03:
                server.send_bytes(broken_frame(rng))
                continue
            if rng.random() < 0.03:
                msg_id = f"envelope-{n}" if rng.random() < 0.7 else None
                server.send(bad_envelope(rng, msg_id))
                envelope_ids += [msg_id] if msg_id else []
                continue
            method = rng.choice(METHODS)
            params = params_for(method, rng, answer_ids)
            next_id += 1
            msg_id = rng.choice([next_id, next_id, next_id, 1, "dup"])  # some duplicates
            message = {"jsonrpc": "2.0", "method": method, "params": params}
            if not method.startswith("$/") and method not in ("workspace/didChangeConfiguration",
                                                               "textDocument/didChange", "textDocument/didOpen"):  # fmt: skip
                message["id"] = msg_id
            try:
                server.send(json.dumps(message))
            except (BrokenPipeError, OSError):
                deaths += 1
                break
            if n % 200 == 199:  # a good request must still be answered
                if not server.alive():
                    deaths += 1
                    break
                try:
                    reply = server.request(
                        "ponder/reason",
                        {"textDocument": {"uri": URI}, "position": {"line": 3, "character": 4}},
                        timeout=10,
                    )
                    if "result" in reply:
                        answer_ids.append(reply["result"]["id"])
                except TimeoutError:
                    hangs += 1
                print(
                    f"fuzz {n + 1}/{cases}: deaths {deaths}, hangs {hangs}",
                    file=sys.stderr,
                    flush=True,
                )
        time.sleep(2)
        try:
            server.request("ponder/status", {}, timeout=10)
        except TimeoutError:
            hangs += 1
        except (BrokenPipeError, OSError):
            deaths += 1
        internal = sum(1 for r in server.responses if (r.get("error") or {}).get("code") == -32603)
        answered = {
            r.get("id") for r in server.responses if (r.get("error") or {}).get("code") == -32600
        }
        unanswered = sum(1 for i in envelope_ids if i not in answered)
        tracebacks = len(server.tracebacks())
        if not server.alive() and not deaths:
            deaths += 1
        return {"cases": cases, "deaths": deaths, "hangs": hangs, "internal": internal + tracebacks,
                "oversized": oversized(server), "envelopes": len(envelope_ids),
                "unanswered": unanswered, "stderr": "".join(server.stderr)[-3000:]}  # fmt: skip
    finally:
        server.close()
        shutil.rmtree(home, ignore_errors=True)


def concurrency(count: int) -> int:
    """`count` requests at once, every other one cancelled: how many got no reply in 120 s.
    (The engine takes one request at a time, so the last waits for all the others.)"""
    home = Path(tempfile.mkdtemp(prefix="ponder-conc-"))
    server = WireServer(home, model="scripted:slow")
    try:
        server.initialize({"reason": {"maxTokens": 10}})
        server.open(URI, TEXT)
        ids = list(range(5000, 5000 + count))
        for i in ids:
            server.send({"jsonrpc": "2.0", "id": i, "method": "ponder/reason",
                         "params": {"textDocument": {"uri": URI}}})  # fmt: skip
        for i in ids[::2]:
            server.notify("$/cancelRequest", {"id": i})
        missing = 0
        for i in ids:
            seen = [r for r in server.responses if r.get("id") == i]
            if seen:
                continue
            try:
                server.reply(i, timeout=120)
            except TimeoutError:
                missing += 1
        return missing
    finally:
        server.close()
        shutil.rmtree(home, ignore_errors=True)


def answers_in(path: Path) -> set[str]:
    from ponder.memory.embedder import HashingEmbedder
    from ponder.memory.store import TraceStore

    return {t["answer"] for t in TraceStore(path, HashingEmbedder()).open().all()}


def kill9(trials: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    lost = 0
    folder = Path(tempfile.mkdtemp(prefix="ponder-kill9-"))
    try:
        for trial in range(trials):
            proc = writer(folder / "mem", trial * 1000, 1000)
            acknowledged, stop_after = [], rng.randint(0, 12)
            assert proc.stdout is not None
            while len(acknowledged) < stop_after:
                line = proc.stdout.readline()
                if not line:
                    break
                acknowledged.append(line.strip())
            time.sleep(rng.random() * 0.05)  # somewhere inside the next write
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            lost += len(set(acknowledged) - answers_in(folder / "mem"))
            if trial % 10 == 9:
                print(f"kill -9 {trial + 1}/{trials}: lost {lost}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return lost


def two_writers(count: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix="ponder-writers-"))
    try:
        answers_in(folder / "mem")  # create the store first
        a, b = writer(folder / "mem", 0, count), writer(folder / "mem", 100_000, count)
        a.wait()
        b.wait()
        expected = {str(n) for n in range(count)} | {
            str(n) for n in range(100_000, 100_000 + count)
        }
        return len(expected - answers_in(folder / "mem"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def egress(model: str) -> int | str:
    """Connections to non-local addresses during one real `ponder ask` (which must succeed)."""
    if not shutil.which("strace"):
        return "n/a"
    out = Path(tempfile.mkdtemp()) / "strace.txt"
    done = subprocess.run(
        ["strace", "-f", "-e", "trace=connect", "-o", str(out), sys.executable, "-m", "ponder",
         "ask", str(ROOT / "examples" / "inventory.py") + ":11", "What does normalise(' A ') return?",
         "--model", model, "--strategy", "greedy"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        return f"ask-failed:{done.returncode}"
    trace = out.read_text()
    print(f"egress: the ask answered; {trace.count('connect(')} connect() calls traced",
          file=sys.stderr)  # fmt: skip
    remote = 0
    for line in trace.splitlines():
        for address in re.findall(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"', line):
            ip = next(a for a in address if a)
            if ip not in ("127.0.0.1", "::1", "0.0.0.0"):
                remote += 1
    return remote


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fuzz", type=int, default=10_000)
    parser.add_argument("--kill9", type=int, default=100)
    parser.add_argument("--writers", type=int, default=500)
    parser.add_argument("--concurrent", type=int, default=100, help="requests at once (0: skip)")
    parser.add_argument("--egress-model", help="model for the egress check (skipped without)")
    args = parser.parse_args()
    f = fuzz(args.fuzz)
    if f["internal"] or f["deaths"]:
        print(f["stderr"], file=sys.stderr)
    missing = concurrency(args.concurrent) if args.concurrent else 0
    print(f"concurrency: {args.concurrent} requests, half cancelled, {missing} without a reply",
          file=sys.stderr)  # fmt: skip
    lost = kill9(args.kill9)
    writers_lost = two_writers(args.writers)
    e = egress(args.egress_model) if args.egress_model else "skipped"
    print(f"RESULT fuzz_cases={f['cases']} deaths={f['deaths']} hangs={f['hangs']} "
          f"internal_errors={f['internal']} oversized_replies={f['oversized']} "
          f"bad_envelopes={f['envelopes']} unanswered_bad_envelopes={f['unanswered']} concurrent_unanswered={missing} kill9_trials={args.kill9} "
          f"lost={lost} writers_lost={writers_lost} egress={e}")  # fmt: skip


if __name__ == "__main__":
    main()
