"""Check by running over the wire (the real server, the scripted engine): refused until the
workspace allows it, then a refuted answer with the real value, a second look, and the verdict
inline; the code action offers it only for a value question."""

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.lsp_helpers import close, open_sample, request, start

CHUNKED = """def chunked(items, size):
    chunks = []
    for start in range(0, len(items) - size, size):
        chunks.append(items[start:start + size])
    return chunks
"""
WHOLE = {"start": {"line": 0, "character": 0}, "end": {"line": 4, "character": 17}}


async def test_check_is_refused_until_allowed_then_refutes_with_the_real_value(tmp_path):
    client = await start("scripted", tmp_path / "home")
    try:
        uri = open_sample(client, tmp_path, CHUNKED, "chunks.py")
        asked = {"textDocument": {"uri": uri}, "range": WHOLE,
                 "question": "What does chunked([1, 2, 3, 4, 5], 2) return?"}  # fmt: skip
        answer = await request(client, "ponder/reason", asked)
        checking = {"textDocument": {"uri": uri}, "id": answer["id"]}
        with pytest.raises(JsonRpcException, match="check by running is off"):
            await request(client, "ponder/check", checking)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"checkByRunning": True})
        )
        checked = await request(client, "ponder/check", checking)
        assert checked["verdict"] == "refuted" and checked["actual"] == "[[1, 2], [3, 4]]"
        assert checked["explanation"]  # the scripted engine's second look
        hints = await client.text_document_inlay_hint_async(
            types.InlayHintParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(types.Position(0, 0), types.Position(6, 0)),
            )
        )
        assert hints[0].label.endswith("· refuted: running gives [[1, 2], [3, 4]]")
        assert "**Checked by running:** refuted" in hints[0].tooltip.value
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(types.Position(2, 4), types.Position(2, 4)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        assert "Ponder: check by running" in [a.title for a in actions]
        with pytest.raises(JsonRpcException, match="unknown answer id"):
            await request(client, "ponder/check", {"textDocument": {"uri": uri}, "id": "nope"})
        explained = await request(client, "ponder/reason", {**asked, "question": "Explain it."})
        with pytest.raises(JsonRpcException, match="only an answer to a question like"):
            await request(client, "ponder/check", {**checking, "id": explained["id"]})
    finally:
        await close(client)


def test_an_answer_verified_by_running_is_stored_with_the_verified_tag():
    from types import SimpleNamespace

    from ponder.agent.results import Agreement, Answer, Check, Usage
    from ponder.server.features.memory import _trace

    answer = Answer("a1", "[[1, 2], [3, 4]]", None, Agreement(6, 6), "uncertain", None, "r", [],
                    [], Usage(1, 1, 1.0), "m", "self_consistency", question="q", code=CHUNKED)  # fmt: skip
    server = SimpleNamespace(recent={"a1": answer})
    assert _trace(server, {"id": "a1"})["tags"] == []
    answer.checked = Check("verified", "[[1, 2], [3, 4]]")
    assert _trace(server, {"id": "a1"})["tags"] == ["verified"]
    answer.checked = Check("refuted", "[1]")
    assert _trace(server, {"id": "a1"})["tags"] == []
