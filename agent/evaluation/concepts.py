"""Conceptual questions with a checkable answer, for measuring step-back prompting.

Step-back (ask for the governing principle first) is meant for questions decided by a rule of
the language rather than by a long computation. CRUXEval asks only execution questions ("What
does f(x) return?"), so for each function whose arguments include a list, dict or set this asks
True/False questions about the same call that a rule of Python decides:

- mutates: "Does calling f(x) change any of its arguments in place?"
- aliases: "Is the value f(x) returns one of its arguments itself (not a copy)?"
- order: "Would f return the same value if the elements of its list argument were reversed?"
  (calls with a list argument of two or more different elements)

Their true answers come from running f (in a subprocess, as related.py does): the arguments'
repr before and after the call, `result is argument`, and a second call on the list reversed.
Of the dev split's first 200 items, 70 call f with a container: 32 of the calls mutate, 27 return
an argument, and 14 of the 48 with a list to reverse keep their result.

One more kind has a free answer rather than True/False, so a lean to "True" cannot score it:

- type: "What type of value does f(x) return?" (every call; the true answer is
  `type(f(x)).__name__`, the model's is the first type its answer names)
"""

from __future__ import annotations

import ast

from ponder.agent.evaluation.related import run_python

YES_NO_KINDS = ("mutates", "aliases", "order")  # what `--questions conceptual` asks
KINDS = (*YES_NO_KINDS, "type")

_FACTS = """
import json, sys
ns = {}
exec(sys.stdin.read(), ns)
call = "(" + sys.argv[1] + ",)"
args = eval(call, {})
before = repr(args)
result = ns["f"](*args)
facts = {"type": type(result).__name__, "mutates": repr(args) != before,
         "aliases": any(result is a for a in args if isinstance(a, (list, dict, set)))}
seen = repr(result)
again = eval(call, {})
lists = [a for a in again if isinstance(a, list) and len(set(map(repr, a))) > 1]
if lists:
    facts["reversed"] = repr(lists[0])
    lists[0].reverse()
    try:
        facts["order"] = repr(ns["f"](*again)) == seen
    except Exception:
        pass
print(json.dumps(facts))
"""


def _questions(call: str, reversed_list: str) -> dict[str, str]:
    return {
        "mutates": f"Does calling {call} change any of its arguments in place?",
        "aliases": f"Is the value that {call} returns one of its arguments itself (the same "
        "object, not a copy)?",
        "order": f"Would {call} return the same value if the elements of the list "
        f"{reversed_list} were in reverse order?",
        "type": f"What type of value does {call} return?",
    }


def _asked(kind: str, question: str, truth) -> dict:
    """The question as asked, its true answer and how an answer is scored (harness.score)."""
    if kind == "type":
        return {
            "question": f"{question} Answer with the name of the Python type.",
            "output": truth,
            "form": "type",
        }
    return {
        "question": f"{question} Answer True or False.",
        "output": repr(bool(truth)),
        "form": "yes_no",
    }


def conceptual_items(item: dict) -> list[dict]:
    """The conceptual questions about this item's call (one per kind whose truth could be
    found; the True/False kinds only when an argument is a container); none when f raises,
    hangs or prints."""
    try:
        args = ast.literal_eval(f"({item['input']},)")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return []
    facts = run_python(_FACTS, item["code"], item["input"])
    if facts is None:
        return []
    kinds = KINDS if any(isinstance(a, list | dict | set) for a in args) else ("type",)
    questions = _questions(f"f({item['input']})", facts.get("reversed", ""))
    return [
        {
            **item,
            "id": f"{item.get('id', '')}-{kind}",
            "kind": kind,
            **_asked(kind, questions[kind], facts[kind]),
        }
        for kind in kinds
        if kind in facts
    ]
