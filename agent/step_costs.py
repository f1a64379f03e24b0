"""What a decode step costs on this machine by the number of tokens in the batch, measured from
the steps the engine runs anyway: whether extra rows in a batch are cheap here.

That decides self-consistency's schedule under `reason.schedule: auto` (`pipeline._greedy_first`).
With c(n) a step of n rows, one batch of 6 paths gives the vote at L*c(6); the greedy path
alone first gives its answer at L*c(1) and the vote at L*(c(1) + c(5)). With each extra row
costing a fraction m of one row, the greedy-first vote comes (2 + 4m) / (1 + 5m) times one
batch's: 1.9x later on a GPU (m near 0), 1.25x at m = 1/3, no later at m = 1 (the 2-core CPUs
measured: a 6-row step 4-6x one row). So batching counts as cheap below m = 1/3.

The server's engine keeps its table in a file (`<PONDER_HOME>/step-costs.json`), one entry per
model, machine and build, so a new server knows from its first request what the last one
measured; without it every first request fell back to the GPU rule."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import threading
from pathlib import Path

CHEAP_EXTRA_ROW = 1 / 3  # an extra row's cost, as a fraction of a one-row step, below which batch
MIN_STEPS = 32  # steps of a size before its mean counts (one step's time is noisy)
FILE_NAME = "step-costs.json"  # under PONDER_HOME
KEPT_STEPS = 512  # steps of a size a saved table keeps: older ones weigh less as new ones come


def machine_key(model_path: str, threads: int, offloaded: bool, build: str) -> str:
    """What a step's cost depends on: the model file, the CPU and its threads, a GPU, the build."""
    machine = [_cpu_name(), f"threads={threads}", "gpu" if offloaded else "cpu", build]
    return "|".join([_model_part(model_path), *machine])


def _model_part(model_path: str) -> str:
    """The model file, as a key names it: its name and size."""
    try:
        size = os.path.getsize(model_path)
    except OSError:
        size = 0
    return f"{Path(model_path).name}|{size}"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class StepCosts:
    """Decode steps by tokens in the batch → [steps, seconds], over the engine's whole life,
    continued from `file` (under `key`) when one is given."""

    def __init__(self, file: Path | None = None) -> None:
        self.steps: dict[int, list[float]] = {}
        self._lock = threading.Lock()
        self.file = file
        self.key: str | None = None

    def restore(self, key: str) -> None:
        """Start from what `file` holds for `key` (nothing when it holds nothing readable)."""
        self.key = key
        self._start_from(_read(self.file).get(key, {}) if self.file else {})

    def _start_from(self, saved: object) -> None:
        """Take the readable entries of one saved table (tokens → [steps, seconds])."""
        with self._lock:
            for tokens, entry in saved.items() if isinstance(saved, dict) else ():
                try:
                    steps, seconds = float(entry[0]), float(entry[1])
                    size = int(tokens)
                except (TypeError, ValueError, IndexError):
                    continue
                if steps > 0 and seconds > 0 and size > 0:
                    self.steps[size] = _kept(steps, seconds)

    def save(self) -> None:
        """Write the table under `key`, beside other keys' (atomically; a failure is ignored:
        the table is only a head start)."""
        if self.file is None or self.key is None:
            return
        with self._lock:
            table = {str(n): _kept(*entry) for n, entry in sorted(self.steps.items())}
        tables = _read(self.file)
        tables[self.key] = table
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".step-costs.")
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(tables, f, indent=1)
            os.replace(tmp, self.file)
        except OSError:
            Path(tmp).unlink(missing_ok=True)

    def add(self, tokens: int, seconds: float) -> None:
        with self._lock:
            entry = self.steps.setdefault(tokens, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds

    def extra_row_cost(self) -> float | None:
        """An extra row's cost as a fraction of a one-row step, from the one-row steps and the
        widest batch with enough steps; None until both are measured."""
        with self._lock:
            measured = {n: s / k for n, (k, s) in self.steps.items() if k >= MIN_STEPS}
        one = measured.get(1)
        wide = max((n for n in measured if n > 1), default=None)
        if not one or wide is None:
            return None
        return max(0.0, (measured[wide] / one - 1) / (wide - 1))

    def cheap(self, default: bool) -> bool:
        """Are extra rows cheap here? `default` (a GPU's offload) until both sizes are measured."""
        cost = self.extra_row_cost()
        return default if cost is None else cost < CHEAP_EXTRA_ROW


def saved_verdicts(file: Path, model_path: str | None = None) -> dict[str, str]:
    """Each key in `file` → what its table says, in words (for `ponder doctor`). With
    `model_path`, only that model file's tables (same name and size), keyed by the rest of the
    key: the CPU, threads, GPU or not, and build."""
    verdicts = {}
    model = f"{_model_part(model_path)}|" if model_path else ""
    for key, saved in _read(file).items():  # the file read once, not once per key
        if not key.startswith(model):
            continue
        key = key[len(model) :]
        measured = StepCosts()
        measured._start_from(saved)
        cost = measured.extra_row_cost()
        verdicts[key] = (
            "not measured yet (till then `auto` batches on a GPU, decodes the greedy path first on a CPU)"
            if cost is None
            else f"an extra path costs {cost:.2f} of a one-path step: `reason.schedule: auto` "
            + (
                "decodes the paths in one batch"
                if cost < CHEAP_EXTRA_ROW
                else "decodes the greedy path first"
            )
        )
    return verdicts


def _kept(steps: float, seconds: float) -> list[float]:
    """At most KEPT_STEPS steps, the mean unchanged."""
    if steps <= KEPT_STEPS:
        return [steps, seconds]
    return [float(KEPT_STEPS), seconds * KEPT_STEPS / steps]


def _read(file: Path | None) -> dict:
    try:
        tables = json.loads(file.read_text(encoding="utf-8")) if file else {}
    except (OSError, ValueError):
        return {}
    return tables if isinstance(tables, dict) else {}
