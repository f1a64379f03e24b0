"""`ponder/reason` and the `ponder.reason` command: parse params, run the pipeline off the event
loop with progress, streamed reasoning and cancellation; the answer is attached to its range
(inlay hint, hover: server/features/inline.py) and returned."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcRequestCancelled
from pygls.uris import to_fs_path

from ponder.agent import pipeline
from ponder.agent.answer import reasoning_so_far
from ponder.agent.errors import Cancelled, PonderError
from ponder.agent.positions import offset_of, split_lines
from ponder.agent.quoting import clipped
from ponder.agent.results import Answer, FirstAnswer
from ponder.agent.settings import reason_options
from ponder.server import protocol
from ponder.server.documents import MAX_DOCUMENT_CHARS, Attached
from ponder.server.features.inline import refresh_hints
from ponder.server.features.progress import WorkDone
from ponder.server.language_server import PonderServer
from ponder.server.render import verdict_text
from ponder.server.wire import Position, ReasonParams, parse, to_wire

log = logging.getLogger("ponder")
STREAM_INTERVAL_S = 0.2  # partial results at most this often


def _inside(position: Position, name: str, lines: list[str]) -> tuple[int, int]:
    line, character = position.line, position.character
    # LSP allows the position just past the last line's end (line == number of lines, char 0).
    if line > len(lines) or (line == len(lines) and character > 0):
        raise JsonRpcInvalidParams(
            f"{name} line {line} is past the end of the document ({len(lines)} lines)"
        )
    return line, character


def plain_text(text: str) -> str:
    """Lone surrogates (valid in JSON, not in UTF-8) become '?', one char for one: offsets hold."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


@dataclass
class Request:
    task: pipeline.Task
    uri: str
    work_done_token: int | str | None
    partial_result_token: int | str | None


def parse_request(server: PonderServer, raw: Any) -> Request:
    """ponder/reason params → Request. Raises JsonRpcInvalidParams on bad input. Only documents
    the client opened are read: never a file from disk (`/proc/self/environ`, secrets)."""
    params = parse(ReasonParams, raw)
    uri, question = params.text_document.uri, params.question
    doc = server.documents.get(uri)
    if doc is None:
        raise JsonRpcInvalidParams(
            f"unknown document {clipped(uri)}: open it first (textDocument/didOpen)"
        )
    if doc.size:
        raise JsonRpcInvalidParams(
            f"{uri} is too large to reason about ({doc.size:,} characters; the limit is "
            f"{MAX_DOCUMENT_CHARS:,}): split the file"
        )
    text = plain_text(doc.text)
    lines = split_lines(text)

    def offset(position: tuple[int, int]) -> int:
        return offset_of(text, *position, encoding=server.documents.encoding, lines=lines)

    if params.range is not None:
        start = offset(_inside(params.range.start, "range.start", lines))
        end = offset(_inside(params.range.end, "range.end", lines))
        if end < start:
            raise JsonRpcInvalidParams("range.end is before range.start")
    elif params.position is not None:
        start = end = offset(_inside(params.position, "position", lines))
    else:
        start, end = 0, len(text)  # no selection: the whole document
    try:
        options = reason_options(server.settings.reason, params.options)
    except PonderError as e:
        raise JsonRpcInvalidParams(str(e)) from e
    if question is not None:
        question = plain_text(question)
    path = to_fs_path(uri) if uri.startswith("file:") else uri
    task = pipeline.Task(question, text, path or uri, doc.language_id, start, end, options)
    return Request(task, uri, params.work_done_token, params.partial_result_token)


class ReasoningStream:
    """Sends the reasoning as it is written, as partial results of the request: `$/progress`
    with {token: partialResultToken, value: {reasoning: the next piece}}. The pieces join into
    the text so far (`reasoning_so_far`): a prefix of the final `rationale` when path 0 wins."""

    def __init__(self, server, token: int | str, loop: asyncio.AbstractEventLoop):
        self.server, self.token, self.loop = server, token, loop
        self.sent = ""
        self.last = 0.0
        self.latest = ""

    def __call__(self, text: str) -> None:  # from the decode thread, on every token of path 0
        self.latest = text
        if time.monotonic() - self.last >= STREAM_INTERVAL_S or not self.sent:
            self.flush()

    def flush(self) -> None:
        so_far = reasoning_so_far(self.latest)
        if len(so_far) <= len(self.sent) or not so_far.startswith(self.sent):
            return
        piece, self.sent, self.last = so_far[len(self.sent) :], so_far, time.monotonic()
        self._send({"reasoning": piece})

    def first_answer(self, answer: str) -> None:
        """The greedy path's answer, while the other paths are still to vote (a CPU's schedule)."""
        self.flush()
        self._send({"firstAnswer": answer})

    def _send(self, value: dict) -> None:
        params = types.ProgressParams(token=self.token, value=value)
        self.loop.call_soon_threadsafe(self.server.progress, params)


