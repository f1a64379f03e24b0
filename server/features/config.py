"""Settings from initializationOptions and workspace/didChangeConfiguration; model preload after
`initialized`; `ponder/status`."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from lsprotocol import types

from ponder.agent.errors import PonderError
from ponder.agent.quoting import listed
from ponder.agent.settings import from_wire, to_wire
from ponder.server import protocol
from ponder.server.features.progress import WorkDone
from ponder.server.language_server import PonderServer

# Imported only when first needed, never before `initialize` is answered.
HEAVY_MODULES = (
    "numpy",
    "llama_cpp",
    "lancedb",
    "pyarrow",
    "sentence_transformers",
    "torch",
    "tree_sitter",
    "tree_sitter_language_pack",
    "ponder.agent.engine",
    "ponder.memory.store",
)


def _ponder_section(wire: Any) -> Any:
    """Clients send either our settings or {"ponder": our settings}."""
    if isinstance(wire, dict) and isinstance(wire.get("ponder"), dict):
        return wire["ponder"]
    return wire


def _apply(server: PonderServer, wire: Any) -> None:
    settings, problems = from_wire(_ponder_section(wire), base=server.settings)
    server.apply_settings(settings)
    if problems:
        server.tell("settings: " + listed(problems), types.MessageType.Warning)


def initialize(server: PonderServer, params: types.InitializeParams) -> None:
    # Cheap: parse settings only. The model loads after `initialized`, in the background.
    server.event_loop = asyncio.get_running_loop()
    negotiated = server.workspace.position_encoding
    server.documents.encoding = getattr(negotiated, "value", negotiated) or "utf-16"
    if params.initialization_options is not None:
        _apply(server, params.initialization_options)


async def initialized(server: PonderServer, params: types.InitializedParams) -> None:
    if server.settings.preload:
        server.preload_task = asyncio.ensure_future(_preload(server))


async def _preload(server: PonderServer) -> None:
    work = await WorkDone.start(server, "ponder: loading model", cancellable=False)
    try:
        await asyncio.to_thread(server.services.engine, work.report)
        work.end(f"model {server.settings.model} ready")
    except PonderError as e:
        work.end("model not loaded")
        server.tell(str(e))
    except Exception as e:  # never let a background load take the server down
        work.end("model not loaded")
        server.tell(f"loading the model failed: {e!r}")


def did_change_configuration(
    server: PonderServer, params: types.DidChangeConfigurationParams
) -> None:
    _apply(server, params.settings)


async def status(server: PonderServer, params: Any) -> dict:
    # Off the event loop: it imports llama.cpp and may hash the model file.
    return await asyncio.to_thread(_status_now, server)


def debug_modules(server: PonderServer, params: Any) -> dict:
    """Which heavy modules this process has imported (the startup test checks none are)."""
    return {"loaded": sorted(m for m in HEAVY_MODULES if m in sys.modules)}


def _status_now(server: PonderServer) -> dict:
    from ponder.agent.engine import build_info
    from ponder.agent.models import status as model_status
    from ponder.agent.services import memory_uri

    info = build_info()
    return {
        "version": server.version,
        "model": model_status(server.settings.model),
        "modelLoaded": server.services.engine_loaded,
        "adapter": server.services.adapter_status(),
        "gpuOffload": info["gpu_offload"],
        "memoryPath": memory_uri(server.settings),
        "settings": to_wire(server.settings),
    }


def register(server: PonderServer) -> None:
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(protocol.STATUS)(status)
    server.feature(protocol.DEBUG_MODULES)(debug_modules)
