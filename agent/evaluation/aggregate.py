"""Scoring aggregation rules offline, from paths saved by `ponder eval cruxeval --save-paths`.

Sampling is the cost and aggregation is cheap: one run saves, per item, the greedy path and K
sampled paths (each with its answer, answer-token margin, token count and correctness); every
rule here is computed from those. A rule's seconds are estimated from the same run's decode
steps: what one step with r live paths cost, measured per r over every step of the run (not a
straight line: on a CPU, llama.cpp's matrix kernels take rows in fours, and a step of 4 rows
costs less than one of 3); a batch of paths costs, step by step, the cost of its live paths,
plus the prompt.

Confidence is reported twice: raw (the rule's vote share or margin) and calibrated (mapped
through an isotonic fit, `agent/calibration.py`). The calibrated figures are cross-fitted (each
half of the items is calibrated on the other half), so they are not scored on their own fit, and
averaged over CROSS_FIT_SPLITS random halvings: with 160 items, the default's ECE ranged from 0.03
to 0.12 between halvings, so one halving says as much about itself as about the table.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from ponder.agent import calibration
from ponder.agent.errors import PonderError
from ponder.agent.vote import NO_ANSWER, Ballot, Vote, decided, key_of, vote

ADAPTIVE_FIRST = 3
CROSS_FIT_SPLITS = 20
HIGH = calibration.CONFIDENT_AT
_RULE = re.compile(
    r"^(majority|weighted|maxmargin)((?:\+(?:greedy|adaptive|early|first\d+))*)@(\d+)$"
)


@dataclass(frozen=True)
class Rule:
    name: str
    vote: str  # greedy | majority | weighted | maxmargin
    k: int = 1
    greedy: bool = False  # the greedy path is one of the k
    adaptive: bool = False  # first ADAPTIVE_FIRST paths; the rest only on disagreement
    early: bool = False  # one batch, stopped once the vote is decided (agent.vote.decided)
    first: int = 0  # one batch, stopped once this many paths finished; only they vote


def parse_rule(text: str) -> Rule:
    text = text.strip()
    if text == "greedy":
        return Rule("greedy", "greedy")
    m = _RULE.match(text)
    if not m:
        raise PonderError(
            f"unknown rule '{text}': use greedy, or majority|weighted|maxmargin"
            "[+greedy][+adaptive][+early][+firstM]@K (e.g. majority+greedy@5, "
            "weighted+greedy+first5@6)"
        )
    flags = m.group(2).split("+")
    k = int(m.group(3))
    if k < 1:
        raise PonderError(f"rule '{text}': K must be at least 1")
    if "early" in flags and m.group(1) != "majority":
        raise PonderError(f"rule '{text}': +early needs majority votes")
    first = next((int(f[5:]) for f in flags if f.startswith("first")), 0)
    if first and not 1 <= first <= k:
        raise PonderError(f"rule '{text}': +firstM needs 1 <= M <= K")
    return Rule(
        text, m.group(1), k, "greedy" in flags, "adaptive" in flags, "early" in flags, first
    )


@dataclass
class Outcome:
    answer: str
    correct: bool
    raw: float  # the rule's own confidence: vote share, or margin
    agree: int
    paths: int  # paths sampled
    tokens: int
    seconds: float


class Report:
    """Saved items plus the run's cost model."""

    def __init__(self, header: dict, items: list[dict], held_out: bool = False):
        self.header = header
        self.items = items
        # Held-out items are calibrated with the shipped tables; the others are cross-fitted.
        adapter = header.get("adapter", {}).get("sha256")
        self.shipped = calibration.tables_for(header["model"], adapter) if held_out else None
        if held_out and not self.shipped:
            raise PonderError(f"--held-out: no calibration table is shipped for {header['model']}")
        # Step costs per run: files sampled on different machines are timed each by its own.
        by_run: dict[str, list[dict]] = {}
        for item in items:
            by_run.setdefault(item.get("run", ""), []).append(item)
        self.step_costs = {run: measure_step_costs(its) for run, its in by_run.items()}

    def paths_for(self, rule: Rule, item: dict) -> list[dict]:
        greedy, sampled = item["paths"][0], item["paths"][1:]
        chosen = ([greedy] + sampled[: rule.k - 1]) if rule.greedy else sampled[: rule.k]
        if len(chosen) < rule.k:
            raise PonderError(
                f"rule {rule.name} needs {rule.k} paths; the file has {len(sampled)} samples "
                "+ greedy per item"
            )
        return chosen

    def decode_seconds(self, item: dict, lengths: list[int]) -> float:
        """Paths of these lengths decoded in one batch, on the machine that sampled the item:
        until the shortest ends, every step has all of them live; then one fewer, and so on."""
        costs = self.step_costs[item.get("run", "")]
        seconds, done = 0.0, 0
        for i, end in enumerate(sorted(lengths)):
            seconds += (end - done) * step_cost(costs, len(lengths) - i)
            done = end
        return seconds

    def apply(self, rule: Rule, item: dict) -> Outcome:
        if rule.vote == "greedy":
            p = item["paths"][0]
            seconds = item["prompt_s"] + self.decode_seconds(item, [p["tokens"]])
            return Outcome(p["answer"], p["correct"], p["margin"], 1, 1, p["tokens"], seconds)
        paths = self.paths_for(rule, item)
        batches = [paths]
        if rule.adaptive and rule.k > ADAPTIVE_FIRST:
            first = paths[:ADAPTIVE_FIRST]
            batches = [first] if _unanimous(first) else [first, paths[ADAPTIVE_FIRST:]]
        used = [p for batch in batches for p in batch]
        seconds = item["prompt_s"] + sum(
            self.decode_seconds(item, [p["tokens"] for p in b]) for b in batches
        )
        tokens = sum(p["tokens"] for p in used)
        if rule.early or rule.first:
            used, steps = _early(paths) if rule.early else _first(paths, rule.first)
            lengths = [min(p["tokens"], steps) for p in paths]
            seconds = item["prompt_s"] + self.decode_seconds(item, lengths)
            tokens = sum(lengths)
        if rule.vote == "maxmargin":
            best = max(used, key=lambda p: p["margin"] if p["answer"].strip() else -1)
            agree = sum(_same(best, p) for p in used)
            return Outcome(
                best["answer"], best["correct"], best["margin"], agree, len(used), tokens, seconds
            )
        result, winner = vote_paths(used, weighted=rule.vote == "weighted")
        if winner is None:
            return Outcome("", False, 0.0, 0, len(used), tokens, seconds)
        # Stopped early, the paths that never finished count as not agreeing.
        share = result.agree / rule.k if rule.early else result.share
        return Outcome(
            winner["answer"], winner["correct"], share, result.agree, len(used), tokens, seconds
        )

    def outcomes(self, rule: Rule) -> list[Outcome]:
        return [self.apply(rule, item) for item in self.items]

    def summarise(self, rule: Rule) -> dict:
        outs = self.outcomes(rule)
        greedy = self.outcomes(Rule("greedy", "greedy"))
        n = len(outs)
        correct = [o.correct for o in outs]
        right = sum(correct)
        if self.shipped is None:
            calibrated = repeated_summary(cross_fitted(outs), correct)
        else:
            strategy = "greedy" if rule.vote == "greedy" else "self_consistency"
            shipped = [calibration.mapped(self.shipped[strategy], o.raw) for o in outs]
            calibrated = confidence_summary(shipped, correct)
        summary = {
            "n": n,
            "accuracy": right / n,
            "accuracy_ci": wilson(right, n),
            "wins_vs_greedy": sum(
                o.correct and not g.correct for o, g in zip(outs, greedy, strict=True)
            ),
            "losses_vs_greedy": sum(
                g.correct and not o.correct for o, g in zip(outs, greedy, strict=True)
            ),
            "tokens_per_item": sum(o.tokens for o in outs) / n,
            "paths_per_item": sum(o.paths for o in outs) / n,
            "seconds_per_item": sum(o.seconds for o in outs) / n,
            "time_vs_greedy": sum(o.seconds for o in outs)
            / max(sum(g.seconds for g in greedy), 1e-9),
            "raw": confidence_summary([o.raw for o in outs], correct),
            "calibrated": calibrated,
        }
        return summary


