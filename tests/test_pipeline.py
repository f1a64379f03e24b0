import threading
from dataclasses import replace

import pytest

from ponder.agent.errors import Cancelled
from ponder.agent.fake_engine import ScriptedEngine
from ponder.agent.pipeline import Events, Task, run
from ponder.agent.prompts import chain_of_thought
from ponder.agent.results import Agreement, Candidate, Signal
from ponder.agent.settings import ReasonSettings

CODE = "def f(x):\n    return x[::-1]\n"


class Heard(Events):
    """A request's events, written down: the phases (and "heard ANSWER" for a first answer),
    and the reasoning as it streamed."""

    def __init__(self, phases: list, streamed: list | None = None):
        self.phases, self.streamed = phases, streamed if streamed is not None else []

    def progress(self, message, percentage=None):
        self.phases.append(message)

    def reasoning(self, text):
        self.streamed.append(text)

    def first_answer(self, answer):
        self.phases.append(f"heard {answer}")


def task(**options):
    options.setdefault("strategy", "greedy")
    return Task(
        "What does f('ab') return?", CODE, "f.py", "python", 0, 0, ReasonSettings(**options)
    )


def test_greedy_single_path():
    engine = ScriptedEngine(["x is 'ab', reversed.\nANSWER: 'ba'"])
    phases = []
    answer = run(task(), engine, events=Heard(phases))
    assert phases[0] == "thinking" and "voting" not in phases  # one path: nothing to vote on
    assert answer.answer == "'ba'" and answer.candidates == [Candidate("'ba'", 1)]
    assert answer.rationale == "x is 'ab', reversed."
    assert engine.calls[0]["k"] == 1 and engine.calls[0]["temperature"] == 0.0
    prompt = engine.calls[0]["messages"][-1]["content"]
    assert "def f(x)" in prompt and "Trace the execution" in prompt and "ANSWER:" in prompt


def test_self_consistency_votes_and_reports_progress():
    engine = ScriptedEngine(["ANSWER: 'ba'", 'ANSWER: "ba"', "ANSWER: 'ab'"])
    phases = []
    answer = run(
        task(strategy="self_consistency", samples=3),
        engine,
        events=Heard(phases),
    )
    assert answer.answer in ("'ba'", '"ba"') and answer.agreement == Agreement(2, 3)
    assert sum(c.count for c in answer.candidates) == 3
    assert (
        engine.calls[0]["k"] == 3 and engine.calls[0]["temperature"] == ReasonSettings().temperature
    )
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
    assert sum(c.count for c in answer.candidates) == 3


def test_truncated_path_is_asked_for_its_answer():
    engine = ScriptedEngine(["one two three four five six", "'ba'"])
    answer = run(task(max_tokens=3), engine)
    assert len(engine.calls) == 1  # concluded inside the same generation
    assert answer.answer == "'ba'"


def test_every_self_consistency_path_is_made_to_conclude():
    engine = ScriptedEngine(["a b c d e f", "'ba'"])
    answer = run(task(strategy="self_consistency", samples=2, max_tokens=3), engine)
    assert answer.answer == "'ba'" and answer.agreement == Agreement(2, 2)


def test_greedy_path_votes_in_self_consistency():
    engine = ScriptedEngine(["ANSWER: 'ba'"])
    run(task(strategy="self_consistency", samples=3), engine)
    assert engine.calls[0]["greedy_first"] is True
    run(task(strategy="self_consistency", samples=3, include_greedy=False), engine)
    assert engine.calls[1]["greedy_first"] is False


