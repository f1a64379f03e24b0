"""How long an editor waits for `initialize`: ponder against a bare pygls server, same run.

    python scripts/bench_startup.py [--runs 10]

Each server is started `--runs` times, alternating; the time is process start → the initialize
reply (`ponder serve`, through the command line). ponder's sources are compiled first, as a pip
install (and `make setup`) leaves them: pygls's are. Last line: RESULT bare_ms=X ponder_ms=Y
ratio=R (medians; target R <= 1.1).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.wire import WireServer  # noqa: E402

BARE = """
from pygls.lsp.server import LanguageServer
LanguageServer("bare", "1").start_io()
"""


def initialize_ms(argv: list[str], home: Path) -> float:
    started = time.perf_counter()
    server = WireServer(home, argv=argv)
    try:
        reply = server.request(
            "initialize", {"processId": None, "rootUri": None, "capabilities": {}}
        )
        assert "result" in reply, reply
        return (time.perf_counter() - started) * 1000
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    for package in ("agent", "server", "memory"):
        compileall.compile_dir(ROOT / package, quiet=1)
    home = Path(tempfile.mkdtemp(prefix="ponder-startup-"))
    os.environ.setdefault("PONDER_MODEL", "smollm2-135m")
    bare, ponder = [], []
    for i in range(runs):
        bare.append(initialize_ms([sys.executable, "-c", BARE], home))
        ponder.append(initialize_ms([sys.executable, "-m", "ponder", "serve"], home))
        print(f"run {i + 1}: bare {bare[-1]:.0f} ms, ponder {ponder[-1]:.0f} ms", flush=True)
    b, p = statistics.median(bare), statistics.median(ponder)
    print(f"RESULT bare_ms={b:.0f} ponder_ms={p:.0f} ratio={p / b:.2f}")


if __name__ == "__main__":
    main()
