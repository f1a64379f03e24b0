"""`python -m server`: the language server over stdio (same as `ponder serve`)."""

from server.cli import main

main(["serve"])
