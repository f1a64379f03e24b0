"""`ponder ask`'s LSP client: a server whose output cannot be read fails the request, never hangs."""

import asyncio
import sys

import pytest

from server.client import LspError, StdioClient

GARBAGE = (
    "import sys, time\n"
    "sys.stdout.write('Content-Length: 5\\r\\n\\r\\n{bad}')\n"
    "sys.stdout.flush()\n"
    "time.sleep(30)\n"
)


async def stop(client: StdioClient) -> None:
    if client.proc.returncode is None:
        client.proc.kill()
    await client.proc.wait()
    await client._reader_task
    client.proc._transport.close()  # type: ignore[attr-defined]  # before the loop closes


async def test_unreadable_output_fails_the_pending_request():
    client = StdioClient()
    await client.start([sys.executable, "-c", GARBAGE])
    with pytest.raises(LspError, match="could not be read"):
        await asyncio.wait_for(client.request("ponder/status", {}), 10)
    await stop(client)


async def test_a_server_that_exits_fails_the_pending_request():
    client = StdioClient()
    await client.start([sys.executable, "-c", "import sys; sys.stdin.readline()"])
    with pytest.raises(LspError, match="exited"):
        await asyncio.wait_for(client.request("ponder/status", {}), 10)
    await stop(client)
