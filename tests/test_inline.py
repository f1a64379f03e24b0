"""Answers attached to code in standard LSP (scripted engine, the real server over stdio): inlay
hints that follow edits, hover, code actions that accept into memory, streamed reasoning."""

import time

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, client_capabilities

from ponder.agent.results import Answer
from ponder.server.render import agreement_text
from ponder.server.wire import parse
from tests.lsp_helpers import SAMPLE, close, open_sample, request, server_config
from tests.wire import WireServer

COW = {
    "id": "a1",
    "answer": "###the cow goes moo", "confidence": None, "verdict": "uncertain",
    "signal": {"kind": "margin", "value": 0.97}, "uncalibrated": "not calibrated: the answer is not a Python value",
    "strategy": "greedy", "agreement": {"agree": 1, "paths": 1}, "principle": None,
    "rationale": "r", "model": "m", "candidates": [], "memories": [],
    "usage": {"promptTokens": 1, "completionTokens": 1, "seconds": 1.0},
}  # fmt: skip


def typed(wire: dict) -> Answer:
    """A ponder/reason result as the server holds it: the wire JSON, structured."""
    return parse(Answer, wire)


WHOLE = {"start": {"line": 7, "character": 0}, "end": {"line": 11, "character": 17}}


@pytest_asyncio.fixture
async def client(tmp_path):
    config: ClientServerConfig = server_config("scripted", tmp_path / "home")
    client = await config.start()
    client.refreshes = 0

    @client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
    def refresh(params) -> None:
        client.refreshes += 1

    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            initialization_options={"memory": {"embedder": "hashing"}},
        )
    )
    yield client
    await close(client)


async def hints(client, uri, last_line=20):
    rng = types.Range(types.Position(0, 0), types.Position(last_line, 0))
    result = await client.text_document_inlay_hint_async(
        types.InlayHintParams(text_document=types.TextDocumentIdentifier(uri=uri), range=rng)
    )
    return result or []


def edit(client, uri, version, start, end, text):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(*start), types.Position(*end)), text=text
                )
            ],
        )
    )


async def test_the_answer_is_an_inlay_hint_that_follows_edits(client, tmp_path):
    uri = open_sample(client, tmp_path)
    assert await hints(client, uri) == []
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="ponder.reason", arguments=[{"textDocument": {"uri": uri}, "range": WHOLE}]
        )
    )
    assert client.refreshes == 1  # sent as the answer landed, before the reply
    [hint] = await hints(client, uri)
    assert hint.position == types.Position(11, 22)  # after `    return round(s, 2)`
    assert hint.label.startswith("⟹ it returns a + b")
    assert result["answer"] in hint.tooltip.value
    # The default question asks for an explanation: not weighed, so neither a number nor "?".
    assert result["verdict"] == "unchecked" and "?" not in hint.label and "·" not in hint.label
    assert "free text, not checked" in hint.tooltip.value
    edit(client, uri, 2, (0, 0), (0, 0), "# a comment\n")  # above: the hint moves down
    [hint] = await hints(client, uri)
    assert hint.position.line == 12 and "stale" not in hint.label
    # Once the new answer was served, one more refresh (Neovim's hint cache, inline.py); only once.
    assert client.refreshes == 2
    edit(client, uri, 3, (10, 8), (10, 9), "t")  # inside: the hint says it is stale
    [hint] = await hints(client, uri)
    assert "stale" in hint.label and client.refreshes == 3
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert await hints(client, uri) == []


async def test_hover_and_code_actions_on_an_answered_range(client, tmp_path):
    uri = open_sample(client, tmp_path)
    result = await request(client, "ponder/reason", {"textDocument": {"uri": uri}, "range": WHOLE})
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri=uri), types.Position(9, 4))
    )
    assert result["answer"] in hover.contents.value
    assert "one path" in hover.contents.value  # the default question, an explanation: 1 path
    assert (
        agreement_text(typed({**COW, "agreement": {"agree": 4, "paths": 6}}))
        == "4 of 6 paths agree"
    )
    outside = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri=uri), types.Position(1, 0))
    )
    assert outside is None
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(9, 4), types.Position(9, 4)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    titles = [a.title for a in actions]
    assert titles == [
        "Ponder: accept answer",
        "Ponder: reject answer",
        "Ponder: ask again with more samples",
    ]
    accept = client.protocol._converter.unstructure(actions[0])["command"]
    stored = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ponder.acceptAnswer", arguments=[{"id": result["id"]}])
    )
    assert stored["memoryId"] and "ponder.acceptAnswer" in str(accept)


