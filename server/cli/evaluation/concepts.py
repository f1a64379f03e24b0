"""Conceptual questions with a checkable answer, for measuring step-back prompting.

Step-back (ask for the governing principle first) is meant for questions decided by a rule of
the language rather than by a long computation. CRUXEval asks only execution questions ("What
does f(x) return?"), so for each function whose arguments include a list, dict or set this asks
a conceptual one about the same call, "Does calling f(x) change any of its arguments in
place?", whose true answer comes from running f and comparing its arguments' repr before and
after the call (in a subprocess, as related.py does). On the dev split's first 200 items 32
calls mutate and 38 do not.
"""

from __future__ import annotations

import ast

from server.cli.evaluation.related import run_python

_MUTATES = """
import json, sys
ns = {}
exec(sys.stdin.read(), ns)
args = eval("(" + sys.argv[1] + ",)", {})
before = repr(args)
ns["f"](*args)
print(json.dumps(repr(args) != before))
"""


def mutation_item(item: dict) -> dict | None:
    """The conceptual question about this item's call, or None when no argument is a
    container or f raises, hangs or prints."""
    try:
        args = ast.literal_eval(f"({item['input']},)")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not any(isinstance(a, list | dict | set) for a in args):
        return None
    mutates = run_python(_MUTATES, item["code"], item["input"])
    if mutates is None:
        return None
    return {
        **item,
        "id": f"{item.get('id', '')}-mutates",
        "question": f"Does calling f({item['input']}) change any of its arguments in place? "
        "Answer True or False.",
        "output": repr(bool(mutates)),
        "yes_no": True,
    }
