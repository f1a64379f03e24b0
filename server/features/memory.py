"""`ponder/accept` and `ponder/reject`: store what `ponder/reason` produced in the memory."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from ponder.agent.errors import PonderError
from ponder.agent.quoting import clipped
from ponder.agent.results import VERIFIED_TAG, Stored
from ponder.server import protocol
from ponder.server.features.reason import command_argument, plain_text
from ponder.server.language_server import RECENT_ANSWERS, PonderServer
from ponder.server.wire import TraceParams, parse, to_wire


def _trace(server: PonderServer, raw: Any) -> dict:
    params = parse(TraceParams, raw)
    answer = server.recent.get(params.id)
    if answer is None:
        raise JsonRpcInvalidParams(
            f"unknown answer id {clipped(params.id)}: only this session's last "
            f"{RECENT_ANSWERS} answers can be accepted or rejected"
        )
    edited, note = params.answer, params.note
    return {
        "question": answer.question,
        "code": answer.code,
        "language": answer.language,
        "path": answer.path,
        "symbol": answer.symbol or "",
        "principle": answer.principle or "",
        "rationale": answer.rationale,
        "answer": plain_text(edited) if edited is not None else answer.answer,
        "confidence": answer.confidence,
        "strategy": answer.strategy,
        "model": answer.model,
        "note": plain_text(note or ""),
        "tags": [VERIFIED_TAG] if answer.checked and answer.checked.verdict == "verified" else [],
    }


async def _store(server: PonderServer, raw: Any, accepted: bool) -> dict:
    trace = _trace(server, {} if raw is None else raw)

    def write() -> tuple[str, bool]:
        store = server.services.memory()
        if store is None:
            raise PonderError("memory is turned off (memory.enabled = false)")
        return store.add(trace, accepted=accepted)

    try:
        memory_id, updated = await asyncio.to_thread(write)
    except PonderError as e:
        server.tell(str(e))
        raise JsonRpcException(str(e), code=types.LSPErrorCodes.RequestFailed) from e
    return to_wire(Stored(memory_id, updated))


async def accept(server: PonderServer, params: Any) -> dict:
    return await _store(server, params, accepted=True)


async def reject(server: PonderServer, params: Any) -> dict:
    return await _store(server, params, accepted=False)


# The same through workspace/executeCommand (code actions, editors without a plugin).
async def accept_command(server: PonderServer, *args: Any) -> dict:
    result = await _store(server, command_argument(args, protocol.COMMAND_ACCEPT), accepted=True)
    server.tell("answer accepted into memory", types.MessageType.Info)
    return result


async def reject_command(server: PonderServer, *args: Any) -> dict:
    result = await _store(server, command_argument(args, protocol.COMMAND_REJECT), accepted=False)
    server.tell("answer rejected (kept, never retrieved)", types.MessageType.Info)
    return result


def register(server: PonderServer) -> None:
    server.feature(protocol.ACCEPT)(accept)
    server.feature(protocol.REJECT)(reject)
    server.command(protocol.COMMAND_ACCEPT)(accept_command)
    server.command(protocol.COMMAND_REJECT)(reject_command)
