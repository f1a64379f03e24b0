"""`python -m ponder ARGS`: the `ponder` command."""

from ponder.server.cli import main

main()
