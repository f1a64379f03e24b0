"""Accept / reject through the real server over stdio (scripted engine, hashing embedder)."""

import pytest
from pygls.exceptions import JsonRpcException

from tests.lsp_helpers import close, open_sample, reason_params, request, start

MEMORY = {"embedder": "hashing"}


async def session(tmp_path, **options):
    return await start("scripted", tmp_path / "home", memory=dict(MEMORY, **options))


async def test_accept_restart_retrieve_and_reject_is_never_retrieved(tmp_path):
    client = await session(tmp_path)
    uri = open_sample(client, tmp_path)
    first = await request(
        client, "ponder/reason", reason_params(uri, question="What does total([1]) return?")
    )
    assert first["memories"] == []
    store = tmp_path / "home" / "memory"
    assert not store.exists()  # nothing accepted yet: recall did not create (or import) LanceDB
    stored = await request(
        client, "ponder/accept", {"id": first["id"], "answer": "3.14", "note": "checked"}
    )
    assert store.is_dir()
    assert len(stored["memoryId"]) == 32 and stored["updated"] is False
    other = await request(
        client, "ponder/reason", reason_params(uri, question="What does area(2) return?")
    )
    await request(client, "ponder/reject", {"id": other["id"]})
    await close(client)

    client = await session(tmp_path)  # a new server process, same store
    uri = open_sample(client, tmp_path)
    result = await request(
        client, "ponder/reason", reason_params(uri, question="What does total([1]) return?")
    )
    assert [m["id"] for m in result["memories"]] == [stored["memoryId"]]
    assert result["memories"][0]["answer"] == "3.14"
    assert 0.5 <= result["memories"][0]["similarity"] <= 1.0
    # The same code, another question: the earlier trace is not shown (measured to hurt).
    other_input = await request(
        client, "ponder/reason", reason_params(uri, question="What does total([2]) return?")
    )
    assert other_input["memories"] == []
    with pytest.raises(JsonRpcException, match="unknown answer id"):
        await request(client, "ponder/accept", {"id": first["id"]})  # not from this session
    await close(client)


async def test_broken_store_is_reported_and_answers_go_on(tmp_path):
    broken = tmp_path / "broken-store"
    broken.write_text("this is a file, not a store")
    client = await session(tmp_path, path=str(broken))
    uri = open_sample(client, tmp_path)
    first = await request(client, "ponder/reason", reason_params(uri))
    assert first["answer"] and first["memories"] == []
    assert any("cannot be opened" in m.message for m in client.messages)
    with pytest.raises(JsonRpcException, match="cannot be opened"):
        await request(client, "ponder/accept", {"id": first["id"]})
    assert broken.read_text() == "this is a file, not a store"
    await close(client)


async def test_a_setting_cannot_send_memory_off_the_machine_or_make_folders(tmp_path):
    for path, expected in [
        ("s3://somebody-elses-bucket/traces", "is remote"),
        (str(tmp_path / "no" / "such" / "folders" / "store"), "does not exist"),
    ]:
        client = await session(tmp_path, path=path)
        uri = open_sample(client, tmp_path)
        answer = await request(client, "ponder/reason", reason_params(uri))
        assert answer["answer"] and answer["memories"] == []  # answers go on without memory
        assert any(expected in m.message for m in client.messages), client.messages
        await close(client)
    assert not (tmp_path / "no").exists()