def vote_paths(paths: list[dict], weighted: bool) -> tuple[Vote, dict | None]:
    """The vote over saved paths, and the winning group's best path (None: no answer won)."""
    ballots = [Ballot(p["answer"], "", p["margin"], p["text"]) for p in paths]
    result = vote(ballots, weighted=weighted)
    best = paths[ballots.index(result.winner.best())] if result.winner else None
    return result, best


def _same(a: dict, b: dict) -> bool:
    return key_of(a["answer"]) == key_of(b["answer"])


def _early(paths: list[dict]) -> tuple[list[dict], int]:
    """Paths decode in lockstep, so they finish in order of length. The finished paths at the
    step where the vote is decided, and that step."""
    order = sorted(paths, key=lambda p: p["tokens"])
    for n, p in enumerate(order, start=1):
        if decided([key_of(q["answer"]) for q in order[:n]], len(paths) - n):
            return order[:n], p["tokens"]
    return order, order[-1]["tokens"] if order else 0


def _first(paths: list[dict], m: int) -> tuple[list[dict], int]:
    """The first m paths to finish (the shortest: paths decode in lockstep), and that step."""
    order = sorted(paths, key=lambda p: p["tokens"])[:m]
    return order, order[-1]["tokens"] if order else 0


def _unanimous(paths: list[dict]) -> bool:
    keys = {key_of(p["answer"]) for p in paths}
    return len(keys) == 1 and NO_ANSWER not in keys


