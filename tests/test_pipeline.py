import threading

import pytest

from agent.errors import Cancelled
from agent.fake_engine import ScriptedEngine
from agent.pipeline import Task, run
from agent.settings import ReasonSettings

CODE = "def f(x):\n    return x[::-1]\n"


def task(**options):
    return Task(
        "What does f('ab') return?", CODE, "f.py", "python", 0, 0, ReasonSettings(**options)
    )


def test_greedy_single_path():
    engine = ScriptedEngine(["x is 'ab', reversed.\nANSWER: 'ba'"])
    answer = run(task(), engine)
    assert answer.answer == "'ba'" and answer.candidates == [{"answer": "'ba'", "count": 1}]
    assert answer.rationale == "x is 'ab', reversed."
    assert engine.calls[0]["k"] == 1 and engine.calls[0]["temperature"] == 0.0
    prompt = engine.calls[0]["messages"][-1]["content"]
    assert "def f(x)" in prompt and "Trace the execution" in prompt and "ANSWER:" in prompt


def test_self_consistency_votes_and_reports_progress():
    engine = ScriptedEngine(["ANSWER: 'ba'", 'ANSWER: "ba"', "ANSWER: 'ab'"])
    phases = []
    answer = run(
        task(strategy="self_consistency", samples=3), engine, progress=lambda m, p: phases.append(m)
    )
    assert answer.answer in ("'ba'", '"ba"') and answer.confidence == pytest.approx(2 / 3, abs=1e-3)
    assert sum(c["count"] for c in answer.candidates) == 3
    assert engine.calls[0]["k"] == 3 and engine.calls[0]["temperature"] == 0.7
    assert phases[0] == "sampling 3 paths" and "voting" in phases


def test_step_back_adds_the_principle_to_the_prompt():
    engine = ScriptedEngine(["Slicing with step -1 reverses a sequence.", "ANSWER: 'ba'"])
    answer = run(task(step_back=True), engine)
    assert answer.principle == "Slicing with step -1 reverses a sequence."
    assert "Slicing with step -1" in engine.calls[1]["messages"][-1]["content"]


def test_cot_decoding_uses_branches():
    engine = ScriptedEngine(["ANSWER: 'ba'", "ANSWER: 'ab'", "ANSWER: 'ba'"])
    answer = run(task(strategy="cot_decoding", samples=3), engine)
    assert engine.calls[0]["kind"] == "branch" and answer.answer == "'ba'"
    assert sum(c["count"] for c in answer.candidates) == 3


def test_truncated_path_is_asked_for_its_answer():
    engine = ScriptedEngine(["one two three four five six", "'ba'"])
    answer = run(task(max_tokens=3), engine)
    assert engine.calls[1]["prefix"].endswith("ANSWER:")
    assert answer.answer == "'ba'"


def test_cancel_stops_the_pipeline():
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        run(task(), ScriptedEngine(), cancel=cancel)
