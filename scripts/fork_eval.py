"""Branches from the greedy path's least certain tokens: a cheaper vote than fresh samples?

    python scripts/fork_eval.py --limit 40 --every 16 --forks 3 --skip 0.3 --json forks.jsonl

An experiment, not a strategy. Per item: the greedy path, decoded alone; then, at its F least
certain tokens before its answer line (the smallest top-1 minus top-2 probability margins, at
least --gap tokens apart), a branch that takes the runner-up token there and continues greedily
(the CoT-decoding branch, moved from the first token to where the greedy path hesitated). A
branch's prompt is the greedy path's prefix, so it only decodes from its fork on; the latest
fork goes first, so the prefixes after it are already in the KV cache. The greedy path and its
branches vote by majority (`agent.vote`, unweighted), the greedy path's answer winning ties.

Fresh samples leave the greedy path within its first 5% of text (the saved paths: median 1%),
so they cost a whole path each; a branch forked late costs only the rest. Prints one line per
item and `RESULT n=… greedy=… forks=… won=… lost=… time_ratio=… token_ratio=…` (seconds and
generated tokens of greedy + branches over greedy's alone).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import models, pipeline, prompts  # noqa: E402
from agent.answer import extract  # noqa: E402
from agent.engine import LlamaEngine  # noqa: E402
from agent.vote import Ballot, vote  # noqa: E402
from server.cli.evaluation.harness import load_items, question_for, score  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/cruxeval-dev.jsonl"
MAX_TOKENS = 512


class PrefixEngine(LlamaEngine):
    """An engine whose prompt continues with `prefix` (tokens of the answer so far)."""

    prefix: list[int] = []

    def prompt_tokens(self, messages):
        return super().prompt_tokens(messages) + self.prefix


def fork_points(path, forks: int, gap: int, skip: float) -> list[int]:
    """Token indices of the path's least certain tokens before its answer line, `gap` apart,
    past the first `skip` of those tokens."""
    tag = path.text.rfind(prompts.ANSWER_TAG)
    end = len(path.text) if tag < 0 else tag
    before = [i for i, off in enumerate(path.offsets) if off < end]
    candidates = before[int(skip * len(before)) :]
    chosen: list[int] = []
    for i in sorted(candidates, key=lambda i: path.margins[i]):
        if all(abs(i - j) >= gap for j in chosen):
            chosen.append(i)
        if len(chosen) == forks:
            break
    return sorted(chosen, reverse=True)  # latest first: the prefixes after it are cached


def branch(engine: PrefixEngine, messages, path, at: int) -> tuple[str, int]:
    """The runner-up token at `at`, then greedy: the whole text and the tokens decoded."""

    def runner_up_then_greedy(logits: np.ndarray, rows: list[int], first: bool) -> np.ndarray:
        if first:
            return np.argsort(-logits, axis=1)[:, 1]
        return logits.argmax(axis=1)

    engine.prefix = path.tokens[:at]
    try:
        with engine.lock:
            [c] = engine._decode(
                messages, 1, runner_up_then_greedy, MAX_TOKENS - at, pipeline.STOP, None, None,
                prompts.ANSWER_TAG,
            )  # fmt: skip
    finally:
        engine.prefix = []
    return path.text[: path.offsets[at]] + c.text, c.completion_tokens


def majority(answers: list[str]) -> str:
    """ponder's unweighted vote: the most common answer (never "no answer"); the first path's,
    the greedy one, wins ties."""
    winner = vote([Ballot(a, "", 0.0) for a in answers]).winner
    return winner.answer if winner else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--every", type=int, default=16)
    parser.add_argument("--forks", type=int, default=4)
    parser.add_argument("--gap", type=int, default=8, help="fewest tokens between two forks")
    parser.add_argument("--skip", type=float, default=0.0,
                        help="fork only past this fraction of the tokens before the answer line")  # fmt: skip
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--json", type=Path, help="one line per item (appended)")
    args = parser.parse_args()
    resolved = models.resolve(args.model)
    engine = PrefixEngine(str(resolved.path), resolved.name)
    items = load_items(args.data, args.limit, args.offset, args.every)
    totals = Counter()
    for n, item in enumerate(items):
        task = pipeline.Task(question_for(item), item["code"], "f.py", "python", 0, 0)
        messages = pipeline.messages_for(task)
        started = time.perf_counter()
        [path] = engine.sample(
            messages, k=1, max_tokens=MAX_TOKENS, stop=pipeline.STOP, answer_tag=prompts.ANSWER_TAG
        )
        greedy_s = time.perf_counter() - started
        answers, tokens = [extract(path.text).answer], [path.completion_tokens]
        forks = fork_points(path, args.forks, args.gap, args.skip)
        for at in forks:
            text, decoded = branch(engine, messages, path, at)
            answers.append(extract(text).answer)
            tokens.append(decoded)
        all_s = time.perf_counter() - started
        voted = majority(answers)
        greedy_ok, vote_ok = score(item["output"], answers[0]), score(item["output"], voted)
        totals.update(n=1, greedy=int(greedy_ok), vote=int(vote_ok), won=int(vote_ok and not greedy_ok),
                      lost=int(greedy_ok and not vote_ok))  # fmt: skip
        totals["greedy_s"] += greedy_s
        totals["all_s"] += all_s
        totals["greedy_tokens"] += tokens[0]
        totals["all_tokens"] += sum(tokens)
        row = {"id": item.get("id"), "expected": item["output"], "answers": answers,
               "right": [score(item["output"], a) for a in answers], "forks": forks,
               "tokens": tokens, "greedy_s": round(greedy_s, 2), "all_s": round(all_s, 2)}  # fmt: skip
        if args.json:
            with args.json.open("a") as f:
                f.write(json.dumps(row) + "\n")
        print(f"[{n + 1}/{len(items)}] {item.get('id')}: greedy {'ok' if greedy_ok else '--'} "
              f"vote {'ok' if vote_ok else '--'} forks at {forks} of {tokens[0]} tokens, "
              f"{[a[:20] for a in answers]}, {greedy_s:.0f}/{all_s:.0f} s", file=sys.stderr)  # fmt: skip
    t = totals
    print(f"RESULT n={t['n']} greedy={t['greedy'] / t['n']:.3f} forks={t['vote'] / t['n']:.3f} "
          f"won={t['won']} lost={t['lost']} time_ratio={t['all_s'] / t['greedy_s']:.2f} "
          f"token_ratio={t['all_tokens'] / t['greedy_tokens']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
