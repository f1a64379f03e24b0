"""`ponder serve`: the language server over stdio."""

from __future__ import annotations

import logging

from agent.settings import defaults


def serve_main(args) -> None:
    from server.app import create_server

    logging.basicConfig(
        filename=args.log_file,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = defaults()
    if args.model:
        settings.model = args.model
    create_server(settings).start_io()
