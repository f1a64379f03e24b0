"""The `ponder` command: the parser (server/cli/parser.py) and one module per command, each
imported only when its command runs."""

from __future__ import annotations

import asyncio
import sys

from ponder.agent.errors import PonderError


def main(argv: list[str] | None = None) -> None:
    from ponder.server.cli.parser import build

    args = build().parse_args(argv)
    try:
        if args.command == "serve":
            from ponder.server.cli.serve import serve_main

            serve_main(args)
        elif args.command == "ask":
            from ponder.server.cli.ask import ask_main

            sys.exit(asyncio.run(ask_main(args)))
        elif args.command == "eval":
            from ponder.server.cli import evaluate

            evaluate.run(args)
        elif args.command == "memory":
            from ponder.server.cli.memory import memory_main

            memory_main(args)
        elif args.command == "learn":
            from ponder.server.cli.learn import learn_main

            learn_main(args)
        elif args.command == "doctor":
            from ponder.server.cli.doctor import doctor_main

            doctor_main(args)
        elif args.command == "models":
            from ponder.server.cli.doctor import models_main

            models_main(args)
    except PonderError as e:
        print(f"ponder: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
