"""`ponder/reason` and the `ponder.reason` command: parse params, run the pipeline off the event
loop with progress and cancellation, return (or show) the Answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcRequestCancelled

from agent import pipeline
from agent.errors import Cancelled, PonderError
from agent.models import ponder_home
from agent.positions import offset_of, split_lines
from agent.settings import reason_options
from server import protocol
from server.features.progress import WorkDone

log = logging.getLogger("ponder")
REQUEST_FAILED = -32803  # LSP's RequestFailed: the request was valid but could not be done


def as_dict(value: Any) -> Any:
    """pygls hands custom params over as dicts, or as namedtuples for some clients; → plain dicts."""
    if hasattr(value, "_asdict"):
        value = value._asdict()
    if isinstance(value, dict):
        return {k: as_dict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_dict(v) for v in value]
    return value


def _position(value: Any, name: str, lines: list[str]) -> tuple[int, int]:
    if not isinstance(value, dict):
        raise JsonRpcInvalidParams(f"{name} must be an object {{line, character}}, got {value!r}")
    for field in ("line", "character"):
        v = value.get(field)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise JsonRpcInvalidParams(f"{name}.{field} must be a non-negative integer, got {v!r}")
    line, character = int(value["line"]), int(value["character"])
    # LSP allows the position just past the last line's end (line == number of lines, char 0).
    if line > len(lines) or (line == len(lines) and character > 0):
        raise JsonRpcInvalidParams(
            f"{name} line {line} is past the end of the document ({len(lines)} lines)"
        )
    return line, character


def plain_text(text: str) -> str:
    """Lone surrogates (valid in JSON, not in UTF-8) become '?', one char for one: offsets hold."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _document_text(server, uri: str) -> tuple[str, str, str]:
    """(text, path, languageId) of a document the client opened. Never read from disk: a client
    must not be able to put `/proc/self/environ` or any other file into a prompt."""
    doc = server.workspace.text_documents.get(uri)
    if doc is None:
        raise JsonRpcInvalidParams(f"unknown document {uri}: open it first (textDocument/didOpen)")
    return plain_text(doc.source), doc.path, doc.language_id or ""


def parse_task(server, raw: Any) -> tuple[pipeline.Task, Any]:
    """ponder/reason params → (Task, workDoneToken). Raises JsonRpcInvalidParams on bad input."""
    params = as_dict(raw)
    if not isinstance(params, dict):
        raise JsonRpcInvalidParams(f"params must be an object, got {params!r}")
    doc = params.get("textDocument")
    if not isinstance(doc, dict) or not isinstance(doc.get("uri"), str):
        raise JsonRpcInvalidParams("textDocument.uri (a string) is required")
    question = params.get("question")
    if question is not None and not isinstance(question, str):
        raise JsonRpcInvalidParams(f"question must be a string, got {question!r}")
    text, path, language_id = _document_text(server, doc["uri"])
    lines = split_lines(text)
    negotiated = server.workspace.position_encoding
    encoding = getattr(negotiated, "value", negotiated) or "utf-16"

    def offset(position: tuple[int, int]) -> int:
        return offset_of(text, *position, encoding=encoding)

    if params.get("range") is not None:
        rng = params["range"]
        if not isinstance(rng, dict):
            raise JsonRpcInvalidParams(f"range must be an object {{start, end}}, got {rng!r}")
        start = offset(_position(rng.get("start"), "range.start", lines))
        end = offset(_position(rng.get("end"), "range.end", lines))
        if end < start:
            raise JsonRpcInvalidParams("range.end is before range.start")
    elif params.get("position") is not None:
        start = end = offset(_position(params["position"], "position", lines))
    else:
        start, end = 0, len(text)  # no selection: the whole document
    try:
        options = reason_options(server.settings.reason, params.get("options"))
    except PonderError as e:
        raise JsonRpcInvalidParams(str(e)) from e
    token = params.get("workDoneToken")
    if token is not None and (isinstance(token, bool) or not isinstance(token, str | int)):
        raise JsonRpcInvalidParams(f"workDoneToken must be a string or an integer, got {token!r}")
    if question is not None:
        question = plain_text(question)
    task = pipeline.Task(question, text, path, language_id, start, end, options)
    return task, token


