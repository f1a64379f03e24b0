"""The reasoning memory: accepted (and rejected) traces in LanceDB, searched by embedding.

- One table `traces`; a `meta` table holds the schema version and the embedder's name. Opening an
  older store migrates it in place by adding the new columns with defaults (no row is rewritten or
  dropped).
- Writes are LanceDB appends/updates: each commits a new table version atomically, so a crash
  mid-write leaves every earlier trace readable, and two processes appending concurrently both land
  (Lance retries conflicting commits).
- Past INDEX_THRESHOLD rows an IVF-PQ index is built; every INDEX_CHECK_EVERY writes `optimize()`
  compacts the fragments and folds the rows that arrived since into the index. Searches refine PQ
  distances with exact ones.
- Nothing here ever deletes a store: a store that cannot be opened is a PonderError that says where
  it is and what is wrong; the caller carries on without memory.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ponder.memory import jsonl
from ponder.memory.embedder import Embedder
from ponder.memory.errors import PonderError

log = logging.getLogger("ponder")

SCHEMA_VERSION = 2
INDEX_THRESHOLD = 5000  # rows before an ANN index pays for itself
INDEX_CHECK_EVERY = 100  # writes between looks at the index
DUPLICATE_SIMILARITY = 0.97  # an accept this close to a stored one updates it instead
NPROBES = (
    128  # IVF partitions searched (of ~sqrt(n)): recall@5 0.98 at 100k (scripts/bench_memory.py)
)
REFINE_FACTOR = 10  # PQ candidates re-ranked with exact distances, per result
# Minimum similarity of a retrieved example. 0.5 let unrelated functions in, and so did 0.75: the
# nearest other CRUXEval function is >= 0.75 for half the dev items, >= 0.85 for a tenth, while the
# same code asked in other words or with a parameter renamed stays >= 0.85 (99-100%;
# scripts/memory_similarity.py@3e230d1, docs/evaluation.md, "Memory on related questions").
DEFAULT_THRESHOLD = 0.85
# Searches remembered for the accept that follows them (its embedding, its nearest stored trace).
RECENT_SEARCHES = 64

TEXT_FIELDS = (
    "question",
    "code",
    "language",
    "path",
    "symbol",
    "principle",
    "rationale",
    "answer",
    "strategy",
    "model",
    "created_at",
    "tags",
    "note",
)
# Columns added by each schema version, with SQL defaults for existing rows.
MIGRATIONS = {2: {"accepted": "true", "tags": "'[]'", "note": "''"}}
_ID = re.compile(r"^[0-9a-f]{32}$")


def _schema(dim: int, version: int = SCHEMA_VERSION):
    import pyarrow as pa

    fields = [pa.field("id", pa.string())]
    fields += [pa.field(name, pa.string()) for name in TEXT_FIELDS if name not in ("tags", "note")]
    fields += [pa.field("confidence", pa.float32())]
    if version >= 2:
        fields += [
            pa.field("accepted", pa.bool_()),
            pa.field("tags", pa.string()),
            pa.field("note", pa.string()),
        ]
    fields += [pa.field("vector", pa.list_(pa.float32(), dim))]
    return pa.schema(fields)


def _tables(db) -> set[str]:
    return set(db.list_tables().tables)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_id(trace_id: str) -> str:
    if not isinstance(trace_id, str) or not _ID.match(trace_id):
        raise PonderError(f"not a memory id: {trace_id!r} (32 hex digits)")
    return trace_id


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def local_path(uri: str) -> Path:
    """The folder of a local store's uri (a path or file://)."""
    return Path(uri.removeprefix("file://")).expanduser()


