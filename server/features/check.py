"""`ponder/check` and "Ponder: check by running": an answer to "what does f(…) return?" checked
against what running the call gives (agent/check.py, confined), only on the user's request and
only where the settings allow it (`checkByRunning`, which an editor sets in a trusted
workspace). A refuted answer gets a second look from the model: where the code and its
reasoning part. The verdict shows inline with the answer."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from ponder.agent.errors import PonderError
from ponder.agent.quoting import clipped
from ponder.agent.results import Check
from ponder.server import protocol
from ponder.server.features.inline import refresh_hints
from ponder.server.features.reason import command_argument
from ponder.server.language_server import PonderServer
from ponder.server.render import check_text
from ponder.server.wire import CheckParams, parse, to_wire

TURNED_OFF = (
    "check by running is off: it runs this document's code (confined, no network). Turn on the "
    "setting checkByRunning in a workspace you trust (VS Code: it follows workspace trust)"
)


def _failed(server: PonderServer, message: str) -> JsonRpcException:
    server.tell(message)
    return JsonRpcException(message, code=types.LSPErrorCodes.RequestFailed)


async def check_answer(server: PonderServer, raw: Any) -> Check:
    params = parse(CheckParams, {} if raw is None else raw)
    if not server.settings.check_by_running:
        raise _failed(server, TURNED_OFF)
    answer = server.recent.get(params.id)
    if answer is None:
        raise JsonRpcInvalidParams(f"unknown answer id {clipped(params.id)}")
    uri = params.text_document.uri
    document = server.documents.get(uri)
    attached = next((a for a in document.answers if a.id == params.id), None) if document else None
    if document is None or attached is None:
        raise JsonRpcInvalidParams(f"answer {clipped(params.id)} is not in {clipped(uri)}")
    if attached.stale:
        raise _failed(server, "the code changed since this answer: ask again, then check it")
    from ponder.agent import check  # the tracer's confinement: loaded when first checked

    code = document.text
    try:
        checked = await asyncio.to_thread(check.check, code, answer.question, answer.answer)
        explanation = ""
        if checked.verdict == "refuted":
            engine = await asyncio.to_thread(server.services.engine)
            explanation = await asyncio.to_thread(check.second_look, engine, code, answer, checked)
    except PonderError as e:
        raise _failed(server, str(e)) from e
    answer.checked = Check(checked.verdict, checked.actual, explanation)
    attached.hint_unserved = True
    refresh_hints(server)
    return answer.checked


async def on_check(server: PonderServer, params: Any) -> dict:
    return to_wire(await check_answer(server, params))


async def on_command(server: PonderServer, *args: Any) -> dict:
    checked = await check_answer(server, command_argument(args, protocol.COMMAND_CHECK))
    server.tell(check_text(checked), types.MessageType.Info)
    return to_wire(checked)


def register(server: PonderServer) -> None:
    server.feature(protocol.CHECK)(on_check)
    server.command(protocol.COMMAND_CHECK)(on_command)
