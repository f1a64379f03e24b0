"""`ponder ask`'s LSP client: pygls's `LanguageClient` running `ponder serve` over stdio.

pygls does the framing, the ids and the errors. Three things are ours:
- the server's stderr: pygls pipes it and never reads it (a server that logged more than a pipe
  holds would block), so it is copied to our stderr as it comes;
- cancelling: each request gets an id of ours, so Ctrl-C can send `$/cancelRequest` for it;
- output that cannot be read: pygls logs it and reads on, so a request would wait forever; the
  server is stopped instead, and pygls then fails every pending request ("exited")."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import Callable
from typing import Any

from lsprotocol import converters
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

from ponder.server.wire import as_dict

NOT_READ = -32099  # our code for "the server's output could not be read" / "the server exited"
SERVER_REQUESTS = ("window/workDoneProgress/create", "window/showMessageRequest")
SERVER_NOTIFICATIONS = ("$/progress", "window/showMessage", "window/logMessage")


class LspError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class AskClient(LanguageClient):
    def __init__(self, on_notification: Callable[[str, Any], None] | None = None):
        super().__init__("ponder-ask", "1")
        self.on_notification = on_notification or (lambda method, params: None)
        self._ids = itertools.count(1)
        self.last_request_id = 0  # the id of the most recent request, for cancel()
        self.unreadable: str | None = None
        self._plain = converters.get_converter()  # lsprotocol's: typed params back to JSON
        for method in SERVER_NOTIFICATIONS + SERVER_REQUESTS:
            self.feature(method)(self._forward(method))

    def _forward(self, method: str) -> Callable[[Any], None]:
        def handler(params: Any) -> None:
            self.on_notification(method, self._plain.unstructure(params))

        return handler

    async def start(self, argv: list[str], env: dict | None = None) -> None:
        await self.start_io(*argv, env=env)
        assert self._server is not None and self._server.stderr is not None
        self._async_tasks.append(asyncio.create_task(_copy(self._server.stderr)))

    async def begin(self, options: dict, progress: bool = True) -> None:
        """initialize (with these initializationOptions) and initialized."""
        window = lsp.WindowClientCapabilities(work_done_progress=progress)
        params = lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(window=window),
            process_id=os.getpid(),
            root_uri=None,
            initialization_options=options,
        )
        try:
            await self.initialize_async(params)
        except (JsonRpcException, RuntimeError) as e:
            raise LspError(NOT_READ, self.unreadable or f"the server did not start ({e})") from e
        self.initialized(lsp.InitializedParams())

    def open(self, uri: str, text: str, language: str = "") -> None:
        self.text_document_did_open(
            lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, language, 1, text))
        )

    @property
    def proc(self) -> asyncio.subprocess.Process:
        assert self._server is not None
        return self._server

    async def request(self, method: str, params: Any = None) -> Any:
        """One of ponder's own requests (plain JSON params and result); the LSP methods go
        through pygls's typed ones (`initialize_async`, `text_document_did_open`, …)."""
        msg_id = self.last_request_id = next(self._ids)
        try:
            return as_dict(await self.protocol.send_request_async(method, params, msg_id=msg_id))
        except JsonRpcException as e:
            raise LspError(e.code, e.message) from e
        except RuntimeError as e:  # pygls: "Server process N exited with return code R"
            raise LspError(NOT_READ, self.unreadable or f"the server exited ({e})") from e

    def cancel(self, msg_id: int) -> None:
        self.cancel_request(lsp.CancelParams(id=msg_id))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Output pygls could not read: stop the server, which fails every pending request."""
        self.unreadable = f"the server's output could not be read ({type(error).__name__}: {error})"
        if self.proc.returncode is None:
            self.proc.kill()

    async def close(self) -> int:
        """shutdown + exit; returns the server's exit status."""
        try:
            await asyncio.wait_for(self.shutdown_async(None), 10)
            self.exit(None)
            await asyncio.wait_for(self.proc.wait(), 10)
        except (TimeoutError, JsonRpcException, RuntimeError):
            if self.proc.returncode is None:
                self.proc.kill()
        await self.stop()
        return self.proc.returncode if self.proc.returncode is not None else -1


async def _copy(stderr: asyncio.StreamReader) -> None:
    while line := await stderr.readline():
        sys.stderr.buffer.write(line)
        sys.stderr.flush()


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

    def keep(self, text: str) -> None:
        """A line that stays (the first answer, while the vote runs): the spinner goes on below."""
        self.last_phase = text.split(":")[0]
        self.stream.write(("\r\x1b[K" if self.tty else "") + f"{text}\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
