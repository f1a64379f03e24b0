"""The server object every feature receives: settings, services, the open documents and the recent
answers. Features import it from here; only `server/app.py` imports the features (no circle)."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from ponder import VERSION
from ponder.agent.services import Services
from ponder.agent.settings import Settings
from ponder.server import transport
from ponder.server.documents import Documents
from ponder.server.transport import PonderProtocol, StdinReader

if TYPE_CHECKING:
    from ponder.agent.results import Answer

log = logging.getLogger("ponder")
RECENT_ANSWERS = 100


class PonderServer(LanguageServer):
    def __init__(self, settings: Settings, services: Services):
        super().__init__("ponder", VERSION, protocol_cls=PonderProtocol)
        self.settings = settings
        self.services = services
        services.warn = self.tell_from_thread
        self.event_loop: asyncio.AbstractEventLoop | None = None  # set by `initialize`
        self.preload_task: asyncio.Future | None = None  # the model load after `initialized`
        self.documents = Documents(answers_per_document=settings.inline.answers_per_document)
        # Recent answers by id, so `ponder/accept` can store what `ponder/reason` produced.
        self.recent: OrderedDict[str, Answer] = OrderedDict()

    def start_io(self, stdin=None, stdout=None) -> None:  # noqa: ANN001
        """Serve over stdio with ponder's guarded reader (server/transport.py)."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        reader = StdinReader(stdin or sys.stdin.buffer)
        assert isinstance(self.protocol, PonderProtocol)  # protocol_cls above
        try:
            asyncio.run(transport.run(self._stop_event, reader, self.protocol))
        except BrokenPipeError:
            log.error("the client closed the connection")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def client_supports(self, field: str) -> bool:
        """Whether the client's capabilities hold `field`, e.g. "window.work_done_progress";
        False before `initialize` told them (pygls's get_capability)."""
        told = getattr(self.protocol, "client_capabilities", None)
        return bool(get_capability(told, field, False))

    def remember(self, answer: Answer) -> None:
        self.recent[answer.id] = answer
        while len(self.recent) > RECENT_ANSWERS:
            self.recent.popitem(last=False)

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.services.settings = settings
        self.documents.answers_per_document = settings.inline.answers_per_document

    def tell_from_thread(self, message: str) -> None:
        """A warning from a worker thread (the model loads off the event loop)."""
        if self.event_loop is None or self.event_loop.is_closed():
            log.warning(message)
            return
        self.event_loop.call_soon_threadsafe(self.tell, message, types.MessageType.Warning)

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """Show a message to the user (window/showMessage) and log it."""
        log.warning(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"ponder: {message}"))
