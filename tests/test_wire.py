"""The typed results on the wire: camelCase JSON out, the same object back, what the editor is
not sent stays home, and a bad field is refused by its path."""

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from ponder.agent.results import (
    Agreement,
    Answer,
    Candidate,
    Check,
    Recalled,
    Signal,
    Stored,
    Usage,
)
from ponder.server.wire import parse, to_wire

ANSWER = Answer(
    id="a1",
    answer="[1, 2]",
    confidence=0.88,
    agreement=Agreement(5, 6),
    verdict="confident",
    principle="loops run once per item",
    rationale="x = 1\nANSWER: [1, 2]",
    candidates=[Candidate("[1, 2]", 5), Candidate("[2]", 1)],
    memories=[Recalled("m1", "What does g(2) return?", "4", 0.91)],
    usage=Usage(prompt_tokens=120, completion_tokens=64, seconds=1.25),
    model="qwen2.5-coder-1.5b + traces",
    strategy="self_consistency",
    signal=Signal("agreement", 0.8333),
    question="What does f([1, 2]) return?",
    code="def f(xs): ...",
    language="python",
    path="/w/a.py",
    symbol="f",
)


def test_an_answer_goes_out_in_the_documented_shape_and_comes_back_the_same():
    wire = to_wire(ANSWER)
    assert set(wire) == {"id", "answer", "confidence", "agreement", "verdict", "principle",
                         "rationale", "candidates", "memories", "usage", "model", "strategy",
                         "signal", "uncalibrated", "checked"}  # fmt: skip
    assert wire["usage"] == {"promptTokens": 120, "completionTokens": 64, "seconds": 1.25}
    assert wire["agreement"] == {"agree": 5, "paths": 6}
    assert wire["candidates"][1] == {"answer": "[2]", "count": 1}
    assert wire["memories"][0]["similarity"] == 0.91
    assert wire["signal"] == {"kind": "agreement", "value": 0.8333}
    back = parse(Answer, wire)
    # What was asked about stays on the server (ponder/accept stores it): defaults on the way back.
    assert back == Answer(**{**ANSWER.__dict__, "question": "", "code": "", "language": "",
                             "path": "", "symbol": None})  # fmt: skip


def test_a_checked_answer_carries_the_check_there_and_back():
    checked = Answer(
        **{**ANSWER.__dict__, "checked": Check("refuted", "[1]", "line 3 stops early")}
    )
    wire = to_wire(checked)
    assert wire["checked"] == {
        "verdict": "refuted",
        "actual": "[1]",
        "explanation": "line 3 stops early",
    }
    assert parse(Answer, wire).checked == checked.checked
    assert to_wire(ANSWER)["checked"] is None


def test_a_stored_trace_goes_out_camel_cased():
    assert to_wire(Stored("t1", updated=True)) == {"memoryId": "t1", "updated": True}
    assert parse(Stored, {"memoryId": "t1", "updated": False}) == Stored("t1", False)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"agreement": {"agree": 1, "paths": "six"}}, "agreement.paths must be a number"),
        ({"usage": {"promptTokens": 1, "completionTokens": 1}}, "usage.seconds is required"),
        ({"verdict": "sure"}, "verdict"),
        ({"signal": {"kind": "vibes", "value": 0.5}}, "signal.kind"),
        ({"candidates": [{"answer": 3, "count": 1}]}, "candidates.0.answer must be a string"),
    ],
)
def test_a_bad_field_is_refused_by_its_path(change, said):
    with pytest.raises(JsonRpcInvalidParams, match=said.replace(".", r"\.")):
        parse(Answer, {**to_wire(ANSWER), **change})
