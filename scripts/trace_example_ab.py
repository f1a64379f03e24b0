"""Does one worked trace, shown as an earlier turn of the conversation, make greedy more accurate?

    python scripts/trace_example_ab.py OFFSET LIMIT OUT.json   # e.g. 0 100 results.json

Few-shot chain of thought: before a "What does f(x) return?" question, the model sees one made-up
function (not a CRUXEval item) asked the same way and answered with the trace the prompt asks for,
one line per step with the values that changed, and its ANSWER line. Each dev item is asked
greedily with and without it, in turn, through ponder's pipeline; OUT.json is rewritten after
every item. Last line printed: RESULT n=N plain=A example=B won=W lost=L.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent import prompts  # noqa: E402
from agent.services import make_engine  # noqa: E402
from agent.settings import ReasonSettings, Settings  # noqa: E402
from server.cli.evaluation import harness  # noqa: E402

EXAMPLE_QUESTION = """Code:
```python
def f(text, n):
    result = []
    for i, ch in enumerate(text):
        if ch.isdigit():
            result.append(int(ch) * n)
        elif i % 2 == 0:
            result.append(ch.upper())
    return result
```

Question: What does f('a1b2c', 3) return?"""
EXAMPLE_TRACE = """text = 'a1b2c', n = 3, result = []
i = 0, ch = 'a': not a digit; 0 % 2 == 0, so append 'A'. result = ['A']
i = 1, ch = '1': a digit, so append int('1') * 3 = 3. result = ['A', 3]
i = 2, ch = 'b': not a digit; 2 % 2 == 0, so append 'B'. result = ['A', 3, 'B']
i = 3, ch = '2': a digit, so append int('2') * 3 = 6. result = ['A', 3, 'B', 6]
i = 4, ch = 'c': not a digit; 4 % 2 == 0, so append 'C'. result = ['A', 3, 'B', 6, 'C']
The loop ends and f returns result.
ANSWER: ['A', 3, 'B', 6, 'C']"""

plain_prompt = prompts.chain_of_thought


def prompt_with_example(question, code, language, *args, **kwargs):
    messages = plain_prompt(question, code, language, *args, **kwargs)
    instructions = messages[-1]["content"].split("\n\n")[-1]  # the same instructions as the task
    example = [
        {"role": "user", "content": f"{EXAMPLE_QUESTION}\n\n{instructions}"},
        {"role": "assistant", "content": EXAMPLE_TRACE},
    ]
    return messages[:1] + example + messages[1:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("offset", type=int, help="dev items to skip")
    parser.add_argument("limit", type=int, help="dev items to ask")
    parser.add_argument("out", type=Path, help="the per-item results (JSON)")
    args = parser.parse_args()
    offset, limit, out = args.offset, args.limit, args.out
    items = harness.load_items(
        ROOT.parent / "shared" / "data" / "cruxeval-dev.jsonl", limit, offset
    )
    engine = make_engine(Settings(model="qwen2.5-coder-1.5b"))
    rows = []
    for n, item in enumerate(items, start=1):
        row = {"id": item["id"]}
        for variant, prompt in (("plain", plain_prompt), ("example", prompt_with_example)):
            prompts.chain_of_thought = prompt
            r = harness.run_strategy([item], engine, "greedy", ReasonSettings())[0]
            row[variant] = {"correct": r.correct, "tokens": r.tokens,
                            "seconds": round(r.seconds, 2), "prediction": r.prediction}  # fmt: skip
        rows.append(row)
        out.write_text(json.dumps(rows, indent=1))
        plain = sum(r["plain"]["correct"] for r in rows)
        example = sum(r["example"]["correct"] for r in rows)
        won = sum(r["example"]["correct"] and not r["plain"]["correct"] for r in rows)
        lost = sum(r["plain"]["correct"] and not r["example"]["correct"] for r in rows)
        print(f"RESULT n={n} plain={plain} example={example} won={won} lost={lost}", flush=True)


if __name__ == "__main__":
    main()
