"""`python -m server.cli ARGS`: the `ponder` command."""

from server.cli import main

main()