class RequestEvents(pipeline.Events):
    """One request's events, heard on the decode thread and carried to the event loop: progress
    (work done), the reasoning and the first answer as partial results, the first answer shown
    inline until the vote lands."""

    def __init__(
        self,
        server: PonderServer,
        work: WorkDone,
        stream: ReasoningStream | None,
        attached: Attached,
    ):
        self.server, self.work, self.stream, self.attached = server, work, stream, attached

    def progress(self, message: str, percentage: int | None = None) -> None:
        self.work.report(message, percentage)

    def reasoning(self, text: str) -> None:
        if self.stream is not None:
            self.stream(text)

    def first_answer(self, answer: str) -> None:
        if self.stream is not None:
            self.stream.first_answer(answer)
        self.work.loop.call_soon_threadsafe(self._show_first_answer, answer)

    def warn(self, message: str) -> None:
        self.work.loop.call_soon_threadsafe(self.server.tell, message)

    def _show_first_answer(self, answer: str) -> None:  # on the loop
        if self.attached.result is None:
            self.attached.result = FirstAnswer(answer)
            refresh_hints(self.server)


async def reason(server: PonderServer, raw: Any) -> Answer:
    request = parse_request(server, raw)
    task = request.task
    work = await WorkDone.start(server, "ponder: reasoning", token=request.work_done_token)
    cancel = work.cancel
    stream = None
    if request.partial_result_token is not None:
        stream = ReasoningStream(server, request.partial_result_token, work.loop)
    # Attached now, so edits made while it runs move it too; it shows once answered.
    attached = Attached(f"pending-{uuid.uuid4().hex}", task.start, task.end)
    server.documents.attach(request.uri, attached)

    events = RequestEvents(server, work, stream, attached)

    def job() -> pipeline.Answer:
        engine = server.services.engine(work.report)
        if cancel.is_set():
            raise Cancelled()
        answer = pipeline.run(
            task,
            engine,
            events=events,
            cancel=cancel,
            recall=server.services.recall,
            similar=server.services.similar,
        )
        if stream is not None:
            stream.flush()
        return answer

    try:
        answer = await asyncio.to_thread(job)
    except BaseException as e:
        server.documents.detach(request.uri, attached)
        if attached.result is not None:  # its first answer is shown: take it down
            refresh_hints(server)
        failure = _failure(server, work, e)
        if failure is e:
            raise
        raise failure from e
    server.remember(answer)
    attached.id, attached.result = answer.id, answer
    attached.hint_unserved = True  # the first answer's hint may have been served: this one is new
    refresh_hints(server)
    work.end(f"{answer.answer[:60]} ({verdict_text(answer)})")
    return answer


def _failure(server: PonderServer, work: WorkDone, error: BaseException) -> BaseException:
    """What a failed request raises: -32800 when cancelled, -32803 with a message otherwise."""
    if isinstance(error, asyncio.CancelledError):  # $/cancelRequest: stop decoding, answer now
        work.cancel.set()
        work.end("cancelled")
        return error
    if isinstance(error, Cancelled):  # cancelled through the progress UI
        work.end("cancelled")
        return JsonRpcRequestCancelled("ponder/reason was cancelled")
    if isinstance(error, PonderError):
        message = str(error)
    else:  # a bug: still close the progress and say what failed
        log.error("ponder/reason failed", exc_info=error)
        message = f"reasoning failed: {error!r} (a bug in ponder; the server keeps running)"
    work.end(f"failed: {message}")
    server.tell(message)
    return JsonRpcException(message, code=types.LSPErrorCodes.RequestFailed)


async def on_reason(server: PonderServer, params: Any) -> dict:
    return to_wire(await reason(server, params))


async def on_command(server: PonderServer, *args: Any) -> dict:
    """executeCommand (any LSP editor, no plugin): the answer shows as an inlay hint after the
    code and in hover; a client without inlay hints gets it as a message."""
    answer = await reason(server, command_argument(args, protocol.COMMAND_REASON))
    if not _shows_inlay_hints(server):
        server.tell(f"{answer.answer} ({verdict_text(answer)})", types.MessageType.Info)
    return to_wire(answer)


def register(server: PonderServer) -> None:
    server.feature(protocol.REASON)(on_reason)
    server.command(protocol.COMMAND_REASON)(on_command)


def command_argument(args: tuple, command: str) -> Any:
    """The one argument of an executeCommand call (pygls passes the arguments one by one)."""
    if len(args) != 1:
        raise JsonRpcInvalidParams(f"{command} needs one argument: its params object")
    return args[0]


def _shows_inlay_hints(server: PonderServer) -> bool:
    return server.client_supports("text_document.inlay_hint") and server.settings.inline.hints
