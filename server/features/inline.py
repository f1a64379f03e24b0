"""Answers attached to code, in standard LSP: `textDocument/inlayHint` after each answered range,
`textDocument/hover` inside one (the words: server/render.py). Any LSP editor shows them with no
ponder plugin."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from ponder.server.documents import Attached
from ponder.server.language_server import PonderServer
from ponder.server.render import answer_markdown, hint_label

log = logging.getLogger("ponder")


def refresh_hints(server: PonderServer) -> None:
    """Ask the client to fetch inlay hints again (when it can)."""
    supported = server.client_supports("workspace.inlay_hint.refresh_support")
    if supported and server.settings.inline.hints:
        server.workspace_inlay_hint_refresh(None)


def answer_range(server: PonderServer, uri: str, answer: Attached) -> types.Range:
    (sl, sc), (el, ec) = server.documents.range_of(uri, answer)
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


def inlay_hint(server: PonderServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    uri = params.text_document.uri
    if not server.settings.inline.hints:
        return []
    hints = []
    first_served = False
    for answer in server.documents.answered(uri):
        line, character = server.documents.hint_position(uri, answer)
        if not params.range.start.line <= line <= params.range.end.line:
            continue
        assert answer.result is not None
        hints.append(
            types.InlayHint(
                position=types.Position(line, character),
                label=hint_label(answer.result, answer.stale),
                tooltip=types.MarkupContent(
                    kind=types.MarkupKind.Markdown,
                    value=answer_markdown(answer.result, answer.stale),
                ),
                padding_left=True,
            )
        )
        first_served |= answer.hint_unserved
        answer.hint_unserved = False
    if first_served:
        # Neovim (0.11) keeps a line marked as drawn when hints for the same buffer version
        # arrive, so a redraw between the refresh and this reply left the new answer
        # undrawn. One more refresh, sent after this reply, clears the marks when the cache
        # already holds the answer: Neovim draws it, with or without ponder's plugin.
        asyncio.get_running_loop().call_soon(refresh_hints, server)
    return hints


def hover(server: PonderServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    offset = server.documents.offset(uri, params.position.line, params.position.character)
    answer = server.documents.answer_at(uri, offset) if offset is not None else None
    if answer is None or answer.result is None:
        return None
    markdown = answer_markdown(answer.result, answer.stale)
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
        range=answer_range(server, uri, answer),
    )


def register(server: PonderServer) -> None:
    # pygls passes the server first to a handler whose first parameter is typed PonderServer.
    server.feature(types.TEXT_DOCUMENT_INLAY_HINT)(inlay_hint)
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
