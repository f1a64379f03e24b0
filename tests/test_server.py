"""The real server over stdio (pytest-lsp), with the scripted engine: protocol behaviour, fast.
The same flows with a real model are in tests/e2e/."""

import ast
import asyncio
import time

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.lsp_helpers import (
    cancel_after,
    close,
    init_params,
    open_sample,
    reason_params,
    request,
    server_config,
    start,
)


@pytest_asyncio.fixture
async def client(tmp_path):
    client = await start("scripted", tmp_path / "home", reason={"maxTokens": 200})
    yield client
    await close(client)


@pytest_asyncio.fixture
async def slow_client(tmp_path):
    """Its engine sleeps 50 ms a word: slow enough to cancel mid-answer."""
    client = await start("scripted:slow", tmp_path / "home", reason={"maxTokens": 200})
    yield client
    await close(client)


async def test_initialize_is_fast_and_declares_code_actions(tmp_path):
    client = await server_config("scripted", tmp_path / "home").start()
    started = time.perf_counter()
    result = await client.initialize_session(init_params())
    elapsed = time.perf_counter() - started
    assert elapsed < 5  # generous for a shared machine; the benchmark measures the real figure
    assert result.capabilities.code_action_provider
    assert "ponder.reason" in result.capabilities.execute_command_provider.commands
    await close(client)


async def test_reason_returns_the_documented_shape(client, tmp_path):
    uri = open_sample(client, tmp_path)
    client.progress_reports["tok-1"] = []
    result = await request(
        client,
        "ponder/reason",
        reason_params(uri, question="What does total([1]) return?", workDoneToken="tok-1"),
    )
    for key in ("id", "answer", "confidence", "agreement", "verdict", "principle", "rationale",
                "candidates", "memories", "usage", "model", "signal", "uncalibrated"):  # fmt: skip
        assert key in result
    # "it returns a + b" to a value question, from a model no table was fitted for: no number.
    assert result["confidence"] is None and result["signal"] == {"kind": "agreement", "value": 1.0}
    assert result["uncalibrated"] == "not calibrated: the answer is not a Python value"
    assert result["agreement"] == {"agree": 6, "paths": 6}  # the default: self-consistency, k=6
    assert result["verdict"] in ("confident", "uncertain")
    assert result["answer"] == "it returns a + b"
    assert result["model"] == "scripted"
    assert result["candidates"][0]["count"] == 6
    assert set(result["usage"]) == {"promptTokens", "completionTokens", "seconds"}
    kinds = [type(v).__name__ for v in client.progress_reports["tok-1"]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert "WorkDoneProgressReport" in kinds


async def test_self_consistency_candidates_sum_to_k(client, tmp_path):
    uri = open_sample(client, tmp_path)
    result = await request(
        client,
        "ponder/reason",
        reason_params(uri, options={"strategy": "self_consistency", "samples": 3}),
    )
    assert sum(c["count"] for c in result["candidates"]) == 3
    assert result["agreement"] == {"agree": 3, "paths": 3}
    # A CPU's schedule: the greedy path's answer is reported before the other paths run.
    client.progress_reports["tok-2"] = []
    options = {"strategy": "self_consistency", "samples": 3, "schedule": "greedy_first"}
    params = reason_params(
        uri, question="What does total([1]) return?", workDoneToken="tok-2", options=options
    )
    result = await request(client, "ponder/reason", params)
    messages = [getattr(v, "message", None) for v in client.progress_reports["tok-2"]]
    first = "first answer it returns a + b · checking with 2 more paths"
    assert messages.index(first) < messages.index("voting")
    assert result["agreement"] == {"agree": 3, "paths": 3}


async def test_cancel_answers_request_cancelled_quickly_and_server_lives(slow_client, tmp_path):
    uri = open_sample(slow_client, tmp_path)
    elapsed = await cancel_after(slow_client, reason_params(uri), delay=0.3)
    assert elapsed < 0.5
    result = await request(slow_client, "ponder/reason", reason_params(uri))
    assert result["answer"]


async def test_bad_input_gives_clear_errors_and_the_server_lives(client, tmp_path):
    uri = open_sample(client, tmp_path)
    bad = [
        ({"textDocument": {"uri": "file:///nope/missing.py"}}, "unknown document"),
        ({"textDocument": {"uri": uri}, "position": {"line": 999, "character": 0}}, "past the end"),
        ({"textDocument": {"uri": uri}, "position": {"line": "x", "character": 0}}, "integer"),
        ({"textDocument": {"uri": uri}, "options": {"strategy": "magic"}}, "strategy"),
        ({"textDocument": {"uri": uri}, "options": {"samples": 0}}, "samples"),
        ({"textDocument": {"uri": uri}, "options": {"nope": 1}}, "unknown setting"),
        ({"nothing": True}, "textDocument.uri"),
        ({"textDocument": {"uri": uri}, "question": 42}, "question"),
        # a file the client never opened is not read from disk, even when it exists
        ({"textDocument": {"uri": "file:///etc/passwd"}}, "unknown document"),
        ({"textDocument": "x"}, "textDocument.uri"),
        ({"textDocument": {"uri": uri}, "range": {"start": 1, "end": 2}}, "range.start"),
        ({"textDocument": {"uri": uri}, "options": "fast"}, "options"),
        ({"textDocument": {"uri": uri}, "options": {"samples": "5"}}, "samples"),
        ({"textDocument": {"uri": uri}, "options": {"temperature": [1]}}, "temperature"),
        ({"textDocument": {"uri": uri}, "workDoneToken": {}}, "workDoneToken"),
        ({"textDocument": {"uri": uri}, "position": {"line": 10**30, "character": 0}}, "past"),
    ]
    for params, expected in bad:
        with pytest.raises(JsonRpcException) as err:
            await request(client, "ponder/reason", params)
        assert expected in str(err.value), (params, str(err.value))
    result = await request(client, "ponder/reason", reason_params(uri))
    assert result["answer"]


async def test_code_action_and_command_answer_in_a_message_without_inlay_hints(client, tmp_path):
    # This client (VS Code 1.65's capabilities) has no inlay hints: the answer comes as a message.
    uri = open_sample(client, tmp_path)
    rng = types.Range(
        start=types.Position(line=8, character=0), end=types.Position(line=12, character=0)
    )
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng,
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert [a.title for a in actions] == ["Ponder: reason about this"]
    # pygls' client structures the CodeAction as a Command (the result type is a union) and keeps
    # the real command as the str() of a dict: read it back from there.
    action = client.protocol._converter.unstructure(actions[0])
    command = action["command"]
    command = ast.literal_eval(command) if isinstance(command, str) else command
    assert command["command"] == "ponder.reason"
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command["command"], arguments=command["arguments"])
    )
    assert result["answer"] == "it returns a + b"
    assert any("it returns a + b" in m.message for m in client.messages)
    assert not client.shown_documents  # no second UI: no markdown file