class TraceStore:
    def __init__(self, uri: str | Path, embedder: Embedder):
        self.uri = str(uri)
        self.embedder = embedder
        # Reentrant: add/forget hold it and may open the table, which takes it too.
        self._lock = threading.RLock()
        self._upkeep: threading.Thread | None = None
        self._table: Any = None
        self._writes = -1  # writes since open, for index upkeep
        # question + code → (its vector, (table version, nearest accepted trace) or None): an
        # accept usually follows the answer whose retrieval embedded and searched the same text,
        # so neither is done twice (see scripts/bench_memory.py --individual).
        self._recent: OrderedDict[str, tuple[np.ndarray, tuple[int, Any] | None]] = OrderedDict()
        self.nprobes = NPROBES

    # ---- opening ------------------------------------------------------------------------------

    def open(self) -> TraceStore:
        import lancedb

        with self._lock:
            if self._table is not None:
                return self
            try:
                if is_local(self.uri):
                    path = local_path(self.uri)
                    path.mkdir(parents=True, exist_ok=True, mode=0o700)
                db = lancedb.connect(self.uri)
                names = _tables(db)
                if "traces" not in names:
                    table = db.create_table(
                        "traces", schema=_schema(self.embedder.dim), exist_ok=True
                    )
                    self._write_meta(db, SCHEMA_VERSION)
                else:
                    table = db.open_table("traces")
                    self._check_embedder(db)  # before a migration rewrites the meta
                    self._migrate(db, table)
            except PonderError:
                raise
            except Exception as e:
                raise PonderError(
                    f"the memory store at {self.uri} cannot be opened ({type(e).__name__}: {e}). "
                    "ponder keeps answering without memory; the store was not modified. "
                    "Move it aside to start a new one."
                ) from e
            self._db, self._table = db, table
            return self

    def _meta(self, db) -> dict:
        if "meta" not in _tables(db):
            return {}
        rows = db.open_table("meta").to_arrow().to_pylist()
        return {r["key"]: r["value"] for r in rows}

    def _write_meta(self, db, version: int) -> None:
        rows = [
            {"key": "schema_version", "value": str(version)},
            {"key": "embedder", "value": f"{self.embedder.name}/{self.embedder.dim}"},
        ]
        if "meta" in _tables(db):
            table = db.open_table("meta")
            (
                table.merge_insert("key")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(rows)
            )
        else:
            db.create_table("meta", data=rows)

    def _migrate(self, db, table) -> None:
        version = int(self._meta(db).get("schema_version", "1"))
        if version > SCHEMA_VERSION:
            raise PonderError(
                f"the memory store at {self.uri} has schema version {version}, newer than this "
                f"ponder ({SCHEMA_VERSION}): upgrade ponder"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            missing = {k: v for k, v in MIGRATIONS[target].items() if k not in table.schema.names}
            if missing:
                table.add_columns(missing)
            self._write_meta(db, target)

    def _check_embedder(self, db) -> None:
        stored = self._meta(db).get("embedder")
        mine = f"{self.embedder.name}/{self.embedder.dim}"
        if stored and stored != mine:
            raise PonderError(
                f"the memory store at {self.uri} was written with embedder {stored}, not {mine}"
            )

    @property
    def table(self):
        if self._table is None:
            self.open()
        return self._table

    # ---- writing ------------------------------------------------------------------------------

    def _vector(self, text: str) -> np.ndarray:
        with self._lock:
            known = self._recent.get(text)
        if known is not None:
            return known[0]
        vector = self.embedder.embed([text])[0]
        self._remember(text, vector, None)
        return vector

    def _remember(self, text: str, vector: np.ndarray, nearest: tuple[int, Any] | None) -> None:
        with self._lock:
            self._recent[text] = (vector, nearest)
            self._recent.move_to_end(text)
            while len(self._recent) > RECENT_SEARCHES:
                self._recent.popitem(last=False)

    def add(self, trace: dict, accepted: bool = True) -> tuple[str, bool]:
        """Store a trace; returns (id, updated). A near-duplicate of a stored trace with the same
        accepted flag updates that one instead of adding another."""
        text = _embedded_text(trace.get("question", ""), trace.get("code", ""))
        vector = self._vector(text)
        row = _row(trace, accepted, vector.tolist())
        with self._lock:
            table = self.table
            searched = self._recent.get(text, (None, None))[1]
            if accepted and searched is not None and searched[0] == table.version:
                twin = searched[1]  # what this text's search found; nothing written since
            else:
                twin = self._nearest(vector, accepted)
            if twin is not None and twin[1] >= DUPLICATE_SIMILARITY:
                values = {k: v for k, v in row.items() if k != "created_at"}
                table.update(where=f"id = '{twin[0]}'", values=values)
                return twin[0], True
            row["id"] = _check_id(trace.get("id") or uuid.uuid4().hex)
            table.add([row])
        self._start_upkeep()
        return row["id"], False

    def _nearest(self, vector: np.ndarray, accepted: bool) -> tuple[str, float] | None:
        hits = self._query(vector, 1, f"accepted = {'true' if accepted else 'false'}")
        return (hits[0]["id"], hits[0]["similarity"]) if hits else None

    def forget(self, trace_id: str) -> bool:
        _check_id(trace_id)
        with self._lock:
            before = self.table.count_rows()
            self.table.delete(f"id = '{trace_id}'")
            return self.table.count_rows() < before

    def _start_upkeep(self) -> None:
        """Every INDEX_CHECK_EVERY writes (and the first), in a background thread: compact the
        fragments one commit per accept leaves (else accepts slow down: 11 ms → 102 ms over 200),
        and build or refresh the ANN index (50 s at 5,000 traces: never inside an accept)."""
        self._writes += 1
        if self._writes % INDEX_CHECK_EVERY or (self._upkeep and self._upkeep.is_alive()):
            return
        self._upkeep = threading.Thread(target=self._upkeep_now, daemon=True, name="memory-upkeep")
        self._upkeep.start()

    def _upkeep_now(self) -> None:
        for attempt in (1, 2):
            try:
                self._maybe_index()
                return
            except Exception as e:  # upkeep is an optimisation: a failure must not lose an accept
                # Two servers on one store (two editor windows) may compact at the same moment;
                # Lance refuses the second commit as a conflict, and then it is right to go again.
                if attempt == 1 and "conflict" in str(e).lower():
                    continue
                log.warning("memory upkeep failed: %s", e)

    def wait_for_upkeep(self) -> None:
        """For tests and benchmarks: until the background upkeep is done."""
        if self._upkeep is not None:
            self._upkeep.join()

    def _maybe_index(self) -> None:
        table = self.table
        if table.count_rows() >= INDEX_THRESHOLD and not any(
            "vector" in i.columns for i in table.list_indices()
        ):
            self.build_index()
        elif self._writes > 0:
            table.optimize()  # compacts the fragments, and indexes the rows added since

    def build_index(self) -> None:
        """Build (or refresh) the ANN index now, whatever the row count."""
        self.table.create_index(
            metric="cosine",
            vector_column_name="vector",
            num_partitions=max(16, int(self.table.count_rows() ** 0.5)),
            num_sub_vectors=self.embedder.dim // 8,
            index_type="IVF_PQ",
        )

    # ---- reading ------------------------------------------------------------------------------

    def _query(self, vector: np.ndarray, k: int, where: str | None) -> list[dict]:
        query = self.table.search(vector.tolist()).distance_type("cosine").limit(k)
        query = query.nprobes(self.nprobes).refine_factor(REFINE_FACTOR)
        if where:
            query = query.where(where, prefilter=True)
        rows = query.to_list()
        for r in rows:
            r["similarity"] = 1.0 - float(r.pop("_distance"))
        return rows

    def search(
        self, question: str, code: str = "", k: int = 3, threshold: float = DEFAULT_THRESHOLD
    ) -> list[dict]:
        """Accepted traces most similar to question + code, best first, above `threshold`."""
        try:
            if k <= 0 or self.table.count_rows() == 0:
                return []  # (an empty store needs no embedder loaded)
            text = _embedded_text(question, code)
            vector = self._vector(text)
            # The version before the query: a write in between makes the accept search again.
            version = self.table.version
            rows = self._query(vector, k, "accepted = true")
            nearest = (rows[0]["id"], rows[0]["similarity"]) if rows else None
            self._remember(text, vector, (version, nearest))
        except PonderError:
            raise
        except Exception as e:  # e.g. a truncated data file: say so, answers go on without memory
            raise PonderError(
                f"the memory store at {self.uri} cannot be read ({type(e).__name__}: "
                f"{str(e)[:200]}); answering without memory. Accepted traces are not touched."
            ) from e
        return [_public(r) for r in rows if r["similarity"] >= threshold]

    def search_vector(self, vector: np.ndarray, k: int) -> list[dict]:
        return self._query(vector, k, None)

    def get(self, trace_id: str) -> dict | None:
        _check_id(trace_id)
        rows = self.table.search().where(f"id = '{trace_id}'").limit(1).to_list()
        return _public(rows[0]) if rows else None

    def all(self, limit: int | None = None) -> list[dict]:
        rows = self.table.to_arrow().to_pylist()
        rows.sort(key=lambda r: r["created_at"], reverse=True)
        return [_public(r) for r in rows[:limit]]

    def stats(self) -> dict:
        table = self.table
        indices = [i.name for i in table.list_indices()]
        return {
            "uri": self.uri,
            "schema_version": SCHEMA_VERSION,
            "traces": table.count_rows(),
            "accepted": table.count_rows("accepted = true"),
            "rejected": table.count_rows("accepted = false"),
            "indices": indices,
            "embedder": f"{self.embedder.name}/{self.embedder.dim}",
        }

    # ---- export / import ----------------------------------------------------------------------

    def export(self, path: Path, as_chat: Callable[[dict], dict] | None = None) -> int:
        """Every trace as JSONL (vectors included); with `as_chat`, accepted traces only, each
        turned into a chat-format training example by that function."""
        rows = self.table.to_arrow().to_pylist()
        if as_chat:
            rows = [r for r in rows if r["accepted"]]
        embedder = f"{self.embedder.name}/{self.embedder.dim}"
        tmp = Path(str(path) + ".partial")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                for r in rows:
                    record = (
                        as_chat(_public(r)) if as_chat else {**_exported(r), "embedder": embedder}
                    )
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)  # written and moved, or failed: never left behind
        return len(rows)

    def import_(self, path: Path) -> int:
        """Rows from an export; ids already present are skipped. Vectors are recomputed when the
        file's embedder differs from ours."""
        count = 0
        existing = set(self.table.to_arrow().column("id").to_pylist())
        batch = []
        for n, record in jsonl.records(path):
            if not isinstance(record, dict):
                raise PonderError(f"{path}:{n}: not a trace (a JSON object, as export writes)")
            if record.get("id") in existing:
                continue
            vector = record.get("vector")
            if record.get("embedder") != f"{self.embedder.name}/{self.embedder.dim}" or not vector:
                text = _embedded_text(record.get("question", ""), record.get("code", ""))
                vector = self.embedder.embed([text])[0].tolist()
            row = _row(record, bool(record.get("accepted", True)), vector)
            row["id"] = _check_id(record.get("id") or uuid.uuid4().hex)
            batch.append(row)
            count += 1
        if batch:
            with self._lock:
                self.table.add(batch)
            self._maybe_index()
        return count


def _embedded_text(question: str, code: str) -> str:
    return f"{question}\n{code}"


def _row(record: dict, accepted: bool, vector: list[float]) -> dict[str, Any]:
    """A table row (without id) from a trace or an exported record."""
    row: dict[str, Any] = {name: str(record.get(name) or "") for name in TEXT_FIELDS}
    row["tags"] = json.dumps(list(record.get("tags") or []))
    row["created_at"] = row["created_at"] or now()
    row["confidence"] = float(record.get("confidence") or 0.0)
    row["accepted"] = accepted
    row["vector"] = vector
    return row


def _public(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k != "vector"}
    if isinstance(out.get("tags"), str):
        out["tags"] = json.loads(out["tags"] or "[]")
    if "confidence" in out and out["confidence"] is not None:
        out["confidence"] = round(float(out["confidence"]), 4)
    return out


def _exported(row: dict) -> dict:
    out = _public(row)
    out["vector"] = [float(x) for x in row["vector"]]
    return out
