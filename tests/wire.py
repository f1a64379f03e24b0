"""A raw JSON-RPC client over the server's stdio: sends exact bytes (broken framing included) and
reads replies with a timeout. For protocol-abuse tests and scripts/stress.py."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any


class WireServer:
    def __init__(
        self,
        home: Path,
        model: str = "scripted",
        extra_env: dict | None = None,
        argv: list[str] | None = None,
    ):
        env = dict(os.environ, PONDER_HOME=str(home), PONDER_MODEL=model, **(extra_env or {}))
        self.proc = subprocess.Popen(
            argv or [sys.executable, "-m", "ponder.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.messages: queue.Queue[dict] = queue.Queue()
        self.stderr: list[str] = []
        self.notifications: list[dict] = []  # those seen while waiting for replies
        self.responses: list[dict] = []  # every response seen, to any id
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self._next_id = 1000

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            self.messages.put(json.loads(out.read(length)))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict | str) -> None:
        body = message if isinstance(message, str) else json.dumps(message)
        data = body.encode("utf-8", errors="surrogatepass")
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(data) + data)

    def request(self, method: str, params: Any = None, timeout: float = 10.0) -> dict:
        """Send a request; its reply (result or error) or TimeoutError."""
        self._next_id += 1
        message: dict = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.reply(self._next_id, timeout)

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def reply(self, id_: Any, timeout: float = 10.0) -> dict:
        """The reply to `id_` (server requests are answered with null; notifications dropped)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {id_} in {timeout} s")
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if "method" in message and "id" in message:  # a request from the server
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.append(message)
            else:
                self.responses.append(message)
                if message.get("id") == id_:
                    return message

    def initialize(self, options: dict | None = None) -> dict:
        reply = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})
        return reply

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}},
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tracebacks(self) -> list[str]:
        return [line for line in self.stderr if "Traceback" in line]

    def close(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(timeout=10)
