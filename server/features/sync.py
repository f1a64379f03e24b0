"""The open documents (didOpen / didChange / didClose), kept with LSP's line rules so that
answers stay attached to their code as it is edited (server/documents.py)."""

from __future__ import annotations

from lsprotocol import types

from ponder.server.documents import Change
from ponder.server.features.inline import refresh_hints
from ponder.server.language_server import PonderServer


def did_open(server: PonderServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    server.documents.open(doc.uri, doc.text, doc.version, doc.language_id)


def did_change(server: PonderServer, params: types.DidChangeTextDocumentParams) -> None:
    changes: list[Change] = []
    for change in params.content_changes:
        rng = getattr(change, "range", None)  # None: the whole text
        if rng is None:
            changes.append((None, change.text))
        else:
            s, e = rng.start, rng.end
            changes.append(((s.line, s.character, e.line, e.character), change.text))
    if server.documents.change(params.text_document.uri, changes, params.text_document.version):
        refresh_hints(server)


def did_close(server: PonderServer, params: types.DidCloseTextDocumentParams) -> None:
    server.documents.close(params.text_document.uri)


def register(server: PonderServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
