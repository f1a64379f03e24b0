"""Shared bits for tests that drive the real server over stdio with pytest-lsp."""

import os
import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities

SAMPLE = """import math


def area(r):
    return math.pi * r * r


def total(xs):
    s = 0
    for x in xs:
        s += area(x)
    return round(s, 2)
"""


def server_config(model: str, home: Path) -> ClientServerConfig:
    env = dict(os.environ, PONDER_HOME=str(home), PONDER_MODEL=model)
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "ponder.server"], server_env=env
    )


async def start(model: str, home: Path, **options):
    """The real server over stdio, initialized with these initializationOptions."""
    client = await server_config(model, home).start()
    await client.initialize_session(init_params(**options))
    return client


async def close(client) -> None:
    """shutdown, exit, and wait for the process."""
    await client.shutdown_session()
    await client.stop()


def init_params(**options) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options=options or None,
    )


def open_sample(client, tmp_path: Path, text: str = SAMPLE, name: str = "sample.py") -> str:
    path = tmp_path / name
    path.write_text(text)
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    return uri


def reason_params(uri: str, **extra) -> dict:
    params = {"textDocument": {"uri": uri}, "position": {"line": 9, "character": 4}}
    params.update(extra)
    return params


async def request(client, method: str, params) -> dict:
    """A custom request; the result as plain dicts (pygls' client hands back namedtuples)."""
    from ponder.server.wire import as_dict

    return as_dict(await client.protocol.send_request_async(method, params))


async def cancel_after(client, params: dict, delay: float) -> float:
    """Send ponder/reason, $/cancelRequest it after `delay` s; the seconds until the -32800 error."""
    import asyncio
    import time

    import pytest
    from pygls.exceptions import JsonRpcException

    before = set(client.protocol._request_futures)
    task = asyncio.ensure_future(client.protocol.send_request_async("ponder/reason", params))
    await asyncio.sleep(delay)
    assert not task.done(), "the request finished before it could be cancelled"
    (msg_id,) = set(client.protocol._request_futures) - before
    started = time.perf_counter()
    client.protocol.notify("$/cancelRequest", types.CancelParams(id=msg_id))
    with pytest.raises(JsonRpcException) as err:
        await task
    assert err.value.code == -32800
    return time.perf_counter() - started