def test_on_a_cpu_the_greedy_path_goes_first_and_its_answer_shows_before_the_vote():
    cpu = ScriptedEngine(["x reversed.\nANSWER: 'ba'", "ANSWER: 'ab'", "ANSWER: 'ba'"])
    cpu.batches_cheaply = False
    phases, streamed = [], []
    answer = run(
        task(strategy="self_consistency", samples=3),
        cpu,
        events=Heard(phases, streamed),
    )
    assert [(c["k"], c["temperature"]) for c in cpu.calls] == [(1, 0.0), (2, 0.5)]
    first = "first answer 'ba' · checking with 2 more paths"
    assert phases.index("thinking") < phases.index(first) < phases.index("voting")
    assert phases.index("heard 'ba'") < phases.index("voting")
    assert streamed[-1] == "x reversed.\nANSWER: 'ba'"  # only the greedy path streams
    assert answer.answer == "'ba'" and answer.agreement == Agreement(2, 3)
    # Early stopping counts the greedy path's vote: 1 and 1 decide it, the long 2 is stopped.
    cpu = ScriptedEngine(["ANSWER: 1", "ANSWER: 1", "a b c d e f ANSWER: 2"])
    cpu.batches_cheaply = False
    answer = run(task(strategy="self_consistency", samples=3, early_stop=True), cpu)
    assert answer.answer == "1" and sum(c.count for c in answer.candidates) == 2
    # `schedule` overrides the engine's default; a GPU (batches cheaply) gets one batch.
    cpu = ScriptedEngine(["ANSWER: 1"])
    cpu.batches_cheaply = False
    run(task(strategy="self_consistency", samples=3, schedule="batch"), cpu)
    gpu = ScriptedEngine(["ANSWER: 1"])
    run(task(strategy="self_consistency", samples=3), gpu)
    assert [c["k"] for c in cpu.calls] == [c["k"] for c in gpu.calls] == [3]
    run(task(strategy="self_consistency", samples=3, schedule="greedy_first"), gpu)
    assert [c["k"] for c in gpu.calls] == [3, 1, 2]


def test_prose_to_an_open_question_is_not_checked_by_more_paths():
    prose = "Call it with an empty string and with a palindrome, and compare both results"
    cpu = ScriptedEngine(
        [
            f"It reverses.\nANSWER: {prose}",
            "ANSWER: Write pytest cases that cover the edge cases of slicing",
        ]
    )
    cpu.batches_cheaply = False
    heard = []
    options = ReasonSettings(strategy="auto", samples=6)
    open_question = Task("How would you test f?", CODE, "f.py", "python", 0, 0, options)
    answer = run(open_question, cpu, events=Heard(heard))
    assert [c["k"] for c in cpu.calls] == [1]  # no "checking with 5 more paths"
    assert "thinking" in heard and not any(h.startswith("heard") for h in heard)
    assert answer.answer == prose and answer.strategy == "greedy"
    assert answer.verdict == "unchecked" and answer.agreement == Agreement(1, 1)
    # Asked for self_consistency ("ask again with more samples"), the paths vote on it.
    asked = replace(open_question, options=replace(options, strategy="self_consistency"))
    answer = run(asked, cpu)
    assert [c["k"] for c in cpu.calls] == [1, 1, 5] and answer.strategy == "self_consistency"
    assert answer.verdict == "unchecked"
    # A yes or no in a sentence, a short word, a value: the other paths still vote.
    for said in ("No, it fails on None because slicing needs a sequence", "slicing", "'ba'"):
        cpu = ScriptedEngine([f"ANSWER: {said}"])
        cpu.batches_cheaply = False
        answer = run(replace(open_question, question="Is f safe for None?"), cpu)
        assert [c["k"] for c in cpu.calls] == [1, 5] and answer.strategy == "self_consistency"
        assert answer.verdict == "uncertain"
    # Prose where a value was asked for: the samples may find the value.
    cpu = ScriptedEngine(["ANSWER: it gives back the letters of the input in reverse order"])
    cpu.batches_cheaply = False
    answer = run(task(strategy="auto", samples=6), cpu)
    assert [c["k"] for c in cpu.calls] == [1, 5] and answer.verdict == "uncertain"


def test_early_stop_ends_the_batch_once_the_majority_is_decided():
    # Paths finish shortest first: three short ones agree, so the two long ones cannot win.
    engine = ScriptedEngine(["ANSWER: 1", "ANSWER: 1", "a b c d e f ANSWER: 2", "ANSWER: 1",
                             "a b c d e f g ANSWER: 2"])  # fmt: skip
    answer = run(task(strategy="self_consistency", samples=5, early_stop=True), engine)
    assert answer.answer == "1" and answer.agreement == Agreement(3, 5)
    assert sum(c.count for c in answer.candidates) == 3  # the stopped paths did not vote


