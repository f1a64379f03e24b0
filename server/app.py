"""The language server: `create_server(settings, services)` builds a `PonderServer`
(server/language_server.py) and registers each feature of `server/features/` (`register(server)`);
features import the server class, never this module."""

from __future__ import annotations

import logging

from pygls.exceptions import JsonRpcException, JsonRpcInternalError

from ponder.agent.services import Services
from ponder.agent.settings import Settings
from ponder.server.features import check, code_action, config, inline, memory, reason, sync
from ponder.server.language_server import PonderServer


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


def create_server(settings: Settings, services: Services | None = None) -> PonderServer:
    quiet_expected_errors()
    server = PonderServer(settings, services or Services(settings))
    for feature in (config, sync, inline, reason, code_action, memory, check):
        feature.register(server)
    return server
