"""Running code ponder did not write — a benchmark's function, a training item, the tracer over
them — in a child process that cannot harm the machine. Every caller uses this one module.

The child gets: a CPU-time limit and a memory limit (RLIMIT_CPU, RLIMIT_AS), a wall-clock
timeout (its process group is killed), a bounded output (stdout and stderr are files capped by
RLIMIT_FSIZE), a temporary working folder removed afterwards, an environment without the parent's
variables (no tokens, keys or proxies), Python in isolated mode (`-I`: no PYTHON* variables, no
user site, no current folder on the path), and no network: in bubblewrap where it is installed
(the root read-only, a private /tmp, new network and PID namespaces), else in new user, network
and mount namespaces (`unshare`) where every mount but the working folder is remounted
read-only, else with the limits alone — `isolation()` says which, and `ponder doctor` shows it.
The model's text is never run: callers run code the user or a data set wrote.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 2  # CPU seconds
    wall_s: float = 5.0  # seconds on the clock (a child that sleeps uses no CPU)
    memory_mb: int = 1024  # address space
    output_bytes: int = 1 << 20  # each of stdout and stderr, and any file it writes


@dataclass(frozen=True)
class Ran:
    returncode: int | None  # None: killed at the wall-clock limit
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def json_line(self):
        """The one JSON line the child printed, parsed; None when it failed or printed anything
        else (the code under test printing too)."""
        lines = self.stdout.strip().splitlines()
        if not self.ok or len(lines) != 1:
            return None
        try:
            return json.loads(lines[0])
        except json.JSONDecodeError:
            return None

    @property
    def why(self) -> str:
        """What stopped it, in words ("" when it exited 0)."""
        if self.returncode is None:
            return "ran past its time limit"
        # killed by a signal: -N from Python's wait, 128+N through bubblewrap
        signals = {-self.returncode, self.returncode - 128}
        if signals & {signal.SIGXCPU, signal.SIGKILL}:
            return "ran past its CPU-time limit"
        if signal.SIGXFSZ in signals:
            return "wrote past its output limit"
        if self.returncode != 0:
            last = (self.stderr.strip().splitlines()[-1:] or [f"exit status {self.returncode}"])[0]
            if "File too large" in last:  # Python ignores SIGXFSZ: the write fails with EFBIG
                return "wrote past its output limit"
            return "MemoryError" if "MemoryError" in last else last[:200]
        return ""


CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}


@functools.cache
def isolation() -> str:
    """ "bubblewrap", "namespaces" (unshare, mounts read-only) or "limits only": the strongest
    that works here."""
    probe = Path(tempfile.gettempdir())
    for name, prefix in (("bubblewrap", _bwrap(probe)), ("namespaces", _namespaces(probe))):
        if shutil.which(prefix[0]) is None:
            continue
        try:
            done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return name
    return "limits only"


# Inside the new namespaces, before the code runs: the working folder becomes its own mount and
# the current folder (the inherited one is the folder beneath the mount), every other mount turns
# read-only (a process may add MS_RDONLY to mounts it inherited, never remove it), and the run is
# refused if the root is still writable.
_READ_ONLY_BUT_WORK = (
    'work="$1"; shift; mount --bind "$work" "$work" && cd "$work" || exit 97; '
    "awk '{print $5}' /proc/self/mountinfo | while read -r m; do "
    '[ "$m" = "$work" ] || mount -o remount,bind,ro "$m" 2>/dev/null; done; '
    '[ -w / ] && exit 98; exec "$@"'
)


def _namespaces(work: Path) -> list[str]:
    unshare = ["unshare", "--user", "--map-root-user", "--net", "--mount"]
    return [*unshare, "sh", "-c", _READ_ONLY_BUT_WORK, "sh", str(work)]


def _bwrap(work: Path) -> list[str]:
    return [
        "bwrap",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--bind",
        str(work),
        str(work),
        "--chdir",
        str(work),
        "--unshare-net",
        "--unshare-pid",
        "--die-with-parent",
        "--new-session",
    ]


def _limit(limits: Limits) -> None:
    """In the child, before it runs: the kernel enforces these whatever the code does."""
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_python(
    script: str, stdin: str = "", args: tuple[str, ...] = (), limits: Limits = Limits()
) -> Ran:
    """Run `script` (Python source) confined; `stdin` is its standard input, `args` its argv."""
    with tempfile.TemporaryDirectory(prefix="ponder-run-") as folder:
        root = Path(folder)
        work, out = root / "work", root / "out"
        work.mkdir()
        out.mkdir()
        (out / "stdin").write_text(stdin, encoding="utf-8", errors="surrogatepass")
        argv = [sys.executable, "-I", "-c", script, *args]
        kind = isolation()
        if kind == "bubblewrap":
            argv = [*_bwrap(work), *argv]
        elif kind == "namespaces":
            argv = [*_namespaces(work), *argv]
        with (
            open(out / "stdin", "rb") as given,
            open(out / "stdout", "wb") as stdout,
            open(out / "stderr", "wb") as stderr,
        ):
            child = subprocess.Popen(
                argv,
                stdin=given,
                stdout=stdout,
                stderr=stderr,
                cwd=work,
                env={**CLEAN_ENV, "HOME": str(work), "TMPDIR": str(work)},
                preexec_fn=functools.partial(_limit, limits),
                start_new_session=True,
            )
            try:
                returncode: int | None = child.wait(timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                returncode = None
            finally:
                _kill_group(child)
        return Ran(returncode, _read(out / "stdout", limits), _read(out / "stderr", limits))


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)  # the child and anything it started
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def _read(path: Path, limits: Limits) -> str:
    with open(path, "rb") as f:
        return f.read(limits.output_bytes).decode("utf-8", "replace")
