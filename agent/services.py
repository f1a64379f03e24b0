"""The long-lived objects a server (or `ponder eval`) needs, built from settings by factories.

The engine is created on first use, or in the background right after `initialized`; changing the
model setting swaps it. Model work is serialised by the engine's own lock. The memory store opens
on first use; when it cannot be opened, `memory()` raises PonderError once and later calls return
None, so reasoning goes on without memory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import astuple
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ponder.agent import models, step_costs
from ponder.agent.errors import PonderError
from ponder.agent.pipeline import Progress
from ponder.agent.settings import Settings

if TYPE_CHECKING:  # numpy, llama.cpp and LanceDB load on first use, not with the server
    from ponder.agent.engine import Engine
    from ponder.agent.remote_engine import OpenAICompatibleEngine
    from ponder.memory.embedder import Embedder
    from ponder.memory.store import TraceStore

SIMILAR_COSINE = 0.7  # free-form answers this close (MiniLM cosine) count as the same answer


def make_engine(
    settings: Settings, progress: Progress | None = None, trusted_backend: str = ""
) -> Engine:
    """Engine for `settings.model`: `scripted` (the fake, `scripted:slow` to make it slow),
    a bundled model alias, or a path to a .gguf file; or the model server of `settings.backend`
    (`trusted_backend`: the URL the user gave on the command line)."""
    if settings.backend.kind == "openai":
        return remote_engine(settings, trusted_backend)
    if settings.model.startswith("scripted"):
        from ponder.agent.fake_engine import ScriptedEngine

        return ScriptedEngine(delay=0.05 if settings.model == "scripted:slow" else 0.0)

    def on_bytes(done: int, total: int) -> None:
        if progress:
            progress(f"checking model {done * 100 // total}%", done * 100 // total)

    from ponder.agent.engine import LlamaEngine

    resolved = models.resolve(settings.model, progress=on_bytes)

    def model_sha256() -> str:  # only an adapter to check needs it (a plain path is hashed)
        spec = models.MODELS.get(resolved.name)
        if spec is not None and resolved.verified:
            return spec.sha256
        return models.sha256_of([resolved.path], progress=on_bytes)

    return LlamaEngine(
        str(resolved.path),
        resolved.name,
        context_size=settings.context_size,
        gpu_layers=settings.gpu_layers,
        threads=settings.threads,
        speculation=resolve_speculation(settings),
        step_costs_file=models.ponder_home() / step_costs.FILE_NAME,
        adapter=settings.adapter,
        model_sha256=model_sha256,
    )


def remote_engine(settings: Settings, trusted_backend: str = "") -> OpenAICompatibleEngine:
    """The engine for a model server (backend.kind "openai")."""
    from ponder.agent.remote_engine import OpenAICompatibleEngine

    backend = settings.backend
    if not backend.url:
        raise PonderError(
            'backend.kind is "openai" but backend.url is empty: set it to the server\'s API root '
            "(e.g. http://gpu-box:8080/v1), or start ponder serve --backend-url URL"
        )
    check_backend_location(backend.url, trusted_backend)
    return OpenAICompatibleEngine(
        backend.url,
        backend.model,
        api_key_env=backend.api_key_env,
        timeout_s=backend.timeout_s,
        max_concurrent=backend.max_concurrent,
    )


def check_backend_location(url: str, trusted: str = "") -> None:
    """Settings come from the editor, and a workspace can ship its own: a setting alone must not
    send your code to another machine. A backend off this machine must be the one given to
    `ponder serve --backend-url` (`trusted`) or in $PONDER_BACKEND_URL, or the server's
    environment must have PONDER_REMOTE_BACKEND=1."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "127.0.0.1", "::1") or host.startswith("127."):
        return
    chosen = {u.rstrip("/") for u in (trusted, os.environ.get("PONDER_BACKEND_URL", "")) if u}
    if url.rstrip("/") in chosen:
        return
    if os.environ.get("PONDER_REMOTE_BACKEND") == "1":
        return
    raise PonderError(
        f"backend.url {url} is on another machine: start ponder serve --backend-url {url}, or set "
        "PONDER_REMOTE_BACKEND=1 in its environment (a setting alone may not send your code off "
        "this machine)"
    )


def resolve_speculation(settings: Settings) -> str:
    """The speculation setting, with "auto" resolved: off on a CPU, where verifying a drafted
    token costs about 0.65 of a decode step and drafts are kept about as often (a wash:
    scripts/bench_speculative.py, README "Performance"); on with GPU offload, where verifying
    several tokens costs about what one does."""
    if settings.backend.kind == "openai":
        return "off"  # the server decides how it decodes
    if settings.speculation != "auto":
        return settings.speculation
    if settings.model.startswith("scripted"):
        return "off"
    from ponder.agent.engine import build_info

    offload = build_info()["gpu_offload"] and settings.gpu_layers != 0
    return "ngram" if offload else "off"


def memory_uri(settings: Settings) -> str:
    return settings.memory.path or str(models.ponder_home() / "memory")


