"""`python -m ponder.server`: the language server over stdio (same as `ponder serve`, without parsing a
command line: the fastest start)."""

from ponder.agent.settings import defaults
from ponder.server.app import create_server

create_server(defaults()).start_io()
