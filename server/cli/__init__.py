"""The `ponder` command: each command module (server/cli/*.py) adds its own subparser and sets
the function that runs it; what a command needs beyond its arguments is imported when it runs."""

from __future__ import annotations

import argparse
import sys

from ponder import VERSION
from ponder.agent.errors import PonderError

EXAMPLES = """examples:
  ponder serve                                   # the language server, over stdio
  ponder ask examples/inventory.py:12 "What does restock return for an empty list?"
  ponder ask app.py "reason about this" --model qwen2.5-coder-0.5b --json
  ponder eval cruxeval --limit 50 --strategies greedy,sc --model qwen2.5-coder-0.5b
  ponder serve --backend-url http://gpu-box:8080/v1   # reason with a team's model server
  ponder doctor
"""


def build() -> argparse.ArgumentParser:
    from ponder.server.cli import ask, doctor, evaluate, learn, memory, serve

    parser = argparse.ArgumentParser(
        prog="ponder",
        description="ponder: a local reasoning language server (offline, GGUF models).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ponder {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (serve, ask, evaluate, memory, learn, doctor):  # the order --help lists
        command.add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build().parse_args(argv)
    try:
        args.run(args)
    except PonderError as e:
        print(f"ponder: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