def saved_report(files: list[Path]) -> Report:
    """A Report on the paths saved in `files`, every answer extracted again with today's
    extractor: where an offline what-if in scripts/ starts."""
    from ponder.agent.evaluation import harness  # numpy and the engine's types load only here

    header, items = harness.read_many_paths(files, None)
    harness.rescore(items)
    return Report(header, items)


def two_runs_parser(doc: str) -> argparse.ArgumentParser:
    """The command line of a script that pairs two sampling runs, A and B, each given as its
    saved-paths files joined with commas (a run sampled block by block is held in several)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    for run in ("a", "b"):
        parser.add_argument(
            run, type=_files, help=f"file(s) of run {run.upper()}, joined with commas"
        )
    return parser


def _files(text: str) -> list[Path]:
    return [Path(name) for name in text.split(",") if name]


def paired_items(a: Report, b: Report) -> list[tuple[dict, dict]]:
    """The items both runs hold, in a's order: (a's item, b's item)."""
    b_by_id = {item["id"]: item for item in b.items}
    return [(item, b_by_id[item["id"]]) for item in a.items if item["id"] in b_by_id]


def measure_step_costs(items: list[dict]) -> dict[int, float]:
    """Seconds per decode step by number of live paths, over all the run's steps. An item's
    steps at one batch size that took over 3x the median for that size (the machine was busy,
    the process was paused) are left out."""
    buckets = [
        (int(rows), steps, seconds)
        for item in items
        for rows, (steps, seconds) in item.get("steps", {}).items()
        if steps
    ]
    typical = {
        rows: statistics.median(sec / n for r, n, sec in buckets if r == rows)
        for rows in {r for r, _, _ in buckets}
    }
    totals: dict[int, list[float]] = {}
    for rows, steps, seconds in buckets:
        if seconds / steps <= 3 * typical[rows]:
            total = totals.setdefault(rows, [0.0, 0.0])
            total[0] += steps
            total[1] += seconds
    return {rows: seconds / steps for rows, (steps, seconds) in totals.items()}


