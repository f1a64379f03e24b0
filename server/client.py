"""A tiny LSP client over stdio, for `ponder ask`: start `ponder serve`, ask, show progress.

Why not pygls's `LanguageClient`: it pipes the server's stderr and never reads it (a server that
logs more than a pipe holds would block), and it sends no `$/cancelRequest` when a request is
cancelled. This client lets the server's log through to the terminal and cancels on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any


class LspError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class StdioClient:
    def __init__(self, on_notification: Callable[[str, Any], None] | None = None):
        self.on_notification = on_notification or (lambda method, params: None)
        self._next_id = 0
        self.last_request_id = 0  # the id of the most recent request, for cancel()
        self._pending: dict[int, asyncio.Future] = {}
        self.proc: asyncio.subprocess.Process | None = None
        self._reader_task: asyncio.Task | None = None

    async def start(self, argv: list[str], env: dict | None = None) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,  # the server's own log goes to our stderr
            env=env,
        )
        self._reader_task = asyncio.ensure_future(self._read_loop())

    def _send(self, message: dict) -> None:
        assert self.proc and self.proc.stdin
        body = json.dumps(message).encode()
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    async def request(self, method: str, params: Any = None) -> Any:
        self._next_id += 1
        msg_id = self._next_id
        future = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        self.last_request_id = msg_id
        return await future

    def notify(self, method: str, params: Any = None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def cancel(self, msg_id: int) -> None:
        self.notify("$/cancelRequest", {"id": msg_id})

    async def _read_loop(self) -> None:
        try:
            await self._read_messages()
        except Exception as e:  # unreadable output: fail what waits, never hang
            self._fail_pending(f"the server's output could not be read ({type(e).__name__}: {e})")

    async def _read_messages(self) -> None:
        assert self.proc and self.proc.stdout
        stdout = self.proc.stdout
        while True:
            length = None
            while True:
                line = await stdout.readline()
                if not line:
                    self._fail_pending("the server exited")
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length is None:
                continue
            message = json.loads(await stdout.readexactly(length))
            self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        if "method" in message and "id" in message:  # a request from the server
            self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            self.on_notification(message["method"], message.get("params"))
        elif "method" in message:
            self.on_notification(message["method"], message.get("params"))
        else:
            future = self._pending.pop(message.get("id", -1), None)
            if future is None or future.done():
                return
            if "error" in message:
                err = message["error"]
                future.set_exception(LspError(err.get("code", 0), err.get("message", "")))
            else:
                future.set_result(message.get("result"))

    def _fail_pending(self, why: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LspError(-32099, why))
        self._pending.clear()

    async def close(self) -> int:
        """shutdown + exit; returns the server's exit status."""
        assert self.proc
        try:
            await asyncio.wait_for(self.request("shutdown"), 10)
            self.notify("exit")
            return await asyncio.wait_for(self.proc.wait(), 10)
        except (TimeoutError, LspError):
            self.proc.kill()
            return await self.proc.wait()


class Spinner:
    """Progress on a terminal: one line, rewritten; plain lines when stderr is not a terminal."""

    FRAMES = "|/-\\"

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.frame = 0
        self.last_phase = ""

    def show(self, text: str) -> None:
        if self.tty:
            self.frame = (self.frame + 1) % len(self.FRAMES)
            self.stream.write(f"\r\x1b[K{self.FRAMES[self.frame]} {text[:100]}")
        elif text.split(":")[0] != self.last_phase:  # a log, not a terminal: one line a phase
            self.last_phase = text.split(":")[0]
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
