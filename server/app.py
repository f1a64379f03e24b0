"""The language server: built by `create_server(settings, services)`, features registered from
`server/features/`, each with `register(server)`."""

from __future__ import annotations

import logging
from collections import OrderedDict
from importlib.metadata import PackageNotFoundError, version

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from agent.pipeline import Answer
from agent.services import Services
from agent.settings import Settings

log = logging.getLogger("ponder")
RECENT_ANSWERS = 100


def ponder_version() -> str:
    try:
        return version("ponder")
    except PackageNotFoundError:
        return "0+unknown"


class PonderServer(LanguageServer):
    def __init__(self, settings: Settings, services: Services):
        super().__init__("ponder", ponder_version())
        self.settings = settings
        self.services = services
        # Recent answers by id, so `ponder/accept` can store what `ponder/reason` produced.
        self.recent: OrderedDict[str, Answer] = OrderedDict()

    def remember(self, answer: Answer) -> None:
        self.recent[answer.id] = answer
        while len(self.recent) > RECENT_ANSWERS:
            self.recent.popitem(last=False)

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.services.settings = settings

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """Show a message to the user (window/showMessage) and log it."""
        log.warning(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"ponder: {message}"))


def create_server(settings: Settings, services: Services | None = None) -> PonderServer:
    from server.features import code_action, config, memory, reason

    server = PonderServer(settings, services or Services(settings))
    for feature in (config, reason, code_action, memory):
        feature.register(server)
    return server
