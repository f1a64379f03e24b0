"""Five ways to bring the default under 2.5x greedy's time, scored offline on saved paths.

    python scripts/time_what_ifs.py scripts/results/paths-1.5b-T0.5-seed1-every10-*.jsonl

All use `ponder eval aggregate`'s cost model on the default's paths (the greedy path + 5 sampled,
margin-weighted votes). One line per setting: accuracy, won/lost against greedy, x greedy's time.

1. Stop the batch at C times the greedy path's length: paths not finished by then do not vote
   (pessimistic: ponder would ask each for its answer line, a few tokens more).
2. Let the samples join late: the greedy path decodes alone; an item whose greedy path ends
   within L tokens gets greedy's answer at greedy's cost, otherwise the 5 sampled paths join the
   batch at step L (their prompt is already in the KV cache) and all 6 vote. Short greedy traces
   are right more often than long ones, so this spends the samples where the vote gains most.
   Also printed: how many answers had a unanimous vote of 6 (the only ones the shipped tables
   call confident) and how many of those were right.
3. Skip the samples when greedy looks sure: the greedy path decodes alone; an item whose greedy
   answer margin is at least M gets greedy's answer at greedy's cost, otherwise the 5 sampled
   paths decode after it as a second batch and all 6 vote. Also printed: how many items were
   skipped and how many of those greedy got right (the gate is worth its time only if they are
   right more often than the rest).
4. Fork the samples from the greedy path where they leave it: a path sampled at T is, token by
   token, the greedy token with the probability T's distribution gives it, so a sample can follow
   the greedy path for free (greedy's own step already computed that distribution) and join the
   batch only at the token where it first differs, with the greedy prefix's KV cache copied.
   Same answers as the default, so only the time changes; the shared prefix is estimated from
   the saved texts (characters, scaled to the path's tokens).
5. Route by the prompt's length, known before anything is generated: a prompt under P tokens
   (short code, a small input) gets the greedy path alone, a longer one the default's 6 paths.
6. Not a way but a what-if: the default unchanged, on a machine where each extra live path adds
   E of a one-path step (a step with r live paths costs 1 + E(r - 1) one-path steps; the
   one-path step and the prompt's seconds as measured). Both schedules: the 6 paths in one
   batch, and the greedy path alone first with the 5 samples after it (`reason.schedule`).
   The first 2-core CPUs met cost E = 0.38 (6 paths 2.9x one), the later ones (AVX-512, AVX2)
   0.6-1.0, the issue's machine about 0.26 (6 paths 2.3x one); a GPU nearly 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.errors import PonderError  # noqa: E402
from server.cli.evaluation import aggregate  # noqa: E402

STOP_FACTORS = (1.0, 1.2, 1.5, 2.0, 3.0)
JOIN_AFTER = (0, 200, 250, 275, 300, 325, 350, 400)
MARGIN_GATES = (0.9, 0.95, 0.98, 0.99, 0.999)
PROMPT_GATES = (175, 187, 202)  # the dev split's prompt-length quartiles (1.5B's tokenizer)
EXTRA_ROW_COSTS = (0.05, 0.26, 0.38, 0.5, 0.88)
DEFAULT = aggregate.parse_rule("weighted+greedy@6")


class Tally:
    """Accuracy, won/lost against greedy and seconds of one what-if over the items."""

    def __init__(self) -> None:
        self.right = self.won = self.lost = 0
        self.seconds = 0.0

    def add(self, ok: bool, greedy_ok: bool, seconds: float) -> None:
        self.right += ok
        self.won += ok and not greedy_ok
        self.lost += greedy_ok and not ok
        self.seconds += seconds

    def line(self, n: int, greedy_seconds: float) -> str:
        return (f"n={n} accuracy {self.right / n:.3f} (+{self.won}/-{self.lost} vs greedy) "
                f"x{self.seconds / greedy_seconds:.2f} greedy's time")  # fmt: skip


def stop_with_greedy(report: aggregate.Report, greedy: list, factor: float) -> Tally:
    tally = Tally()
    for item, g in zip(report.items, greedy, strict=True):
        paths = report.paths_for(DEFAULT, item)
        stop = int(factor * paths[0]["tokens"])
        finished = [p for p in paths if p["tokens"] <= stop]
        best = aggregate.vote_paths(finished, weighted=True)[1]
        seconds = item["prompt_s"] + report.decode_seconds(
            item, [min(p["tokens"], stop) for p in paths]
        )
        tally.add(best is not None and best["correct"], g.correct, seconds)
    return tally


def samples_join_late(report: aggregate.Report, greedy: list, join: int) -> tuple[Tally, int, int]:
    """The tally, the unanimous votes and how many of them were right."""
    tally = Tally()
    unanimous = unanimous_right = 0
    for item, g in zip(report.items, greedy, strict=True):
        paths = report.paths_for(DEFAULT, item)
        if paths[0]["tokens"] <= join:
            tally.add(g.correct, g.correct, g.seconds)
            continue
        one_row = aggregate.step_cost(report.step_costs[item.get("run", "")], 1)
        lengths = [paths[0]["tokens"] - join] + [p["tokens"] for p in paths[1:]]
        result, best = aggregate.vote_paths(paths, weighted=True)
        ok = best is not None and best["correct"]
        tally.add(
            ok, g.correct, item["prompt_s"] + join * one_row + report.decode_seconds(item, lengths)
        )
        if result.agree == len(paths):  # what the answer's `agreement` would show: 6 of 6
            unanimous += 1
            unanimous_right += ok
    return tally, unanimous, unanimous_right


def skip_when_sure(report: aggregate.Report, greedy: list, gate: float) -> tuple[Tally, int, int]:
    """The tally, the items that kept greedy's answer and how many of them were right."""
    tally = Tally()
    skipped = skipped_right = 0
    for item, g in zip(report.items, greedy, strict=True):
        paths = report.paths_for(DEFAULT, item)
        if paths[0]["margin"] >= gate:
            tally.add(g.correct, g.correct, g.seconds)
            skipped += 1
            skipped_right += g.correct
            continue
        samples = report.decode_seconds(item, [p["tokens"] for p in paths[1:]])
        tally.add(report.apply(DEFAULT, item).correct, g.correct, g.seconds + samples)
    return tally, skipped, skipped_right