class Services:
    def __init__(
        self, settings: Settings, engine_factory=make_engine, embedder: Embedder | None = None
    ):
        self.settings = settings
        # Told once per engine that runs without its adapter (why it was refused).
        self.warn: Callable[[str], None] = lambda message: None
        self._engine_factory = engine_factory
        self._engine: Engine | None = None
        self._engine_key: tuple | None = None
        self._lock = threading.Lock()
        self._memory_lock = threading.Lock()  # separate: opening memory never waits on a model load
        self._embedder = embedder
        self._store: TraceStore | None = None
        self._store_error: tuple[str, PonderError] | None = None  # (uri, why it failed to open)
        self._recall_told: str | None = None  # the broken uri recall has already reported

    def _key(self) -> tuple:
        s = self.settings
        return (s.model, s.adapter, s.context_size, s.gpu_layers, s.threads, astuple(s.backend))

    def engine(self, progress: Progress | None = None) -> Engine:
        """The engine for the current settings, created and loaded if needed (blocking)."""
        with self._lock:
            if self._engine is None or self._engine_key != self._key():
                old = self._engine
                self._engine = None
                if old is not None and hasattr(old, "close"):
                    old.close()
                engine = self._engine_factory(self.settings, progress)
                if progress:
                    progress("loading model", None)
                engine.load()
                self._engine, self._engine_key = engine, self._key()
                if problem := engine.adapter_problem:
                    self.warn(f"{problem}; running {engine.name} without it")
            # Changes nothing but the next decode: no reload.
            self._engine.speculation = resolve_speculation(self.settings)
            return self._engine

    @property
    def engine_loaded(self) -> bool:
        return self._engine is not None

    def adapter_status(self) -> dict | None:
        """The adapter the settings name, as the loaded engine runs it (None: none is set)."""
        if not self.settings.adapter:
            return None
        status: dict = {"path": self.settings.adapter, "loaded": False}
        engine = self._engine
        if engine is None or self._engine_key != self._key():
            return status
        if engine.adapter is not None:
            return {
                **status,
                "loaded": True,
                "name": engine.adapter.name,
                "sha256": engine.adapter.sha256,
                "base": engine.adapter.base,
            }
        return {**status, "problem": engine.adapter_problem}

    def memory(self) -> TraceStore | None:
        """The trace store; None when memory is off; PonderError when the store is broken (the
        failure is remembered, so a broken store is not reopened on every request)."""
        if not self.settings.memory.enabled:
            return None
        uri = memory_uri(self.settings)
        with self._memory_lock:
            if self._store is not None and self._store.uri == uri:
                return self._store
            if self._store_error is not None and self._store_error[0] == uri:
                raise self._store_error[1]
            from ponder.memory.store import TraceStore

            store = TraceStore(uri, self._current_embedder())
            try:
                self._check_memory_location(uri)
                store.open()
            except PonderError as e:
                self._store_error = (uri, e)
                raise
            self._store = store
            return store

    def _check_memory_location(self, uri: str) -> None:
        """Settings come from the editor, and a workspace can ship its own: such a setting must
        not send your code to a remote store, nor create directories anywhere. A remote URI needs
        PONDER_REMOTE_MEMORY=1 in the server's environment (yours, not the workspace's); a local
        store is created only where its parent directory exists (the default under
        $PONDER_HOME is created with it)."""
        from ponder.memory.store import is_local, local_path

        if not is_local(uri):
            if os.environ.get("PONDER_REMOTE_MEMORY") != "1":
                raise PonderError(
                    f"memory.path {uri} is remote: set PONDER_REMOTE_MEMORY=1 in the environment "
                    "ponder serve starts in to allow a shared store (a setting alone may not send "
                    "your code off this machine)"
                )
            return
        if not self.settings.memory.path:
            models.private_dir(models.ponder_home())
            return
        parent = local_path(uri).parent
        if not parent.is_dir():
            raise PonderError(
                f"memory.path {uri}: its folder {parent} does not exist (ponder creates the store, "
                "not the folders above it)"
            )

    def _current_embedder(self) -> Embedder:
        """The embedder the settings name (created once; callers hold _memory_lock)."""
        if self._embedder is None or self._embedder.name != self.settings.memory.embedder:
            from ponder.memory.embedder import make_embedder

            self._embedder = make_embedder(self.settings.memory.embedder)
        return self._embedder

    def similar(self, a: str, b: str) -> bool:
        """Whether two free-form answers say the same thing (embedding cosine), for voting."""
        with self._memory_lock:
            embedder = self._current_embedder()
        vectors = embedder.embed([a, b])
        return float(vectors[0] @ vectors[1]) >= SIMILAR_COSINE

    def _nothing_stored_yet(self) -> bool:
        """A local store never created holds nothing to recall: answering without opening it
        spares the first request LanceDB's import (about 1 s). Its location is still checked."""
        if not self.settings.memory.enabled or self._store is not None:
            return False
        uri = memory_uri(self.settings)
        from ponder.memory.store import is_local, local_path

        if not is_local(uri) or local_path(uri).exists():
            return False
        with self._memory_lock:
            self._check_memory_location(uri)
        return True

    def recall(self, question: str, code: str) -> list[dict]:
        """Accepted traces similar to this request; [] without memory. A broken store raises
        PonderError the first time only (to be shown once); later requests just go without."""
        try:
            if self._nothing_stored_yet():
                return []
            store = self.memory()
            if store is None or self.settings.memory.top_k == 0:
                return []
            return store.search(question, code, k=self.settings.memory.top_k)
        except PonderError:  # cannot be opened, or cannot be read (a truncated data file)
            uri = memory_uri(self.settings)
            if self._recall_told == uri:
                return []
            self._recall_told = uri
            raise