def test_without_early_stop_every_path_votes():
    engine = ScriptedEngine(["ANSWER: 1", "ANSWER: 1", "a b c d e f ANSWER: 2", "ANSWER: 1",
                             "a b c d e f g ANSWER: 2"])  # fmt: skip
    answer = run(task(strategy="self_consistency", samples=5), engine)
    assert sum(c.count for c in answer.candidates) == 5


def test_no_final_answer_is_never_an_empty_success():
    engine = ScriptedEngine(["ANSWER:", "ANSWER:"])
    answer = run(task(strategy="self_consistency", samples=2), engine)
    assert answer.answer.startswith("no final answer") and answer.verdict == "uncertain"
    assert answer.confidence is None and answer.uncalibrated == "no path reached a final answer"


def tables_for_scripted(monkeypatch, tables):
    """The fake engine's model ("scripted") given calibration tables, as a fitted model has."""
    from ponder.agent import calibration

    monkeypatch.setattr(
        calibration, "tables_for", lambda model, adapter=None: tables if model == "scripted" else {}
    )


def test_verdict_follows_the_calibrated_confidence(monkeypatch):
    tables_for_scripted(monkeypatch, {"self_consistency": [(0.0, 0.3), (0.9, 0.92)]})
    sc = {"strategy": "self_consistency", "samples": 3}
    unanimous = run(task(**sc), ScriptedEngine(["ANSWER: 1"]))
    assert unanimous.confidence == 0.92 and unanimous.verdict == "confident"
    split = run(task(**sc), ScriptedEngine(["ANSWER: 1", "ANSWER: 2"]))
    assert split.confidence == 0.3 and split.verdict == "uncertain"


def test_only_questions_about_what_running_the_code_gives_are_calibrated(monkeypatch):
    """The tables were fitted on "what does f(x) return?"; on True/False questions six paths
    agreed on a wrong answer 7 times of 11 (docs/evaluation.md), so those keep only the raw vote
    share, as their signal, and no confidence."""
    tables_for_scripted(monkeypatch, {"self_consistency": [(0.0, 0.3), (0.9, 0.92)]})
    options = ReasonSettings(strategy="self_consistency", samples=3)
    for question in ("Does f('ab') return one of its arguments itself?",
                     "Would f(xs) return the same value if xs were reversed?"):  # fmt: skip
        asked = Task(question, CODE, "f.py", "python", 0, 0, options)
        answer = run(asked, ScriptedEngine(["ANSWER: True"]))
        assert answer.confidence is None and answer.verdict == "uncertain"  # never confident
        assert answer.uncalibrated == "not calibrated for yes/no questions"
        assert answer.signal == Signal("agreement", 1.0)
    value = run(task(strategy="self_consistency", samples=3), ScriptedEngine(["ANSWER: True"]))
    assert value.confidence == 0.92 and value.verdict == "confident"  # "What does f('ab') return?"


def test_cancel_stops_the_pipeline():
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        run(task(), ScriptedEngine(), cancel=cancel)


def test_memories_are_earlier_turns_and_same_code_other_question_is_not_shown():
    other = {"id": "m1", "question": "What does g(1) return?", "code": "def g(x):\n    return x",
             "language": "python", "rationale": "x is 1", "answer": "1", "similarity": 0.8}  # fmt: skip
    same = {"id": "m2", "question": "What does f('xy') return?", "code": CODE.strip(),
            "language": "python", "rationale": "reversed", "answer": "'yx'", "similarity": 0.9}  # fmt: skip
    again = {**same, "id": "m3", "question": "What does f('ab') return?", "answer": "'ba'"}
    engine = ScriptedEngine(["ANSWER: 'ba'"])
    answer = run(task(), engine, recall=lambda q, c: [other, same, again])
    assert [m.id for m in answer.memories] == ["m1", "m3"]
    messages = engine.calls[0]["messages"]
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert "def g(x)" in messages[1]["content"] and "ANSWER: 1" in messages[2]["content"]
    assert "ANSWER: 'ba'" in messages[4]["content"]
    assert all("'xy'" not in m["content"] for m in messages)
    # For `ponder eval related --same-code`: the same code's other question is shown too.
    engine = ScriptedEngine(["ANSWER: 'ba'"])
    answer = run(task(), engine, recall=lambda q, c: [same], same_code="trace")
    assert [m.id for m in answer.memories] == ["m2"]
    assert "ANSWER: 'yx'" in engine.calls[0]["messages"][2]["content"]


