"""`ponder serve`: the language server over stdio."""

from __future__ import annotations

import functools
import logging

from ponder.server.cli.arguments import add_adapter, add_backend, command_settings


def add_command(sub) -> None:
    serve = sub.add_parser("serve", help="run the language server over stdio")
    serve.add_argument("--model", help="model alias or path to a .gguf file (env PONDER_MODEL)")
    add_adapter(serve)
    add_backend(serve)
    serve.add_argument(
        "--stdio", action="store_true", help="accepted and ignored: stdio is the only transport"
    )
    serve.add_argument("--log-file", help="write the server log here (default: stderr)")
    serve.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    serve.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="log errors only, not refused requests (for a client that reports those itself)",
    )
    serve.set_defaults(run=serve_main)


def serve_main(args) -> None:
    from ponder.agent.services import Services, make_engine
    from ponder.server import logs
    from ponder.server.app import create_server

    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logs.configure(level, args.log_file)
    settings, trusted = command_settings(args)
    factory = functools.partial(make_engine, trusted_backend=trusted)
    create_server(settings, Services(settings, engine_factory=factory)).start_io()
