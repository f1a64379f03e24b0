"""`python -m ponder.server`: the language server over stdio (same as `ponder serve`, without parsing a
command line: the fastest start)."""

import logging

from ponder.agent.settings import defaults
from ponder.server import logs
from ponder.server.app import create_server

logs.configure(logging.WARNING)
create_server(defaults()).start_io()
