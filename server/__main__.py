"""`python -m server`: the language server over stdio (same as `ponder serve`, without parsing a
command line: the fastest start)."""

from agent.settings import defaults
from server.app import create_server

create_server(defaults()).start_io()