def fork_from_greedy(report: aggregate.Report, greedy: list) -> Tally:
    """The default's answers, each sample decoded only from where it leaves the greedy path."""
    tally = Tally()
    for item, g in zip(report.items, greedy, strict=True):
        paths = report.paths_for(DEFAULT, item)
        spans = [(0, paths[0]["tokens"])]
        for p in paths[1:]:
            shared = len(os.path.commonprefix([paths[0]["text"], p["text"]]))
            spans.append((p["tokens"] * shared // max(1, len(p["text"])), p["tokens"]))
        seconds = item["prompt_s"] + spans_seconds(report.step_costs[item.get("run", "")], spans)
        tally.add(report.apply(DEFAULT, item).correct, g.correct, seconds)
    return tally


def spans_seconds(costs: dict[int, float], spans: list[tuple[int, int]]) -> float:
    """Paths each live from its first to its last step, decoded as one batch."""
    edges = sorted({t for span in spans for t in span})
    return sum(
        (end - start) * aggregate.step_cost(costs, sum(a <= start < b for a, b in spans))
        for start, end in zip(edges, edges[1:], strict=False)
    )


def route_by_prompt(report: aggregate.Report, greedy: list, gate: int) -> tuple[Tally, int]:
    """The tally and the items answered by greedy alone."""
    tally = Tally()
    alone = 0
    for item, g in zip(report.items, greedy, strict=True):
        if item["prompt_tokens"] < gate:
            tally.add(g.correct, g.correct, g.seconds)
            alone += 1
        else:
            outcome = report.apply(DEFAULT, item)
            tally.add(outcome.correct, g.correct, outcome.seconds)
    return tally, alone


def on_machine(report: aggregate.Report, greedy: list, extra_row: float) -> tuple[Tally, Tally]:
    """The default's tally in one batch and with the greedy path first, where a step with r live
    paths costs 1 + extra_row * (r - 1) of a one-path step. Greedy's seconds are unchanged: a
    one-path step costs what it did."""
    batch, first = Tally(), Tally()
    for item, g in zip(report.items, greedy, strict=True):
        one_row = aggregate.step_cost(report.step_costs[item.get("run", "")], 1)
        costs = {r: one_row * (1 + extra_row * (r - 1)) for r in range(1, 7)}
        lengths = [p["tokens"] for p in report.paths_for(DEFAULT, item)]
        ok = report.apply(DEFAULT, item).correct
        together = spans_seconds(costs, [(0, n) for n in lengths])
        after_greedy = spans_seconds(costs, [(0, n) for n in lengths[1:]])
        batch.add(ok, g.correct, item["prompt_s"] + together)
        first.add(ok, g.correct, g.seconds + after_greedy)
    return batch, first


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+", help="saved-paths files (`ponder eval --save-paths`)")
    args = parser.parse_args()
    try:
        report = aggregate.saved_report([Path(f) for f in args.paths])
    except PonderError as e:
        sys.exit(str(e))
    n = len(report.items)
    greedy = report.outcomes(aggregate.Rule("greedy", "greedy"))
    greedy_seconds = sum(g.seconds for g in greedy)
    print("1. the batch stopped at C times the greedy path's length")
    for factor in STOP_FACTORS:
        print(f"C={factor}: {stop_with_greedy(report, greedy, factor).line(n, greedy_seconds)}")
    print("2. the samples join once the greedy path passes L tokens")
    for join in JOIN_AFTER:
        tally, unanimous, right = samples_join_late(report, greedy, join)
        print(f"L={join}: {tally.line(n, greedy_seconds)}; unanimous {right} right of {unanimous}")
    print("3. the samples only when the greedy answer's margin is below M")
    for gate in MARGIN_GATES:
        tally, skipped, right = skip_when_sure(report, greedy, gate)
        print(
            f"M={gate}: {tally.line(n, greedy_seconds)}; greedy alone on {skipped}, {right} right"
        )
    print("4. the samples forked from the greedy path where they first differ from it")
    print(fork_from_greedy(report, greedy).line(n, greedy_seconds))
    print("5. the samples only for prompts of at least P tokens")
    for gate in PROMPT_GATES:
        tally, alone = route_by_prompt(report, greedy, gate)
        print(f"P={gate}: {tally.line(n, greedy_seconds)}; greedy alone on {alone}")
    print("6. the default on a machine where an extra live path costs E of a one-path step")
    for extra_row in EXTRA_ROW_COSTS:
        batch, first = on_machine(report, greedy, extra_row)
        print(
            f"E={extra_row} (6 paths {1 + 5 * extra_row:.2f}x one): one batch "
            f"x{batch.seconds / greedy_seconds:.2f}, greedy first x{first.seconds / greedy_seconds:.2f}"
            " greedy's time"
        )


if __name__ == "__main__":
    main()
