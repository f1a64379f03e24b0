"""Check by running: an answer to "what does f(…) return?" compared with what running the call
gives. The document's code and the call run only in a confined child (agent/confine.py, through
the tracer): ponder's own interpreter, `python -I`, so the code's imports resolve against the
standard library and ponder's environment, never the workspace's. The model's text is never
run: the call comes from the user's question, the answer is parsed as a literal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ponder.agent import prompts
from ponder.agent.errors import PonderError
from ponder.agent.evaluation.harness import score
from ponder.agent.learning.tracer import trace_call

if TYPE_CHECKING:
    from ponder.agent.engine import Engine
    from ponder.agent.results import Answer

SECOND_LOOK_TOKENS = 256

Outcome = Literal["verified", "refuted", "could not run"]


@dataclass(frozen=True)
class AnsweredPath:
    """What a second look reads of an answer (an `Answer` has it too): for a saved path."""

    question: str
    answer: str
    rationale: str


@dataclass(frozen=True)
class Checked:
    verdict: Outcome
    actual: str  # the value running gives (repr), "raises E: …", or why it could not run
    trace: str  # the executed lines (agent/learning/tracer.py), for the second look


def check(code: str, question: str, answer: str) -> Checked:
    """Run the question's call after the code, confined, and compare with `answer`."""
    call = prompts.call_in(question)
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


def second_look(engine: Engine, code: str, answer: Answer | AnsweredPath, checked: Checked) -> str:
    """A refuted answer asked about once more, greedy: the real value and the executed trace
    beside the reasoning; the model's account of where they part."""
    messages = prompts.where_it_differs(
        answer.question, code, answer.answer, checked.actual, checked.trace, answer.rationale
    )
    said = engine.sample(messages, k=1, max_tokens=SECOND_LOOK_TOKENS)
    return said[0].text.strip()
