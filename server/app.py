"""The language server: built by `create_server(settings, services)`, features registered from
`server/features/`, each with `register(server)`."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from agent.services import Services
from agent.settings import Settings
from server import VERSION, transport
from server.documents import Documents
from server.transport import PonderProtocol, StdinReader

if TYPE_CHECKING:
    from agent.pipeline import Answer

log = logging.getLogger("ponder")
RECENT_ANSWERS = 100


class ExpectedErrors(logging.Filter):
    """pygls logs a traceback for every error a handler raises; an error that is the client's
    (invalid params, a cancelled or failed request) is one warning line instead, kept only where
    the logger lets warnings through (`ponder serve --quiet` does not): the logger's level check
    ran on the error level, before this filter lowered it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Unable to deserialize message"):  # pygls's, with a traceback
            record.msg, record.args = "a message of the wrong shape was refused", ()
            return _as_warning(record)
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, JsonRpcException) and not isinstance(error, JsonRpcInternalError):
            record.msg, record.args = f"request refused: {error.message}", ()
            record.exc_info, record.exc_text = None, None
            return _as_warning(record)
        return True


def _as_warning(record: logging.LogRecord) -> bool:
    record.levelno, record.levelname = logging.WARNING, "WARNING"
    return logging.getLogger(record.name).isEnabledFor(logging.WARNING)


def quiet_expected_errors() -> None:
    for name in ("pygls.protocol.json_rpc", "pygls.protocol.language_server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ExpectedErrors) for f in logger.filters):  # once per process
            logger.addFilter(ExpectedErrors())


class PonderServer(LanguageServer):
    def __init__(self, settings: Settings, services: Services):
        super().__init__("ponder", VERSION, protocol_cls=PonderProtocol)
        self.settings = settings
        self.services = services
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

    def client_supports(self, *path: str) -> bool:
        """Whether the client's capabilities hold this path, e.g. ("window",
        "work_done_progress"); False before `initialize` told them."""
        node: Any
        try:
            node = self.client_capabilities
        except Exception:  # capabilities not known yet
            return False
        for name in path:
            node = getattr(node, name, None)
            if not node:
                return False
        return True

    def remember(self, answer: Answer) -> None:
        self.recent[answer.id] = answer
        while len(self.recent) > RECENT_ANSWERS:
            self.recent.popitem(last=False)

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.services.settings = settings
        self.documents.answers_per_document = settings.inline.answers_per_document

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """Show a message to the user (window/showMessage) and log it."""
        log.warning(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"ponder: {message}"))


def create_server(settings: Settings, services: Services | None = None) -> PonderServer:
    from server.features import code_action, config, inline, memory, reason

    quiet_expected_errors()
    server = PonderServer(settings, services or Services(settings))
    for feature in (config, inline, reason, code_action, memory):
        feature.register(server)
    return server
