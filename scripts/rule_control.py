"""Control for `ponder eval related --same-code rule`: is the gain the memory's, or the rule's?

    python scripts/rule_control.py scripts/results/related-1.5b-rule.json [--model M]

`--same-code rule` shows B a rule of its function that the model wrote from A's *accepted*
trace. This asks each of those B questions again with a rule the model writes from the code
alone (no accepted answer, no memory: what a "summarise the code first" prompt would give). If
B gains as much, the gain is the summary's, not the memory's. Greedy, like `ponder eval related`.
Last line: RESULT n=N b_off=.. b_rule_memory=.. b_rule_code_only=.. memory_vs_code_only=+W/-L
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import prompts  # noqa: E402
from agent.pipeline import RULE_TOKENS  # noqa: E402
from agent.services import make_engine  # noqa: E402
from agent.settings import defaults  # noqa: E402
from server.cli.evaluation import harness, related  # noqa: E402


def code_only_rule(code: str) -> list[dict[str, str]]:
    user = (
        f"Code:\n{prompts.code_block(code, 'python')}\n\nIn one or two sentences, state the "
        "general rule this code follows: what it computes for any input, in words."
    )
    return [{"role": "system", "content": prompts.SYSTEM}, {"role": "user", "content": user}]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "results", type=Path, help="the --json of `ponder eval related --same-code rule`"
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data/cruxeval-dev.jsonl"))
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    args = parser.parse_args()

    shown = [p for p in json.loads(args.results.read_text())["pairs"] if p.get("rule")]
    items = {item["id"]: item for item in harness.load_items(args.data)}
    settings = defaults()
    settings.model = args.model
    engine = make_engine(settings)
    engine.load()
    options = dataclasses.replace(settings.reason, strategy="greedy", step_back=False)

    off = memory = code_only = wins = losses = 0
    for n, pair in enumerate(shown, 1):
        a = items[pair["id"]]
        b = related.related_item(a)
        assert b is not None, pair["id"]
        rule = engine.sample(code_only_rule(a["code"]), k=1, max_tokens=RULE_TOKENS)[0].text
        remembered = {"question": harness.question_for(a), "code": a["code"], "principle": rule}
        answer = harness.ask(b, engine, options, lambda q, c, m=remembered: [m], same_code="rule")
        right = harness.score(b["output"], answer.answer)
        off += pair["b_off"]
        memory += pair["b_on"]
        code_only += right
        wins += pair["b_on"] and not right
        losses += right and not pair["b_on"]
        print(f"[{n}/{len(shown)}] {pair['id']}: B off {'ok' if pair['b_off'] else '--'}, "
              f"memory rule {'ok' if pair['b_on'] else '--'}, code-only rule "
              f"{'ok' if right else '--'}; rule: {rule.strip()!r}", flush=True)  # fmt: skip
    k = len(shown) or 1
    print(f"RESULT n={len(shown)} b_off={off / k:.3f} b_rule_memory={memory / k:.3f} "
          f"b_rule_code_only={code_only / k:.3f} memory_vs_code_only=+{wins}/-{losses}")  # fmt: skip


if __name__ == "__main__":
    main()