async def test_bad_settings_fall_back_with_a_message(tmp_path):
    client = await server_config("scripted", tmp_path / "home").start()
    await client.initialize_session(
        init_params(reason={"samples": -3, "strategy": "nope"}, bogus=1)
    )
    await asyncio.sleep(0.2)
    text = " ".join(m.message for m in client.messages)
    assert "reason.samples" in text and "reason.strategy" in text and "bogus" in text
    status = await request(client, "ponder/status", {})
    assert status["settings"]["reason"]["samples"] == 6  # the default was kept
    await close(client)


async def test_malformed_json_does_not_kill_the_server(client, tmp_path):
    uri = open_sample(client, tmp_path)
    body = b'{"jsonrpc": "2.0", "id": 99, "method": "ponder/reason", "params": {'
    client._server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    await asyncio.sleep(0.2)
    result = await request(client, "ponder/reason", reason_params(uri))
    assert result["answer"]


async def test_missing_model_is_a_clear_error_and_the_server_lives(tmp_path):
    client = await start(str(tmp_path / "missing.gguf"), tmp_path / "home", preload=False)
    uri = open_sample(client, tmp_path)
    with pytest.raises(JsonRpcException) as err:
        await request(client, "ponder/reason", reason_params(uri))
    assert "does not exist" in str(err.value)
    assert any("does not exist" in m.message for m in client.messages)
    await close(client)


async def test_shutdown_then_exit_exits_zero(tmp_path):
    client = await server_config("scripted", tmp_path / "home").start()
    await client.initialize_session(init_params())
    await client.shutdown_session()
    assert client._server.returncode == 0
    await client.stop()


def test_nothing_heavy_is_imported_before_the_model_is_needed(tmp_path):
    """numpy, llama.cpp, LanceDB, torch, tree-sitter and the engine load after `initialize` is
    answered (the model preload starts at `initialized`), so an editor's start is not slowed."""
    from tests.wire import WireServer

    server = WireServer(tmp_path / "home", model="smollm2-135m")
    try:
        reply = server.request(
            "initialize", {"processId": None, "rootUri": None, "capabilities": {}}
        )
        assert "result" in reply
        assert server.request("ponder/debug/modules", {})["result"] == {"loaded": []}
    finally:
        server.close()
