"""The trace store on real LanceDB in tmp dirs (hashing embedder; MiniLM is in tests/e2e)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ponder.agent.errors import PonderError
from ponder.agent.prompts import chat_example
from ponder.memory.embedder import HashingEmbedder
from ponder.memory.store import TraceStore, _schema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def trace(n, **extra):
    return {
        "question": f"What does f({n}) return?",
        "code": f"def f(x):\n    return x * {n} + {n * 7 % 13}",
        "answer": str(n),
        "rationale": f"multiply by {n}",
        "model": "m",
        "strategy": "greedy",
        **extra,
    }


def open_store(path):
    return TraceStore(path, HashingEmbedder()).open()


def test_accepted_trace_survives_reopen_and_is_retrieved(tmp_path):
    store = open_store(tmp_path / "mem")
    memory_id, updated = store.add(trace(3, tags=["math"]))
    assert not updated
    again = open_store(tmp_path / "mem")  # a restart
    hits = again.search("What does f(3) return?", "def f(x):\n    return x * 3 + 8")
    assert hits[0]["id"] == memory_id and hits[0]["similarity"] > 0.9
    assert hits[0]["tags"] == ["math"]
    assert oct(os.stat(tmp_path / "mem").st_mode & 0o777) == "0o700"


def test_rejected_never_retrieved(tmp_path):
    store = open_store(tmp_path / "mem")
    store.add(trace(5), accepted=False)
    assert store.search("What does f(5) return?", trace(5)["code"], threshold=0.0) == []
    assert store.stats()["rejected"] == 1


def test_near_duplicate_accept_updates(tmp_path):
    store = open_store(tmp_path / "mem")
    first, _ = store.add(trace(4))
    second, updated = store.add(trace(4, answer="four", rationale="edited"))
    assert updated and first == second
    assert store.stats()["traces"] == 1 and store.get(first)["answer"] == "four"


class CountingEmbedder(HashingEmbedder):
    def __init__(self):
        super().__init__()
        self.texts = 0

    def embed(self, texts):
        self.texts += len(texts)
        return super().embed(texts)


def test_an_accept_after_its_search_reuses_the_embedding_and_the_nearest_trace(tmp_path):
    store = TraceStore(tmp_path / "mem", CountingEmbedder()).open()
    store.add(trace(1))
    asked = trace(2)
    store.search(asked["question"], asked["code"])  # the answer's retrieval
    embedded = store.embedder.texts
    queries = []
    real_nearest = store._nearest
    store._nearest = lambda *a: queries.append(a) or real_nearest(*a)
    memory_id, updated = store.add(asked)
    assert not updated and store.embedder.texts == embedded and queries == []
    # Written since the search: the next accept of the same text looks again, and finds its twin.
    again, updated = store.add({**asked, "answer": "two"})
    assert updated and again == memory_id and len(queries) == 1
    assert store.stats()["traces"] == 2 and store.get(memory_id)["answer"] == "two"


def test_forget_and_bad_ids(tmp_path):
    store = open_store(tmp_path / "mem")
    memory_id, _ = store.add(trace(1))
    assert store.forget(memory_id) and store.get(memory_id) is None
    with pytest.raises(PonderError, match="not a memory id"):
        store.get("x' OR 1=1 --")


def test_export_import_round_trips_every_field(tmp_path):
    store = open_store(tmp_path / "a")
    for n in range(5):
        store.add(trace(n, tags=[f"t{n}"], note=f"n{n}"), accepted=n != 2)
    out = tmp_path / "all.jsonl"
    assert store.export(out) == 5
    fresh = open_store(tmp_path / "b")
    assert fresh.import_(out) == 5
    by_id = lambda rows: {r["id"]: r for r in rows}  # noqa: E731
    assert by_id(fresh.all()) == by_id(store.all())
    assert fresh.import_(out) == 0  # ids already there are skipped
    chat = tmp_path / "chat.jsonl"
    assert store.export(chat, as_chat=chat_example) == 4
    example = json.loads(chat.read_text().splitlines()[0])
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    assert "ANSWER:" in example["messages"][2]["content"]


def v1_store(path):
    """A store as schema version 1 wrote it: one trace, id "a" * 32; returns the database."""
    import lancedb

    db = lancedb.connect(str(path))
    embedder = HashingEmbedder()
    row = {k: v for k, v in trace(9).items()}
    row.update(id="a" * 32, language="python", path="f.py", symbol="f", principle="", created_at="2025-01-01",
               confidence=0.5, vector=embedder.embed([row["question"]])[0].tolist())  # fmt: skip
    db.create_table("traces", data=[row], schema=_schema(embedder.dim, version=1))
    return db


def test_migrates_a_v1_store_without_losing_rows(tmp_path):
    v1_store(tmp_path / "old")
    store = TraceStore(tmp_path / "old", HashingEmbedder()).open()
    stats = store.stats()
    assert stats["traces"] == 1 and stats["schema_version"] == 2
    kept = store.get("a" * 32)
    assert kept["answer"] == "9" and kept["accepted"] is True and kept["tags"] == []


def test_corrupt_store_gives_a_clear_message_and_deletes_nothing(tmp_path):
    store = open_store(tmp_path / "mem")
    store.add(trace(1))
    for manifest in (tmp_path / "mem" / "traces.lance" / "_versions").iterdir():
        manifest.write_bytes(b"garbage")
    files_before = sorted(p.name for p in (tmp_path / "mem").rglob("*"))
    with pytest.raises(PonderError, match="cannot be opened.*without memory"):
        TraceStore(tmp_path / "mem", HashingEmbedder()).open().stats()
    assert sorted(p.name for p in (tmp_path / "mem").rglob("*")) == files_before


WRITER = """
import sys
sys.path.insert(0, {root!r})
from ponder.memory.embedder import HashingEmbedder
from ponder.memory.store import TraceStore
store = TraceStore({path!r}, HashingEmbedder()).open()
for n in range({start}, {start} + {count}):
    store.add({{"question": f"q{{n}} unique words {{n * 31}}", "code": f"code {{n}}", "answer": str(n)}})
    print(n, flush=True)
