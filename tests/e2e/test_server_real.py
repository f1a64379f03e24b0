"""The real server over stdio with the real smollm2-135m model: what an editor would see."""

import pytest_asyncio

from tests.conftest import TEST_MODEL
from tests.lsp_helpers import (
    cancel_after,
    close,
    open_sample,
    reason_params,
    request,
    start,
)

# Still running a second in: six paths (one, as `auto` gives an explanation, can end sooner).
LONG = {"maxTokens": 400, "strategy": "self_consistency"}


@pytest_asyncio.fixture
async def client(tmp_path):
    client = await start(TEST_MODEL, tmp_path / "home")
    yield client
    await close(client)


async def test_answer_with_progress_from_the_real_model(client, tmp_path):
    uri = open_sample(client, tmp_path)
    client.progress_reports["t1"] = []
    result = await request(
        client,
        "ponder/reason",
        reason_params(
            uri,
            question="What does total([1, 2]) return?",
            workDoneToken="t1",
            options={"maxTokens": 96},
        ),  # fmt: skip
    )
    assert result["model"] == TEST_MODEL
    assert result["answer"].strip()
    # No table was fitted for the test model: no number, the reason, and the raw signal apart.
    assert result["confidence"] is None and result["verdict"] == "uncertain"
    assert result["uncalibrated"] in (
        f"not calibrated for the model {TEST_MODEL}",
        "not calibrated: the answer is not a Python value",
        "no path reached a final answer",
    )
    # The default strategy votes: its raw signal is the winning answer's share of the paths.
    assert result["signal"]["kind"] == "agreement" and 0.0 <= result["signal"]["value"] <= 1.0
    assert 0 <= result["agreement"]["agree"] <= result["agreement"]["paths"]
    assert result["usage"]["completionTokens"] > 0 and result["usage"]["promptTokens"] > 50
    reports = client.progress_reports["t1"]
    assert type(reports[0]).__name__ == "WorkDoneProgressBegin"
    assert type(reports[-1]).__name__ == "WorkDoneProgressEnd"


async def test_self_consistency_and_cot_decoding_on_the_real_model(client, tmp_path):
    uri = open_sample(client, tmp_path)
    for strategy in ("self_consistency", "cot_decoding"):
        options = {"strategy": strategy, "samples": 3, "maxTokens": 48, "earlyStop": False}
        if strategy == "cot_decoding":
            options.pop("earlyStop")
        result = await request(client, "ponder/reason", reason_params(uri, options=options))
        assert sum(c["count"] for c in result["candidates"]) == 3, strategy
        assert result["agreement"]["paths"] == 3
        # The default question asks for an explanation: never confident, whatever the vote.
        assert result["verdict"] in ("uncertain", "unchecked")
        # every path cut off at maxTokens was made to write an answer line
        assert result["answer"].strip()


async def test_cancel_is_fast_with_the_real_model(client, tmp_path):
    uri = open_sample(client, tmp_path)
    # First request loads the model; then cancel a long generation mid-way.
    await request(client, "ponder/reason", reason_params(uri, options={"maxTokens": 4}))
    elapsed = await cancel_after(client, reason_params(uri, options=LONG), delay=1.0)
    assert elapsed < 0.5
    after = await request(client, "ponder/reason", reason_params(uri, options={"maxTokens": 8}))
    assert after["usage"]["completionTokens"] > 0


async def test_bad_position_then_good_request(client, tmp_path):
    from pygls.exceptions import JsonRpcException

    uri = open_sample(client, tmp_path)
    try:
        await request(
            client,
            "ponder/reason",
            {"textDocument": {"uri": uri}, "position": {"line": 500, "character": 0}},
        )
        raise AssertionError("expected an error")
    except JsonRpcException as e:
        assert "past the end" in str(e)
    result = await request(client, "ponder/reason", reason_params(uri, options={"maxTokens": 16}))
    assert result["usage"]["completionTokens"] > 0


async def test_accepted_answer_comes_back_as_a_memory_after_restart(tmp_path):
    """Real model, real MiniLM embedder, real LanceDB: accept, restart the server, ask again."""
    home = tmp_path / "home"
    client = await start(TEST_MODEL, home)
    uri = open_sample(client, tmp_path)
    question = "What does total([1, 2]) return?"
    first = await request(
        client, "ponder/reason", reason_params(uri, question=question, options={"maxTokens": 32})
    )
    stored = await request(client, "ponder/accept", {"id": first["id"], "answer": "15.71"})
    await close(client)

    client = await start(TEST_MODEL, home)
    uri = open_sample(client, tmp_path)
    again = await request(
        client,
        "ponder/reason",
        reason_params(uri, question=question, options={"maxTokens": 8}),
    )
    assert [m["id"] for m in again["memories"]] == [stored["memoryId"]]
    assert again["memories"][0]["answer"] == "15.71"
    other = await request(
        client,
        "ponder/reason",
        reason_params(uri, question="What does total([1, 3]) return?", options={"maxTokens": 8}),
    )
    assert other["memories"] == []  # same code, another question: not shown
    await close(client)