async def test_hints_and_hover_for_unknown_documents_are_empty(client):
    uri = "file:///never/opened.py"
    assert await hints(client, uri) == []
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri=uri), types.Position(999, 0))
    )
    assert hover is None
    with pytest.raises(JsonRpcException, match="partialResultToken"):
        await request(
            client, "ponder/reason", {"textDocument": {"uri": uri}, "partialResultToken": {}}
        )


def test_partial_results_stream_a_prefix_of_the_final_reasoning(tmp_path):
    server = WireServer(tmp_path / "home", model="scripted:slow")
    try:
        server.initialize({"reason": {"strategy": "greedy"}})
        server.open("file:///a.py", SAMPLE)
        reply = server.request(
            "ponder/reason",
            {"textDocument": {"uri": "file:///a.py"}, "partialResultToken": "p1"},
            timeout=30,
        )
        rationale = reply["result"]["rationale"]
        pieces = [
            n["params"]["value"]["reasoning"]
            for n in server.notifications
            if n["method"] == "$/progress" and n["params"]["token"] == "p1"
        ]
        assert len(pieces) >= 2, pieces
        assert rationale.startswith("".join(pieces)) and "".join(pieces)
        # The greedy path first (a CPU's schedule): its answer follows its reasoning.
        server.notifications.clear()
        options = {"strategy": "self_consistency", "samples": 2, "schedule": "greedy_first"}
        server.request(
            "ponder/reason",
            {"textDocument": {"uri": "file:///a.py"}, "partialResultToken": "p2",
             "question": "What does add(1, 2) return?", "options": options},
            timeout=30,
        )  # fmt: skip
        values = [
            n["params"]["value"]
            for n in server.notifications
            if n["method"] == "$/progress" and n["params"]["token"] == "p2"
        ]
        assert values[-1] == {"firstAnswer": "it returns a + b"} and "reasoning" in values[0]
    finally:
        server.close()


def test_the_greedy_paths_first_answer_is_shown_inline_until_the_vote(tmp_path):
    server = WireServer(tmp_path / "home", model="scripted:slow")
    uri, whole = "file:///a.py", {"start": {"line": 0, "character": 0}, "end": WHOLE["end"]}
    options = {"strategy": "self_consistency", "schedule": "greedy_first"}
    try:
        server.initialize({"reason": options})
        server.open(uri, SAMPLE)
        params = {"textDocument": {"uri": uri}, "range": WHOLE, "partialResultToken": "p",
                  "question": "What does total([1]) return?"}  # fmt: skip
        server.send({"jsonrpc": "2.0", "id": 900, "method": "ponder/reason", "params": params})
        deadline = time.monotonic() + 20
        while not any(
            "firstAnswer" in (n["params"].get("value") or {}) for n in server.notifications
        ):
            assert time.monotonic() < deadline, "no first answer"
            server.request("ponder/status")  # reads what the server sent meanwhile
        shown = server.request(
            "textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": whole}
        )
        assert [h["label"] for h in shown["result"]] == [
            "⟹ it returns a + b · first answer, checking…"
        ]
        hover = server.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                       "position": {"line": 9, "character": 4}})  # fmt: skip
        assert "the other paths are checking it" in hover["result"]["contents"]["value"]
        actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri},
                                 "range": whole, "context": {"diagnostics": []}})  # fmt: skip
        assert "Ponder: accept answer" not in [a["title"] for a in actions["result"]]  # not yet
        assert server.reply(900, timeout=30)["result"]["agreement"] == {"agree": 6, "paths": 6}
        shown = server.request(
            "textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": whole}
        )
        assert [h["label"] for h in shown["result"]] == ["⟹ it returns a + b · 6/6 ?"]
    finally:
        server.close()


