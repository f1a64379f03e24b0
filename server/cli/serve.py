"""`ponder serve`: the language server over stdio."""

from __future__ import annotations

import logging
import os

from ponder.agent.settings import defaults


def serve_main(args) -> None:
    from ponder.server import logs
    from ponder.server.app import create_server

    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logs.configure(level, args.log_file)
    use_backend_arguments(args)
    settings = defaults()
    if args.model:
        settings.model = args.model
    if args.adapter is not None:
        settings.adapter = args.adapter
    create_server(settings).start_io()


def use_backend_arguments(args) -> None:
    """--backend-url/--backend-model become $PONDER_BACKEND_URL/MODEL: the defaults read them,
    and a URL given here is one the user chose (a workspace setting cannot override it into
    sending code elsewhere: services.check_backend_location)."""
    if args.backend_url:
        os.environ["PONDER_BACKEND_URL"] = args.backend_url
    if args.backend_model:
        os.environ["PONDER_BACKEND_MODEL"] = args.backend_model
