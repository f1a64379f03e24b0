"""What a decode step costs on this machine by the number of tokens in the batch, measured from
the steps the engine runs anyway: whether extra rows in a batch are cheap here.

That decides self-consistency's schedule under `reason.schedule: auto` (`pipeline._greedy_first`).
With c(n) a step of n rows, one batch of 6 paths gives the vote at L*c(6); the greedy path
alone first gives its answer at L*c(1) and the vote at L*(c(1) + c(5)). With each extra row
costing a fraction m of one row, the greedy-first vote comes (2 + 4m) / (1 + 5m) times one
batch's: 1.9x later on a GPU (m near 0), 1.25x at m = 1/3, no later at m = 1 (the 2-core CPUs
measured: a 6-row step 4-6x one row). So batching counts as cheap below m = 1/3."""

from __future__ import annotations

import threading

CHEAP_EXTRA_ROW = 1 / 3  # an extra row's cost, as a fraction of a one-row step, below which batch
MIN_STEPS = 32  # steps of a size before its mean counts (one step's time is noisy)


class StepCosts:
    """Decode steps by tokens in the batch → [steps, seconds], over the engine's whole life."""

    def __init__(self) -> None:
        self.steps: dict[int, list[float]] = {}
        self._lock = threading.Lock()

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
