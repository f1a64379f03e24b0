"""What "reason about this" (an explanation) costs with the default strategy and with voting.

    python scripts/bench_explain.py [--model qwen2.5-coder-1.5b] [--file examples/inventory.py]
        [--question "How would you test this function?"]

Asks ponder's default question ("Explain what the selected code does and why."), or --question,
about each function of the file, through the pipeline and the real engine, once with `auto` (one
path for an explanation, or for prose the greedy path gives to another open question) and once
with `self_consistency` (6 paths vote), the prompt cached before both. Prints each answer's
seconds, paths and verdict. Free text is never scored or called `confident`, so the 6 paths buy
no confidence; this measures what they cost.
Last line: RESULT model=M items=N auto_s=X self_consistency_s=Y ratio=Y/X
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.agent import models, pipeline  # noqa: E402
from ponder.agent.engine import LlamaEngine  # noqa: E402
from ponder.agent.positions import offset_of, split_lines  # noqa: E402
from ponder.agent.settings import ReasonSettings  # noqa: E402

STRATEGIES = ("auto", "self_consistency")


def functions(text: str) -> list[tuple[str, int, int]]:
    """(name, start offset, end offset) of each top-level function."""
    lines = split_lines(text)

    def line_start(line: int) -> int:
        return offset_of(text, line, 0, lines=lines)

    return [
        (node.name, line_start(node.lineno - 1), line_start(node.end_lineno or node.lineno))
        for node in ast.parse(text).body
        if isinstance(node, ast.FunctionDef)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--file", default="examples/inventory.py")
    parser.add_argument("--question", help="asked instead of the default question")
    args = parser.parse_args()
    try:
        text = Path(args.file).read_text()
        found = functions(text)
    except (OSError, SyntaxError, UnicodeDecodeError) as e:
        sys.exit(f"cannot read the functions of {args.file}: {e}")
    if not found:
        sys.exit(f"{args.file} has no top-level function to ask about")
    resolved = models.resolve(args.model)
    engine = LlamaEngine(str(resolved.path), resolved.name)
    totals = dict.fromkeys(STRATEGIES, 0.0)
    for name, start, end in found:
        for strategy in STRATEGIES:
            task = pipeline.Task(
                args.question,
                text,
                args.file,
                "python",
                start,
                end,
                ReasonSettings(strategy=strategy),
            )
            engine.sample(pipeline.messages_for(task), k=1, max_tokens=1)  # the prompt, cached
            started = time.perf_counter()
            answer = pipeline.run(task, engine)
            seconds = time.perf_counter() - started
            totals[strategy] += seconds
            print(f"{name:12} {strategy:16} {seconds:6.1f} s  {answer.agreement.agree} of "
                  f"{answer.agreement.paths} paths  {answer.verdict:9}  {answer.answer[:70]}",
                  flush=True)  # fmt: skip
    auto, voted = totals["auto"], totals["self_consistency"]
    print(f"RESULT model={resolved.name} items={len(found)} auto_s={auto:.1f} "
          f"self_consistency_s={voted:.1f} ratio={voted / auto:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