def test_same_code_rule_shows_only_the_rule_of_the_code():
    same = {"id": "m2", "question": "What does f('xy') return?", "code": CODE.strip(),
            "language": "python", "rationale": "text[::-1] is 'yx'", "answer": "'yx'",
            "principle": "f returns its text reversed.", "similarity": 0.9}  # fmt: skip
    unruled = {**same, "id": "m3", "question": "What does f('pq') return?", "principle": ""}
    engine = ScriptedEngine(["ANSWER: 'ba'"])
    answer = run(task(), engine, recall=lambda q, c: [same, unruled], same_code="rule")
    assert [m.id for m in answer.memories] == ["m2"]
    messages = engine.calls[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]  # no earlier turns
    assert "f returns its text reversed." in messages[1]["content"]
    assert all(v not in messages[1]["content"] for v in ("'xy'", "'yx'", "'pq'"))


def test_the_default_is_self_consistency_with_the_greedy_path_voting():
    engine = ScriptedEngine(["ANSWER: 'ba'"])
    answer = run(Task("What does f('ab') return?", CODE, "f.py", "python", 0, 0), engine)
    assert answer.strategy == "self_consistency" and answer.agreement == Agreement(6, 6)
    assert engine.calls[0]["greedy_first"] is True and engine.calls[0]["temperature"] == 0.5


@pytest.mark.parametrize(
    ("question", "explains"),
    [
        (None, True),  # the default question: "Explain what the selected code does and why."
        ("reason about this", True),
        ("What does this function do?", True),
        ("Describe the loop", True),
        ("how does the selected code work?", True),
        ("what does this do?", True),
        ("Can you explain this?", True),
        ("Why does f return early?", True),  # a reason, not the value
        ("Find the bug", True),
        ("What's wrong with this loop?", True),
        ("Suggest a better name for this variable", True),
        ("Find the value of x after the loop", False),
        ("What is the value for x after the loop?", False),
        ("How many times does the loop run for f([1, 2])?", False),
        ("Is this thread-safe?", False),  # yes or no: the paths vote
        ("Explain what f('ab') returns", False),  # about running it: a value
        ("What does f('ab') return?", False),
        ("Does f mutate its argument?", False),
        ("What is the output of f('ab')?", False),
    ],
)
def test_by_default_an_explanation_gets_one_path_and_any_other_question_a_vote(question, explains):
    engine = ScriptedEngine(["ANSWER: it reverses x"])
    answer = run(Task(question, CODE, "f.py", "python", 0, len(CODE)), engine)
    paths = 1 if explains else ReasonSettings().samples
    assert engine.calls[0]["k"] == paths and answer.agreement.paths == paths
    assert answer.strategy == ("greedy" if explains else "self_consistency")
    # an explicit strategy is kept, whatever the question
    run(Task(question, CODE, "f.py", "python", 0, 0, ReasonSettings(strategy="self_consistency")),
        engine)  # fmt: skip
    assert engine.calls[-1]["k"] == ReasonSettings().samples


