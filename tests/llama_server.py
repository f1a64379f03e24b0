"""llama.cpp's own `llama-server`, started on a free port for the backend tests and
scripts/bench_backend.py (built and cached by scripts/build_llama_server.sh; `make test` does)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_BINARY = Path.home() / ".cache/ponder/llama-server/cpu-0.3.36/llama-server"
READY_TIMEOUT_S = 120


def binary() -> str:
    path = Path(os.environ.get("PONDER_LLAMA_SERVER") or DEFAULT_BINARY)
    if not os.access(path, os.X_OK):
        raise RuntimeError(
            f"llama-server is not built at {path}: run scripts/build_llama_server.sh "
            "(make test does), or set PONDER_LLAMA_SERVER"
        )
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """One llama-server process serving `model_path`; `start()` waits until /health says ready."""

    def __init__(
        self,
        model_path: str,
        *,
        parallel: int = 4,
        slot_context: int = 2048,
        threads: int = 2,
        api_key: str | None = None,
        port: int | None = None,
        log: Path | None = None,
        lora: str | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.command = [
            binary(), "-m", model_path, "--host", "127.0.0.1", "--port", str(self.port),
            "--parallel", str(parallel), "-c", str(slot_context * parallel), "-t", str(threads),
            "--jinja", "--no-webui", "--metrics",
        ]  # fmt: skip
        if api_key:
            self.command += ["--api-key", api_key]
        if lora:  # a LoRA adapter, as ponder learn writes it
            self.command += ["--lora", lora]
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> LlamaServer:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"llama-server exited ({self.process.returncode}): {self.command}"
                )
            try:
                with urllib.request.urlopen(self.url.removesuffix("/v1") + "/health", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama-server was not ready within {READY_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process:
            self.process.kill()
            self.process.wait()

    def busy_slots(self) -> int:
        """How many slots are generating now (from /metrics: llamacpp:requests_processing)."""
        with urllib.request.urlopen(self.url.removesuffix("/v1") + "/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("llamacpp:requests_processing"):
                    return int(float(line.split()[-1]))
        raise RuntimeError("llama-server /metrics has no requests_processing")

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
