"""How bytes become messages, guarded: pygls's own reader dies or goes deaf on a malformed header
(a huge or negative Content-Length, a lowercase name, LF-only lines) and structures any nested
object holding a "jsonrpc" key as a message. This reader caps the length, resynchronises on the
next header after garbage, and structures only the top-level message. `PonderProtocol` replies to
every request id: before `initialize` (-32002), a bad envelope (no `"jsonrpc": "2.0"`, a response
to no request ponder sent), a second `initialize` and anything after `shutdown` (-32600), params
of the wrong shape (-32602)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from ponder.agent.quoting import quoted

log = logging.getLogger("ponder")

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a 5 MB document is far below; 100 GB is refused
MAX_HEADER_LINE = 4096
MAX_DEPTH = 64  # nesting of params; deeper is refused before anything recurses over it
HEADER = re.compile(rb"content-length\s*:\s*(\S*)", re.IGNORECASE)
ID = re.compile(rb'"id"\s*:\s*(\d{1,18}|"[^"\\]{0,200}")')


class StdinReader:
    """Blocking reads of stdin in a worker thread, lines bounded in length."""

    def __init__(self, stdin: BinaryIO):
        self.stdin = stdin

    async def readline(self) -> bytes:
        return await asyncio.to_thread(self.stdin.readline, MAX_HEADER_LINE)

    async def read(self, n: int) -> bytes:
        return await asyncio.to_thread(self.stdin.read, n)


async def read_headers(reader) -> int | None:
    """The next message's Content-Length; garbage before a header is skipped. None at EOF."""
    while True:
        line = await reader.readline()
        if not line:
            return None
        match = HEADER.search(line)
        if match is None:
            continue  # not a header: resynchronise on the next one
        length = match.group(1)
        # The header block ends at an empty line; other headers (Content-Type) are ignored.
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        if not line:
            return None
        if not length.isdigit() or int(length) > MAX_MESSAGE_BYTES:
            log.warning("ignored a message with Content-Length %r", length[:40])
            continue
        return int(length)


def _too_deep(value: Any) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


async def run(stop_event: threading.Event, reader, protocol: PonderProtocol) -> None:
    """The message loop: read, parse, hand to the protocol; a bad message is answered (when it
    has an id) or logged, never fatal."""
    while not stop_event.is_set():
        length = await read_headers(reader)
        if length is None:
            break
        body = await reader.read(length)
        if len(body) < length:
            break
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as e:
            # Answer the request the broken body was, when its id can be seen: the client's
            # call fails at once instead of waiting forever. (No reply with id null: pygls's
            # client, and so pytest-lsp, cannot read one.)
            log.warning("a message that is not JSON: %s", str(e)[:80])
            if (msg_id := _visible_id(body)) is not None:
                protocol.reply_error(msg_id, JsonRpcParseError(f"not JSON: {str(e)[:80]}"))
            continue
        try:
            protocol.receive(data)
        except Exception:  # a bug in a handler must not end the message loop
            log.exception("a message could not be handled")


def _readable(msg_id: Any) -> bool:
    """An id a reply can carry (JSON-RPC allows a string or a number; bool is not one)."""
    return isinstance(msg_id, str | int) and not isinstance(msg_id, bool)


def _visible_id(body: bytes) -> int | str | None:
    match = ID.search(body)
    if match is None:
        return None
    value = match.group(1).decode("utf-8", "replace")
    return int(value) if value.isdigit() else value.strip('"')


class PonderProtocol(LanguageServerProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_seen = False

    # pygls keeps a copy of each open document in its workspace; ponder keeps its own
    # (server/documents.py: LSP's line rules, the attached answers) and never reads pygls's, so
    # these hand the notification to ponder's handler without making a second copy.
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        yield from self._ponder_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        yield from self._ponder_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        yield from self._ponder_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _ponder_handler(self, method: str, params: Any):
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    def reply_error(self, msg_id: Any, error: JsonRpcException) -> None:
        log.warning("answered %s with %s", quoted(msg_id), error.message)
        self._send_response(msg_id, None, error.to_response_error())

    def receive(self, data: Any) -> None:
        """One parsed JSON value from the wire."""
        if not isinstance(data, dict):
            log.warning("ignored a message that is not a JSON object")
            return
        msg_id = data.get("id")
        if problem := self._envelope_problem(data):
            if _readable(msg_id):  # JSON-RPC: answered with its id wherever the id can be read
                self.reply_error(msg_id, JsonRpcInvalidRequest(problem))
            else:
                log.warning("ignored a message: %s", problem)
            return
        is_request = "method" in data and msg_id is not None
        if is_request and not _readable(msg_id):
            log.warning("ignored a request whose id is not a string or an integer")
            return
        if is_request and (refusal := self._refusal(data["method"])):
            self.reply_error(msg_id, refusal)
            return
        if data.get("method") == "$/cancelRequest":
            cancelled = (
                (data.get("params") or {}).get("id")
                if isinstance(data.get("params"), dict)
                else None
            )
            if not _readable(cancelled):
                log.warning("ignored a $/cancelRequest without a string or integer id")
                return
        if _too_deep(data.get("params")):
            if is_request:
                self.reply_error(msg_id, JsonRpcInvalidParams("params are nested too deeply"))
            return
        if "method" in data and "params" not in data:  # optional in JSON-RPC, required by pygls
            data = {**data, "params": None}
        try:
            message = self.structure_message(data)
        except Exception as e:  # a wrong shape for a standard method
            if is_request:
                self.reply_error(msg_id, JsonRpcInvalidParams(f"invalid params: {e}"))
            else:
                log.warning("ignored a malformed %s notification", data.get("method"))
            return
        if is_request and data["method"] == "initialize":
            self._initialize_seen = True
        self.handle_message(message)

    def _envelope_problem(self, data: dict) -> str | None:
        """Why this object is not a JSON-RPC 2.0 message ponder can take, or None. pygls drops
        such messages unanswered (logging them whole), and the client that sent one waits."""
        if "jsonrpc" not in data:
            return '"jsonrpc": "2.0" is required'
        if data["jsonrpc"] != "2.0":
            return f'"jsonrpc" must be "2.0", got {quoted(data["jsonrpc"])}'
        if "method" in data:
            return None
        if ("result" in data) == ("error" in data):
            return "a message needs a method (a request or a notification) or a result or an error"
        if not _readable(data.get("id")) or data["id"] not in self._request_futures:
            return f"a response to no request ponder sent (id {quoted(data.get('id'))})"
        return None

    def _refusal(self, method: Any) -> JsonRpcException | None:
        if not isinstance(method, str):
            return JsonRpcInvalidRequest("method must be a string")
        if self._shutdown and method != "exit":
            return JsonRpcInvalidRequest("the server is shutting down (shutdown was received)")
        if method == "initialize" and self._initialize_seen:
            return JsonRpcInvalidRequest("initialize was already received")
        if method != "initialize" and not self._initialize_seen:
            return JsonRpcServerNotInitialized("send initialize first")
        return None
