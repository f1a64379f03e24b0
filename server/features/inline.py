"""Answers attached to code, in standard LSP: the document copies (didOpen / didChange /
didClose), `textDocument/inlayHint` after each answered range, `textDocument/hover` inside one.
Any LSP editor shows them with no ponder plugin."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from ponder.agent.answer import short
from ponder.server.documents import Attached

if TYPE_CHECKING:
    from ponder.server.language_server import PonderServer

log = logging.getLogger("ponder")
HINT_ANSWER_CHARS = 60
HOVER_REASONING_LINES = 12


def first_answer_result(answer: str) -> dict:
    """What the document holds for a request whose greedy path has answered and whose vote has
    not (a CPU's schedule): shown as a hint and in hover, never accepted or asked again."""
    return {"answer": answer, "first": True}


def hint_label(result: dict, stale: bool) -> str:
    """`⟹ ['apple', 'fig'] · 4/5` (the vote), `· 0.83` for one path whose confidence is
    calibrated, `?` when uncertain; an unchecked explanation gets neither: there is nothing to
    weigh it by. A raw signal is never shown as a number."""
    if result.get("first"):
        return f"⟹ {short(result['answer'], HINT_ANSWER_CHARS)} · first answer, checking…"
    agreement = result.get("agreement") or {}
    paths = agreement.get("paths", 0)
    confidence = result.get("confidence")
    support = (
        f" · {agreement.get('agree', 0)}/{paths}"
        if paths > 1
        else f" · {confidence:.2f}"
        if confidence is not None
        else ""
    )
    label = f"⟹ {short(result['answer'], HINT_ANSWER_CHARS)}"
    if result.get("verdict") != "unchecked":
        label += support + ("" if result.get("verdict") == "confident" else " ?")
    return label + (" (stale: the code changed)" if stale else "")


def verdict_text(result: dict) -> str:
    """How far to trust the answer, in words: "confident · confidence 0.88", "UNCERTAIN — do not
    rely on this answer · confidence 0.36", "UNCERTAIN — … · not calibrated: the answer is not a
    Python value", or, for an explanation, "free text, not checked"."""
    verdict = result.get("verdict", "uncertain")
    if verdict == "unchecked":
        return "free text, not checked"
    word = "confident" if verdict == "confident" else "UNCERTAIN — do not rely on this answer"
    return f"{word} · {confidence_text(result)}"


def confidence_text(result: dict) -> str:
    """ "confidence 0.88" where it is calibrated, else why not ("not calibrated for yes/no
    questions")."""
    if result.get("confidence") is None:
        return result.get("uncalibrated") or "not calibrated"
    return f"confidence {result['confidence']:.2f}"


def agreement_text(result: dict) -> str:
    """The vote in words ("4 of 6 paths agree"), or "one path"."""
    agreement = result.get("agreement") or {}
    agree, paths = agreement.get("agree", 0), agreement.get("paths", 1)
    return f"{agree} of {paths} paths agree" if paths > 1 else "one path"


def votes_text(result: dict, limit: int = 40) -> str:
    """The paths' answers ("`[1]` × 4, `[2]` × 1, no answer × 1") when they gave more than one,
    else "": beside an uncertain answer, the right one is often among them (README, `candidates`)."""
    candidates = result.get("candidates") or []
    if len(candidates) < 2:
        return ""
    return ", ".join(
        (f"`{short(c['answer'], limit)}`" if c["answer"].strip() else "no answer")
        + f" × {c['count']}"
        for c in candidates
    )


def answer_markdown(result: dict, stale: bool = False) -> str:
    """The answer as markdown: verdict, vote, principle, the reasoning's last lines, memories."""
    lines = [f"**ponder** ⟹ `{short(result['answer'], 200)}`", ""]
    if stale:
        lines += ["*Stale: the code changed since this answer. Ask again.*", ""]
    if result.get("first"):
        return "\n".join(
            [*lines, "first answer (the greedy path): the other paths are checking it…"]
        )
    lines.append(f"{verdict_text(result)} · {agreement_text(result)}")
    votes = votes_text(result)
    if votes:
        lines += ["", f"votes: {votes}"]
    if result.get("principle"):
        lines += ["", f"*Principle:* {result['principle']}"]
    reasoning = [line for line in result.get("rationale", "").splitlines() if line.strip()]
    if reasoning:
        shown = reasoning[-HOVER_REASONING_LINES:]
        lines += ["", "**Reasoning**" + (" (last lines)" if len(shown) < len(reasoning) else "")]
        lines += ["", *shown]
    for memory in result.get("memories") or []:
        lines += [
            "",
            f"*Remembered:* {short(memory['question'], 80)} ⟹ `{short(memory['answer'], 40)}`",
        ]
    return "\n".join(lines) + "\n"


def refresh_hints(server: PonderServer) -> None:
    """Ask the client to fetch inlay hints again (when it can)."""
    supported = server.client_supports("workspace.inlay_hint.refresh_support")
    if supported and server.settings.inline.hints:
        server.workspace_inlay_hint_refresh(None)


def _range(server: PonderServer, uri: str, answer: Attached) -> types.Range:
    (sl, sc), (el, ec) = server.documents.range_of(uri, answer)
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


def register(server: PonderServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        server.documents.open(doc.uri, doc.text, doc.version, doc.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        changes: list[tuple[tuple[int, int, int, int] | None, str]] = []
        for change in params.content_changes:
            rng = getattr(change, "range", None)
            if rng is None:
                changes.append((None, change.text))
            else:
                s, e = rng.start, rng.end
                changes.append(((s.line, s.character, e.line, e.character), change.text))
        if server.documents.change(params.text_document.uri, changes, params.text_document.version):
            refresh_hints(server)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        server.documents.close(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(params: types.InlayHintParams) -> list[types.InlayHint]:
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

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        offset = server.documents.offset(uri, params.position.line, params.position.character)
        answer = server.documents.answer_at(uri, offset) if offset is not None else None
        if answer is None or answer.result is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value=answer_markdown(answer.result, answer.stale)
            ),
            range=_range(server, uri, answer),
        )