def step_cost(costs: dict[int, float], rows: int) -> float:
    """A step's seconds with `rows` live paths: as measured, else interpolated between the
    nearest measured sizes (the nearest one at either end); 0 when nothing was measured."""
    if rows in costs or not costs:
        return costs.get(rows, 0.0)
    below = max((r for r in costs if r < rows), default=None)
    above = min((r for r in costs if r > rows), default=None)
    if below is None:
        return costs[above] if above is not None else 0.0
    if above is None:
        return costs[below]
    t = (rows - below) / (above - below)
    return costs[below] + t * (costs[above] - costs[below])


def bootstrap_mean(values, draws: int = 10_000) -> tuple[float, float]:
    """95% interval of the mean of per-item `values` by resampling items (seeded: the same every
    run). Per-item differences of two runs give the paired interval of their difference."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(0)
    means = values[rng.integers(0, len(values), size=(draws, len(values)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def wilson(right: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if not n:
        return (0.0, 0.0)
    p = right / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(max(centre - half, 0.0), 3), round(min(centre + half, 1.0), 3))


def bin_members(confidences: list[float], bins: int = 10) -> list[list[int]]:
    """The indexes of the confidences in each of `bins` equal-width bins (1.0 in the last)."""
    members: list[list[int]] = [[] for _ in range(bins)]
    for i, c in enumerate(confidences):
        members[min(max(int(c * bins), 0), bins - 1)].append(i)
    return members


def ece(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error over equal-width bins."""
    n = len(confidences)
    total = 0.0
    for members in bin_members(confidences, bins):
        if members:
            acc = sum(correct[i] for i in members) / len(members)
            conf = sum(confidences[i] for i in members) / len(members)
            total += abs(acc - conf) * len(members) / n
    return total


def confidence_summary(confidences: list[float], correct: list[bool]) -> dict:
    high = [ok for c, ok in zip(confidences, correct, strict=True) if c >= HIGH]
    return {
        "mean": sum(confidences) / len(confidences) if confidences else 0.0,
        "high_n": len(high),
        "high_accuracy": sum(high) / len(high) if high else None,
        "high_ci": wilson(sum(high), len(high)) if high else None,
        "ece": ece(confidences, correct),
    }


def cross_fitted(outs: list[Outcome], splits: int = CROSS_FIT_SPLITS) -> list[list[float]]:
    """Calibrated confidences, one list per random halving (seeded: the same every run): each
    half of the items is mapped by a fit on the other half."""
    rng = random.Random(0)
    per_split = []
    for _ in range(splits):
        order = list(range(len(outs)))
        rng.shuffle(order)
        halves = [order[::2], order[1::2]]
        calibrated = [0.0] * len(outs)
        for this, other in (halves, halves[::-1]):
            table = calibration.fit([outs[i].raw for i in other], [outs[i].correct for i in other])
            for i in this:
                calibrated[i] = calibration.mapped(table, outs[i].raw) if table else outs[i].raw
        per_split.append(calibrated)
    return per_split


def repeated_summary(per_split: list[list[float]], correct: list[bool]) -> dict:
    """confidence_summary over several halvings: means of the mean, the count at >= HIGH and
    ECE; the accuracy at >= HIGH pooled over every halving's answers there."""
    summaries = [confidence_summary(c, correct) for c in per_split]
    high = [ok for c in per_split for x, ok in zip(c, correct, strict=True) if x >= HIGH]
    high_n = sum(s["high_n"] for s in summaries) / len(summaries)
    high_acc = sum(high) / len(high) if high else None
    return {
        "mean": statistics.mean(s["mean"] for s in summaries),
        "high_n": high_n,
        "high_accuracy": high_acc,
        "high_ci": wilson(round(high_acc * high_n), round(high_n)) if high else None,
        "ece": statistics.mean(s["ece"] for s in summaries),
    }