async def reason(server, raw: Any) -> dict:
    task, token = parse_task(server, raw)
    work = await WorkDone.start(server, "ponder: reasoning", token=token)
    cancel = work.cancel

    def recall(question: str, code: str) -> list[dict]:
        try:
            return server.services.recall(question, code)
        except PonderError as e:  # a broken store: say so, answer without memory
            work.loop.call_soon_threadsafe(server.tell, str(e))
            return []

    def job() -> pipeline.Answer:
        engine = server.services.engine(work.report)
        if cancel.is_set():
            raise Cancelled()
        return pipeline.run(
            task,
            engine,
            progress=work.report,
            cancel=cancel,
            recall=recall,
            similar=server.services.similar,
        )

    try:
        answer = await asyncio.to_thread(job)
    except asyncio.CancelledError:  # $/cancelRequest: stop the decode loop, answer -32800 now
        cancel.set()
        work.end("cancelled")
        raise
    except Cancelled as e:  # cancelled through the progress UI
        work.end("cancelled")
        raise JsonRpcRequestCancelled("ponder/reason was cancelled") from e
    except PonderError as e:
        work.end(f"failed: {e}")
        server.tell(str(e))
        raise JsonRpcException(str(e), code=REQUEST_FAILED) from e
    except Exception as e:  # a bug: still close the progress and say what failed
        log.exception("ponder/reason failed")
        work.end(f"failed: {e!r}")
        server.tell(f"reasoning failed: {e!r} (a bug in ponder; the server keeps running)")
        raise JsonRpcException(f"reasoning failed: {e!r}", code=REQUEST_FAILED) from e
    server.remember(answer)
    work.end(f"{answer.answer[:60]} ({answer.verdict}, confidence {answer.confidence:.2f})")
    return answer.to_wire()


def answer_markdown(answer: dict) -> str:
    agreement = answer.get("agreement") or {}
    lines = [
        f"# {answer['answer']}",
        "",
        f"**{answer.get('verdict', 'uncertain')}** · confidence {answer['confidence']:.2f} · "
        f"{agreement.get('agree', 0)} of {agreement.get('paths', 0)} paths agree",
    ]
    if len(answer["candidates"]) > 1:
        votes = ", ".join(f"{c['answer']!r}: {c['count']}" for c in answer["candidates"])
        lines.append(f"votes: {votes}")
    if answer.get("principle"):
        lines += ["", "## Principle", "", answer["principle"]]
    lines += ["", "## Reasoning", "", answer["rationale"]]
    return "\n".join(lines) + "\n"


def register(server) -> None:
    server.preload_task = None

    @server.feature(protocol.REASON)
    async def on_reason(params: Any) -> dict:
        return await reason(server, params)

    @server.command(protocol.COMMAND_REASON)
    async def on_command(*args: Any) -> dict:
        # executeCommand: the result also goes to the user, as a markdown file shown beside the
        # code when the client can show documents, else as a message.
        arguments = args[0] if len(args) == 1 and isinstance(args[0], list | tuple) else args
        if not arguments:
            raise JsonRpcInvalidParams(f"{protocol.COMMAND_REASON} needs one argument: the params")
        result = await reason(server, arguments[0])
        await show(server, result)
        return result


async def show(server, result: dict) -> None:
    window = getattr(server.client_capabilities, "window", None)
    can_show = bool(window and window.show_document and window.show_document.support)
    if can_show:
        folder = ponder_home() / "answers"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{result['id']}.md"
        path.write_text(answer_markdown(result), encoding="utf-8")
        await server.window_show_document_async(
            types.ShowDocumentParams(uri=path.as_uri(), external=False, take_focus=False)
        )
    else:
        server.tell(
            f"{result['answer']} ({result['verdict']}, confidence {result['confidence']:.2f})",
            types.MessageType.Info,
        )