def test_the_paths_answers_are_shown_beside_the_answer_only_when_they_differ(capsys):
    from ponder.server.cli.ask import print_answer
    from ponder.server.render import answer_markdown, votes_text

    result = {
        "id": "a1", "answer": "[1]", "confidence": 0.36, "verdict": "uncertain", "strategy": "self_consistency",
        "agreement": {"agree": 3, "paths": 6}, "principle": None, "rationale": "r", "model": "m",
        "candidates": [{"answer": "[1]", "count": 3}, {"answer": "[2]", "count": 2},
                       {"answer": "", "count": 1}],
        "memories": [], "usage": {"promptTokens": 1, "completionTokens": 1, "seconds": 1.0},
    }  # fmt: skip
    assert votes_text(typed(result)) == "`[1]` × 3, `[2]` × 2, no answer × 1"
    assert "votes: `[1]` × 3, `[2]` × 2, no answer × 1" in answer_markdown(typed(result))
    print_answer(result, 1.0)
    assert "Votes: `[1]` × 3, `[2]` × 2, no answer × 1\n" in capsys.readouterr().out

    unanimous = {**result, "candidates": [{"answer": "[1]", "count": 6}]}
    assert votes_text(typed(unanimous)) == ""
    print_answer(unanimous, 1.0)
    assert "Votes" not in capsys.readouterr().out


def test_each_verdict_is_said_in_words(capsys):
    from ponder.server.cli.ask import print_answer
    from ponder.server.render import hint_label, verdict_text

    answer = {
        "id": "a1", "answer": "[1]", "confidence": 0.88, "verdict": "confident", "strategy": "auto",
        "agreement": {"agree": 6, "paths": 6}, "principle": None, "rationale": "r", "model": "m",
        "candidates": [], "memories": [], "usage": {"promptTokens": 1, "completionTokens": 1,
                                                     "seconds": 1.0},
    }  # fmt: skip
    assert verdict_text(typed(answer)) == "confident · confidence 0.88"
    assert hint_label(typed(answer), stale=False) == "⟹ [1] · 6/6"
    split = {**answer, "confidence": 0.36, "verdict": "uncertain"}
    assert verdict_text(typed(split)) == "UNCERTAIN — do not rely on this answer · confidence 0.36"
    assert hint_label(typed(split), stale=True) == "⟹ [1] · 6/6 ? (stale: the code changed)"
    explained = {**answer, "answer": "it sums", "confidence": None, "verdict": "unchecked",
                 "signal": {"kind": "margin", "value": 0.97}, "uncalibrated": "free text is not checked",
                 "agreement": {"agree": 1, "paths": 1}}  # fmt: skip
    assert verdict_text(typed(explained)) == "free text, not checked"
    assert hint_label(typed(explained), stale=False) == "⟹ it sums"
    print_answer(explained, 1.0)
    printed = capsys.readouterr().out
    assert "UNCERTAIN" not in printed and "0.97" not in printed and "not checked" in printed


def test_a_raw_signal_is_never_shown_as_a_number_and_the_reason_is(capsys):
    """The greedy path's "###the cow goes moo" carried a margin of 0.97: shown as a number it
    reads as 97% sure. Without a calibrated confidence every surface says why there is none."""
    from ponder.server.cli.ask import print_answer
    from ponder.server.render import answer_markdown, hint_label, verdict_text

    cow = COW
    said = (
        "UNCERTAIN — do not rely on this answer · not calibrated: the answer is not a Python value"
    )
    assert verdict_text(typed(cow)) == said
    assert hint_label(typed(cow), stale=False) == "⟹ ###the cow goes moo ?"
    assert said in answer_markdown(typed(cow)) and "0.97" not in answer_markdown(typed(cow))
    print_answer(cow, 1.0)
    printed = capsys.readouterr().out
    assert "0.97" not in printed and "not calibrated: the answer is not a Python value" in printed
    calibrated = {**cow, "answer": "'cow'", "confidence": 0.47, "uncalibrated": None}
    assert hint_label(typed(calibrated), stale=False) == "⟹ 'cow' · 0.47 ?"
    print_answer(calibrated, 1.0)
    assert "Confidence: 0.47 (uncertain)" in capsys.readouterr().out
