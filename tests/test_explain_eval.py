"""`ponder eval explain`: an explanation scored by what a reader predicts from it alone."""

from __future__ import annotations

import json
import re

import pytest

from ponder.agent.evaluation import explain
from ponder.agent.fake_engine import ScriptedEngine
from ponder.agent.settings import ReasonSettings

UPPER = {"id": "u1", "code": "def f(text):\n    return text.upper()", "input": "'abc'", "output": "'ABC'"}  # fmt: skip


class Reader(ScriptedEngine):
    """Explains with the script; as the reader, predicts upper case only when what it is shown
    says so (the code or an explanation), and otherwise echoes the argument."""

    def sample(self, messages, **kwargs):
        if messages[0]["content"] != explain.PREDICT_SYSTEM:
            return super().sample(messages, **kwargs)
        shown = messages[-1]["content"]
        arg = re.search(r"What does f\((.*)\) return\?", shown).group(1)
        value = arg.upper() if "upper" in shown.split("return?")[0].lower() else arg
        self.script, saved = [f"ANSWER: {value}"], self.script
        try:
            return super().sample(messages, **kwargs)
        finally:
            self.script = saved


def test_the_reader_sees_the_signature_and_the_explanation_never_the_body():
    asked = explain.prediction_prompt(UPPER["code"], "It shouts.", "f('x')")[-1]["content"]
    assert "def f(text):\n    ..." in asked and "It shouts." in asked
    assert "text.upper()" not in asked
    assert "text.upper()" in explain.prediction_prompt(UPPER["code"], UPPER["code"], "f('x')")[-1]["content"]  # fmt: skip
    assert explain.signature("import os\n\ndef f(a, b=[1], *c, d=2):\n    def g(): pass\n    return a") == "def f(a, b=[1], *c, d=2):"  # fmt: skip


def test_probes_are_new_inputs_with_the_outputs_running_gives():
    found = explain.probes(UPPER)
    assert len(found) == 3 and "'abc'" not in [args for args, _ in found]
    assert all(out == repr(eval(args).upper()) for args, out in found)  # noqa: S307 (our literals)
    raises = {"code": "def f(x):\n    raise ValueError(x)", "input": "1"}
    assert explain.probes(raises) == []


def test_an_explanation_that_says_what_the_code_does_scores_like_the_code():
    engine = Reader(["It returns the text in upper case.\nANSWER: the text, upper-cased"])
    scored = explain.score_item(engine, UPPER, ["greedy"], ReasonSettings())
    assert scored is not None
    assert scored.none.score == 0.0 and scored.code_shown.score == 1.0
    assert scored.methods["greedy"].score == 1.0
    assert "upper case" in scored.methods["greedy"].text
    vague = explain.score_item(Reader(["It transforms text.\nANSWER: text"]), UPPER, ["greedy"], ReasonSettings())  # fmt: skip
    assert vague is not None and vague.methods["greedy"].score == 0.0


def test_the_worked_explanation_is_asked_for_the_items_own_input_and_stays_one_path():
    class Asked(Reader):
        questions: list[tuple[str, int]] = []  # (the question, paths asked for)

        def sample(self, messages, **kwargs):
            if messages[0]["content"] != explain.PREDICT_SYSTEM:
                self.questions.append((messages[-1]["content"], kwargs.get("k", 1)))
            return super().sample(messages, **kwargs)

    engine = Asked(["For 'abc' it gives 'ABC': it upper-cases the text.\nANSWER: upper case"])
    scored = explain.score_item(engine, UPPER, ["worked"], ReasonSettings())
    assert scored is not None and scored.methods["worked"].score == 1.0
    ((question, paths),) = engine.questions
    assert "follow f('abc') line by line" in question and paths == 1  # one path, not a vote


def test_summary_pairs_methods_on_the_same_functions():
    def record(i, greedy, stepback):
        def scored(rights):
            return {"predictions": [{"right": r} for r in rights], "text": "", "seconds": 2.0}

        return {"id": f"i{i}", "code": "", "none": scored([0, 0, 0]), "code_shown": scored([1, 1, 1]),
                "methods": {"greedy": scored(greedy), "stepback": scored(stepback)}}  # fmt: skip

    records = [record(0, [1, 1, 0], [1, 1, 1]), record(1, [1, 0, 0], [0, 0, 0]), record(2, [1, 1, 1], [1, 1, 1])]  # fmt: skip
    s = explain.summary(records, ["greedy", "stepback"])
    assert s["greedy"]["score"] == pytest.approx(6 / 9) and s["stepback"]["score"] == pytest.approx(6 / 9)  # fmt: skip
    assert (s["stepback"]["wins"], s["stepback"]["losses"]) == (1, 1)
    assert s["greedy"]["none"] == 0.0 and s["greedy"]["code"] == 1.0
    low, high = s["stepback"]["score_ci"]
    assert 0.0 <= low < 6 / 9 < high <= 1.0


def test_the_command_writes_records_as_it_goes_and_resumes(tmp_path, capsys):
    from ponder.server.cli import main

    data = tmp_path / "items.jsonl"
    items = [UPPER, {**UPPER, "id": "u2", "code": "def f(s):\n    return s[::-1]"}]
    data.write_text("".join(json.dumps(i) + "\n" for i in items))
    out = tmp_path / "explain.jsonl"
    argv = ["eval", "explain", "--model", "scripted", "--data", str(data), "--out", str(out)]
    main([*argv, "--methods", "greedy"])
    printed = capsys.readouterr()
    assert re.search(
        r"RESULT n=2 method=greedy score=\S+ none=\S+ code=\S+ s_item=\S+", printed.out
    )
    lines = out.read_text().splitlines()
    assert json.loads(lines[0])["methods"] == ["greedy"] and len(lines) == 3
    assert "## u1" in out.with_suffix(".md").read_text()
    main([*argv, "--methods", "greedy"])  # nothing left to do: resumed, the same summary
    assert "2 already scored" in capsys.readouterr().err and len(out.read_text().splitlines()) == 3
    with pytest.raises(SystemExit):
        main([*argv, "--methods", "greedy,stepback"])
    assert "another model, adapter or --methods" in capsys.readouterr().err
