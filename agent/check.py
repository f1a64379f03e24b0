"""Check by running: an answer to "what does f(…) return?" compared with what running the call
gives. The document's code and the call run only in a confined child (agent/confine.py, through
the tracer): ponder's own interpreter, `python -I`, so the code's imports resolve against the
standard library and ponder's environment, never the workspace's. The model's text is never
run: the call comes from the user's question, the answer is parsed as a literal."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Literal

from ponder.agent.errors import PonderError
from ponder.agent.evaluation.harness import score
from ponder.agent.learning.tracer import trace_call

# "What does f(x) return?", "what will g(1, 2) give", "What is the output of f('a')?"
_CALL = re.compile(
    r"^\s*what\s+(?:(?:does|will|would)\s+(?P<a>.+?)\s+(?:return|give|output|evaluate\s+to)"
    r"|is\s+(?:the\s+)?(?:output|result|value|return\s+value)\s+of\s+(?P<b>.+?))\s*\??\s*$",
    re.I,
)


def call_in(question: str) -> str | None:
    """The call a value question asks about ("f([1, 2])"), when it is one Python call."""
    found = _CALL.match(question)
    text = found and (found.group("a") or found.group("b")).strip().strip("`")
    if not text:
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    return text if isinstance(tree.body, ast.Call) else None


Outcome = Literal["verified", "refuted", "could not run"]


@dataclass(frozen=True)
class Checked:
    verdict: Outcome
    actual: str  # the value running gives (repr), "raises E: …", or why it could not run
    trace: str  # the executed lines (agent/learning/tracer.py), for the second look


def check(code: str, question: str, answer: str) -> Checked:
    """Run the question's call after the code, confined, and compare with `answer`."""
    call = call_in(question)
    if call is None:
        raise PonderError(
            'only an answer to a question like "What does f(…) return?" can be checked by running'
        )
    run = trace_call(code, call)
    if run.output is not None:
        same: Outcome = "verified" if score(run.output, answer) else "refuted"
        return Checked(same, run.output, run.text)
    if run.error.startswith("stopped:") or not run.steps:  # it never got to run the call
        return Checked("could not run", run.error, run.text)
    raised = f"raises {run.error}"
    named = run.error.split(":")[0]
    said: Outcome = "verified" if named and named.lower() in answer.lower() else "refuted"
    return Checked(said, raised, run.text)
