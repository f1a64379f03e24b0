"""textDocument/codeAction: on a selection, offer "Ponder: reason about this"."""

from __future__ import annotations

from lsprotocol import types

from server import protocol


def register(server) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.Refactor]),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        if params.range.start == params.range.end:
            return []
        argument = {
            "textDocument": {"uri": params.text_document.uri},
            "range": {
                "start": {
                    "line": params.range.start.line,
                    "character": params.range.start.character,
                },
                "end": {"line": params.range.end.line, "character": params.range.end.character},
            },
        }
        command = types.Command(
            title=protocol.CODE_ACTION_TITLE, command=protocol.COMMAND_REASON, arguments=[argument]
        )
        return [
            types.CodeAction(
                title=protocol.CODE_ACTION_TITLE,
                kind=types.CodeActionKind.Refactor,
                command=command,
            )
        ]
