"""Work-done progress for one piece of work: the client's token when it sent one, else one we
create (when the client supports it), else none. `report` may be called from worker threads."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from ponder.server.language_server import PonderServer


class WorkDone:
    def __init__(self, server: PonderServer, token, loop: asyncio.AbstractEventLoop):
        self.server = server
        self.token = token
        self.loop = loop
        # Set when the user cancels through the progress UI (window/workDoneProgress/cancel).
        self.cancel = threading.Event()

    @classmethod
    async def start(
        cls, server: PonderServer, title: str, token=None, cancellable: bool = True
    ) -> WorkDone:
        loop = asyncio.get_running_loop()
        if token is None and server.client_supports("window.work_done_progress"):
            token = f"ponder-{uuid.uuid4().hex[:12]}"
            try:
                await server.work_done_progress.create_async(token)
            except Exception:  # the client refused: work on without progress
                token = None
        work = cls(server, token, loop)
        if token is not None:
            server.work_done_progress.begin(
                token, types.WorkDoneProgressBegin(title=title, cancellable=cancellable)
            )
            future = server.work_done_progress.tokens.get(token)
            if future is not None:
                future.add_done_callback(lambda f: work.cancel.set() if f.cancelled() else None)
        return work

    def _send(self, send, *args) -> None:
        """Run `send` on the event loop, unless the server has shut down by then (after `exit`
        stdout is closed, and a worker thread still unwinding must not write to it)."""

        def guarded() -> None:
            if not getattr(self.server.protocol, "_shutdown", False):
                send(*args)

        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(guarded)

    def report(self, message: str, percentage: int | None = None) -> None:
        if self.token is None:
            return
        value = types.WorkDoneProgressReport(message=message, percentage=percentage)
        self._send(self.server.work_done_progress.report, self.token, value)

    def end(self, message: str) -> None:
        if self.token is None:
            return
        value = types.WorkDoneProgressEnd(message=message)
        self._send(self.server.work_done_progress.end, self.token, value)
        self._send(self.server.work_done_progress.tokens.pop, self.token, None)