def test_free_text_answers_are_never_called_confident(monkeypatch):
    from ponder.agent import calibration

    tables_for_scripted(monkeypatch, calibration.TABLES["qwen2.5-coder-1.5b"])
    engine = ScriptedEngine(["ANSWER: it reverses the string"])
    answer = run(task(strategy="self_consistency", samples=3), engine)
    assert answer.agreement == Agreement(3, 3)
    assert answer.confidence is None and answer.verdict == "uncertain"
    assert answer.uncalibrated == "not calibrated: the answer is not a Python value"
    value = run(task(strategy="self_consistency", samples=3), ScriptedEngine(["ANSWER: 'ba'"]))
    assert value.verdict == "confident" and value.confidence < 1.0  # calibrated
    # Asked for an explanation (the default question), free text is "unchecked", not "uncertain".
    for strategy in ("auto", "self_consistency"):
        explained = run(
            replace(task(strategy=strategy, samples=3), question=None),
            ScriptedEngine(["ANSWER: it reverses the string"]),
        )
        assert explained.verdict == "unchecked" and explained.confidence is None
        assert explained.signal.value > 0 and explained.uncalibrated == "free text is not checked"
    asked_why = replace(task(), question="Why does f reverse x?")
    assert run(asked_why, ScriptedEngine(["ANSWER: 'ba'"])).verdict == "uncertain"  # a value


def test_a_model_without_its_own_table_is_never_confident():
    answer = run(task(strategy="self_consistency", samples=3), ScriptedEngine(["ANSWER: 'ba'"]))
    assert answer.agreement == Agreement(3, 3)
    assert answer.confidence is None and answer.verdict == "uncertain"  # not the 1.5B's 0.85
    assert answer.uncalibrated == "not calibrated for the model scripted"
    greedy = run(task(strategy="greedy"), ScriptedEngine(["ANSWER: 'ba'"]))
    assert greedy.confidence is None and greedy.signal.kind == "margin"


def test_a_table_applies_only_to_the_file_and_adapter_it_was_fitted_on(monkeypatch):
    from ponder.agent import calibration

    assert calibration.tables_for("qwen2.5-coder-1.5b")["self_consistency"]
    assert calibration.tables_for("qwen2.5-coder-1.5b", adapter="ab" * 32) == {}
    assert calibration.tables_for("qwen2.5-coder-0.5b") == {}
    monkeypatch.setitem(calibration.FITTED_ON, "qwen2.5-coder-1.5b", "0" * 64)  # another file
    assert calibration.tables_for("qwen2.5-coder-1.5b") == {}


@pytest.mark.parametrize(
    ("question", "hint"),
    [
        ("What does f('ab') return?", "value"),
        ("What is the output of f('ab')?", "value"),
        ("Does f('ab') return None?", None),
        ("Would f(xs) return the same value if xs were reversed? Answer True or False.", None),
        ("  is the value that f(xs) returns one of its arguments itself?", None),
        ("Why does f return early when x is empty?", None),
        (
            "What type of value does f('ab') return? Answer with the name of the Python type.",
            "type",
        ),
        ("What is the return type of f?", "type"),
        ("Which class does f('ab') return an instance of?", "type"),
        ("Explain what the selected code does and why.", None),
    ],
)
def test_questions_about_running_the_code_get_the_trace_hint_that_asks_for_what_they_ask(
    question, hint
):
    """A yes/no (or why) question that mentions returning was told to "give the exact return
    value", and the 1.5B then answered with a value instead of yes or no; a question for the
    value's type was too, and answered with the value."""
    prompt = chain_of_thought(question, CODE, "python")[-1]["content"]
    assert ("Trace the execution" in prompt) == (hint is not None)
    assert ("give the exact return value" in prompt) == (hint == "value")
    assert ("name of the returned value's type" in prompt) == (hint == "type")


def test_same_code_answer_shows_only_the_verified_question_and_answer():
    same = {"id": "m2", "question": "What does f('xy') return?", "code": CODE.strip(),
            "language": "python", "rationale": "text[::-1] is the reversed text", "answer": "'yx'",
            "similarity": 0.9}  # fmt: skip
    engine = ScriptedEngine(["ANSWER: 'ba'"])
    answer = run(task(), engine, recall=lambda q, c: [same], same_code="answer")
    assert [m.id for m in answer.memories] == ["m2"]
    messages = engine.calls[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]  # no earlier turns
    user = messages[1]["content"]
    assert "for another input: What does f('xy') return? It returned 'yx'." in user
    assert "reversed text" not in user  # the reasoning is not shown
    assert user.index("It returned 'yx'") > user.index("Question:")  # after the task