"""


def writer(path, start, count):
    code = WRITER.format(root=ROOT, path=str(path), start=start, count=count)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_two_processes_writing_lose_nothing(tmp_path):
    open_store(tmp_path / "mem")
    a, b = writer(tmp_path / "mem", 0, 15), writer(tmp_path / "mem", 1000, 15)
    assert a.wait(120) == 0 and b.wait(120) == 0
    answers = {t["answer"] for t in open_store(tmp_path / "mem").all()}
    assert answers == {str(n) for n in range(15)} | {str(n) for n in range(1000, 1015)}


def test_kill_9_mid_write_keeps_every_earlier_trace(tmp_path):
    open_store(tmp_path / "mem")
    proc = writer(tmp_path / "mem", 0, 500)
    written = []
    deadline = time.time() + 60
    while len(written) < 8 and time.time() < deadline:
        written.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    answers = {t["answer"] for t in open_store(tmp_path / "mem").all()}
    assert {str(n) for n in written} <= answers
    store = open_store(tmp_path / "mem")
    store.add(trace(77))  # and the store still takes writes
    assert "77" in {t["answer"] for t in store.all()}


def test_a_scribbled_data_file_is_a_clear_error_on_search(tmp_path):
    store = open_store(tmp_path / "mem")
    store.add(trace(1))
    store.wait_for_upkeep()
    for data in (tmp_path / "mem" / "traces.lance" / "data").glob("*.lance"):
        data.write_bytes(data.read_bytes()[:20])  # truncated
    reopened = TraceStore(tmp_path / "mem", HashingEmbedder()).open()
    with pytest.raises(PonderError, match="cannot be read.*without memory"):
        reopened.search(trace(1)["question"], trace(1)["code"])


def test_add_and_forget_on_a_store_not_yet_opened_do_not_deadlock(tmp_path):
    open_store(tmp_path / "mem").add(trace(1))
    fresh = TraceStore(tmp_path / "mem", HashingEmbedder())  # not opened
    memory_id, _ = fresh.add(trace(2))
    assert TraceStore(tmp_path / "mem", HashingEmbedder()).forget(memory_id)


def test_an_embedder_mismatch_is_seen_even_when_the_store_migrates(tmp_path):
    db = v1_store(tmp_path / "old")
    db.create_table("meta", data=[{"key": "schema_version", "value": "1"},
                                  {"key": "embedder", "value": "minilm/384"}])  # fmt: skip
    with pytest.raises(PonderError, match="written with embedder minilm/384"):
        TraceStore(tmp_path / "old", HashingEmbedder()).open()


def test_upkeep_goes_again_after_a_commit_conflict_and_warns_on_other_failures(
    tmp_path, monkeypatch, caplog
):
    store = open_store(tmp_path / "mem")
    calls = []

    def conflict_once():
        calls.append(1)
        if len(calls) == 1:  # as Lance says when another process committed first
            raise RuntimeError("Retryable commit conflict for version 7")

    monkeypatch.setattr(store, "_maybe_index", conflict_once)
    with caplog.at_level("WARNING"):
        store._upkeep_now()
    assert len(calls) == 2 and "upkeep failed" not in caplog.text

    def broken():
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_maybe_index", broken)
    with caplog.at_level("WARNING"):
        store._upkeep_now()
    assert "memory upkeep failed: disk full" in caplog.text


def test_the_memory_command_says_what_is_wrong_and_leaves_no_partial_file(tmp_path, capsys):
    from ponder.server.cli import main

    store = ["memory", "--path", str(tmp_path / "store"), "--embedder", "hashing"]
    main([*store, "list"])
    assert f"no traces in {tmp_path / 'store'}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*store, "list", "--limit", "0"])
    assert "argument --limit: must be at least 1, got 0" in capsys.readouterr().err
    for target, said in (
        (tmp_path, "is a folder"),
        (tmp_path / "no" / "x.jsonl", "no such folder"),
    ):
        with pytest.raises(SystemExit):
            main([*store, "export", str(target)])
        assert said in capsys.readouterr().err
    assert not list(tmp_path.glob("*.partial"))
    open_store(tmp_path / "store").add(trace(1))
    main([*store, "export", str(tmp_path / "all.jsonl")])
    assert "wrote 1 traces" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.partial"))


def test_an_import_line_that_is_not_a_trace_is_refused_by_number(tmp_path):
    store = open_store(tmp_path / "s")
    for text, said in (
        ("{bad\n", ":1: not JSON"),
        ('\n{"question": "q"}\n[1]\n', ":3: not a trace"),
    ):
        path = tmp_path / "in.jsonl"
        path.write_text(text)
        with pytest.raises(PonderError, match=said):
            store.import_(path)
        assert store.all() == []  # nothing of a refused file is imported