def table(summaries: dict[str, dict]) -> str:
    head = (
        f"{'rule':26} {'n':>4} {'acc [95% CI]':>18} {'+/- greedy':>10} {'conf@>=0.8 raw':>16} "
        f"{'calibrated':>16} {'ECE raw/cal':>11} {'paths':>5} {'tokens':>6} {'s/item':>6} {'x greedy':>8}"
    )
    lines = [head, "-" * len(head)]
    for name, s in summaries.items():
        lo, hi = s["accuracy_ci"]
        lines.append(
            f"{name:26} {s['n']:4d} {s['accuracy']:6.3f} [{lo:.2f},{hi:.2f}] "
            f"{'+' + str(s['wins_vs_greedy']) + '/-' + str(s['losses_vs_greedy']):>10} "
            f"{_high(s['raw']):>16} {_high(s['calibrated']):>16} "
            f"{s['raw']['ece']:5.3f}/{s['calibrated']['ece']:5.3f} {s['paths_per_item']:5.1f} "
            f"{s['tokens_per_item']:6.0f} {s['seconds_per_item']:6.1f} {s['time_vs_greedy']:8.2f}"
        )
    return "\n".join(lines)


def _high(c: dict) -> str:
    if c["high_accuracy"] is None:
        return "- (0)"
    return f"{c['high_accuracy']:.2f} ({_count(c['high_n'])})"


def _count(n: float) -> str:
    """An answer count averaged over halvings: whole from 1 up, else one decimal (0.2, not 0)."""
    return f"{n:.0f}" if n >= 1 or n == 0 else f"{n:.1f}"


def result_line(name: str, s: dict) -> str:
    cal = s["calibrated"]
    acc_hi = f"{cal['high_accuracy']:.3f}" if cal["high_accuracy"] is not None else "nan"
    return (
        f"RESULT n={s['n']} strategy={name} acc={s['accuracy']:.3f} acc_hi={acc_hi} "
        f"hi_n={_count(cal['high_n'])} ece={cal['ece']:.3f} s_item={s['seconds_per_item']:.1f}"
    )


def calibration_tables(report: Report, rules: list[Rule]) -> str:
    lines = ["# calibration tables fitted on all items (paste into agent/calibration.py TABLES)"]
    for rule in rules:
        outs = report.outcomes(rule)
        table = calibration.fit([o.raw for o in outs], [o.correct for o in outs])
        lines.append(f"{rule.name!r}: {table},")
    return "\n".join(lines)


def plot(report: Report, rules: list[Rule], file: Path) -> None:
    """Reliability diagram (calibrated, cross-fitted) per rule, and accuracy vs k."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise PonderError("--plot needs matplotlib: pip install matplotlib") from e
    fig, (rel, by_k) = plt.subplots(1, 2, figsize=(11, 4.5))
    rel.plot([0, 1], [0, 1], ":", color="grey", label="perfect calibration")
    for rule in rules:
        outs = report.outcomes(rule)
        per_split = cross_fitted(outs)
        conf = [c for split in per_split for c in split]  # every halving's answers
        correct = [o.correct for _ in per_split for o in outs]
        xs, ys = [], []
        for members in bin_members(conf):
            if members:
                xs.append(sum(conf[i] for i in members) / len(members))
                ys.append(sum(correct[i] for i in members) / len(members))
        rel.plot(xs, ys, "o-", label=rule.name)
    rel.set(
        xlabel="confidence (calibrated, cross-fitted)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1)
    )
    rel.set_title("reliability")
    rel.legend(fontsize=7)
    most = len(report.items[0]["paths"])
    greedy = report.summarise(Rule("greedy", "greedy"))["accuracy"]
    for vote_kind, with_greedy in (("majority", True), ("majority", False), ("weighted", True)):
        ks = list(range(1, most + (1 if with_greedy else 0)))
        accs = []
        for k in ks:
            rule = Rule(f"{vote_kind}@{k}", vote_kind, k, with_greedy)
            outs = report.outcomes(rule)
            accs.append(sum(o.correct for o in outs) / len(outs))
        by_k.plot(ks, accs, "o-", label=f"{vote_kind}{' + greedy path' if with_greedy else ''}")
    by_k.axhline(greedy, ls="--", color="black", label="greedy")
    by_k.set(xlabel="k (paths voting)", ylabel="accuracy")
    by_k.set_title(
        f"accuracy vs k (n={len(report.items)}, {report.header['model']}, "
        f"T={report.header['temperature']})"
    )
    by_k.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(file, dpi=110)
