"""textDocument/codeAction: on a selection, "Ponder: reason about this"; on an answered range,
also accept / reject the answer and ask again with more samples. All are workspace/executeCommand
commands, so every LSP editor can use them."""

from __future__ import annotations

from typing import Any

from lsprotocol import converters, types

from ponder.agent.prompts import call_in
from ponder.agent.results import Answer
from ponder.server import protocol
from ponder.server.features.inline import answer_range
from ponder.server.language_server import PonderServer

ASK_AGAIN_SAMPLES = 12  # "ask again with more samples": at least this many paths


_WIRE = converters.get_converter()  # lsprotocol's: a Range as the JSON a command argument holds


def _action(title: str, command: str, argument: dict) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.Refactor,
        command=types.Command(title=title, command=command, arguments=[argument]),
    )


def code_action(server: PonderServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    actions = []
    if params.range.start != params.range.end:
        argument = {"textDocument": {"uri": uri}, "range": _WIRE.unstructure(params.range)}
        actions.append(_action(protocol.CODE_ACTION_TITLE, protocol.COMMAND_REASON, argument))
    docs = server.documents
    start = docs.offset(uri, params.range.start.line, params.range.start.character)
    end = docs.offset(uri, params.range.end.line, params.range.end.character)
    answer = docs.answer_at(uri, start, end) if start is not None and end is not None else None
    if answer is None or not isinstance(answer.result, Answer):
        return actions  # nothing answered here yet (a first answer is not the answer)
    answered = answer_range(server, uri, answer)
    paths = answer.result.agreement.paths
    again: dict[str, Any] = {
        "textDocument": {"uri": uri},
        "range": _WIRE.unstructure(answered),
        "options": {
            "strategy": "self_consistency",
            "samples": max(ASK_AGAIN_SAMPLES, 2 * paths),
        },
    }
    asked = server.recent.get(answer.id)
    if asked is not None:
        again["question"] = asked.question
    answered_actions = [
        _action(protocol.ACCEPT_TITLE, protocol.COMMAND_ACCEPT, {"id": answer.id}),
        _action(protocol.REJECT_TITLE, protocol.COMMAND_REJECT, {"id": answer.id}),
        _action(protocol.ASK_AGAIN_TITLE, protocol.COMMAND_REASON, again),
    ]
    if asked is not None and call_in(asked.question) is not None:
        checking = {"textDocument": {"uri": uri}, "id": answer.id}
        answered_actions.append(_action(protocol.CHECK_TITLE, protocol.COMMAND_CHECK, checking))
    return [*answered_actions, *actions]


def register(server: PonderServer) -> None:
    options = types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.Refactor])
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)(code_action)
