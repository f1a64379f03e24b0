"""Conceptual questions for step-back: mutation, aliasing, order (truth by running f)."""

import dataclasses

import pytest

from ponder.agent.evaluation import concepts, harness


def by_kind(item: dict) -> dict[str, dict]:
    return {q["kind"]: q for q in concepts.conceptual_items(item)}


def test_a_call_that_mutates_its_list_is_true_and_one_that_copies_is_false():
    appends = {"id": "s1", "code": "def f(xs):\n    xs.append(1)\n    return xs", "input": "[2]",
               "output": "[2, 1]"}  # fmt: skip
    copies = {"id": "s2", "code": "def f(xs):\n    return xs + [1]", "input": "[2]",
              "output": "[2, 1]"}  # fmt: skip
    a, b = by_kind(appends)["mutates"], by_kind(copies)["mutates"]
    assert a["output"] == "True" and b["output"] == "False"
    assert a["id"] == "s1-mutates" and "f([2])" in a["question"]
    assert harness.question_for(a) == a["question"]
    assert harness.question_for(appends) == "What does f([2]) return?"
    # Returning the list it appended to returns the argument itself; xs + [1] is a new list.
    assert by_kind(appends)["aliases"]["output"] == "True"
    assert by_kind(copies)["aliases"]["output"] == "False"
    assert "order" not in by_kind(appends)  # one element: reversing changes nothing


def test_order_is_true_when_reversing_the_list_keeps_the_result():
    total = {"id": "s3", "code": "def f(xs):\n    return sum(xs)", "input": "[1, 2, 3]",
             "output": "6"}  # fmt: skip
    first = {"id": "s4", "code": "def f(xs, n):\n    return xs[0] * n", "input": "[1, 2], 3",
             "output": "3"}  # fmt: skip
    assert by_kind(total)["order"]["output"] == "True"
    assert by_kind(first)["order"]["output"] == "False"
    assert "the list [1, 2] were in reverse order" in by_kind(first)["order"]["question"]
    # A call that raises on the reversed list has no order question; the others stay.
    picky = {"id": "s5", "code": "def f(xs):\n    return 1 / (xs[0] - 2)", "input": "[1, 2]",
             "output": "-1.0"}  # fmt: skip
    assert set(by_kind(picky)) == {"mutates", "aliases", "type"}


def test_calls_without_a_container_have_the_type_question_only_and_calls_that_raise_none():
    no_container = {"code": "def f(s):\n    return s", "input": "'ab'", "output": "'ab'"}
    raises = {"code": "def f(xs):\n    return xs[5]", "input": "[1]", "output": "0"}
    assert set(by_kind(no_container)) == {"type"}
    assert concepts.conceptual_items(raises) == []


def test_the_type_question_is_asked_of_every_call_and_scored_by_the_type_named():
    text = {"id": "s6", "code": "def f(s):\n    return s.split()", "input": "'a b'",
            "output": "['a', 'b']"}  # fmt: skip
    [question] = concepts.conceptual_items(text)  # no container: the type question only
    assert question["kind"] == "type" and question["output"] == "list"
    assert question["question"].startswith("What type of value does f('a b') return?")
    assert harness.score("list", "`list`", form="type")
    assert harness.score("list", "A list of strings.", form="type")
    assert harness.score("str", "<class 'str'>", form="type")
    assert harness.score("NoneType", "None", form="type")
    assert not harness.score("list", "['a', 'b']", form="type")  # the value, not its type
    assert not harness.score("list", "str", form="type")
    joins = {**text, "code": "def f(xs):\n    return ' '.join(xs)", "input": "['a', 'b']"}
    assert set(by_kind(joins)) == {"type", "mutates", "aliases", "order"}
    assert by_kind(joins)["type"]["output"] == "str"


def test_yes_no_answers_count_for_true_false_questions_only():
    assert harness.score("True", "Yes, it appends.", form="yes_no")
    assert harness.score("False", "false.", form="yes_no")
    assert not harness.score("False", "Yes", form="yes_no")
    assert not harness.score("True", "Yes")  # an execution question wants the literal


def test_the_conceptual_question_is_asked_as_written():
    from ponder.agent.fake_engine import ScriptedEngine
    from ponder.agent.settings import defaults

    item = by_kind(
        {
            "id": "s1",
            "code": "def f(xs):\n    xs.pop()\n    return xs",
            "input": "[1, 2]",
            "output": "[1]",
        }  # fmt: skip
    )["mutates"]
    engine = ScriptedEngine(["pop removes the last element of the list itself.\nANSWER: Yes"])
    options = dataclasses.replace(defaults().reason, strategy="greedy")
    [result] = harness.run_strategy([item], engine, "greedy", options)
    assert result.correct and result.expected == "True"
    assert "change any of its arguments in place" in engine.calls[0]["messages"][-1]["content"]


def test_the_command_asks_both_kinds_with_each_strategy(tmp_path, capsys):
    import json

    from ponder.server.cli import main

    data = tmp_path / "items.jsonl"
    rows = [
        {"id": "s1", "code": "def f(xs):\n    return xs", "input": "[1]", "output": "[1]"},
        {"id": "s2", "code": "def f(s):\n    return s", "input": "'a'", "output": "'a'"},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    main(["eval", "concepts", "--data", str(data), "--model", "scripted", "--strategies",
          "greedy,greedy+stepback"])  # fmt: skip
    captured = capsys.readouterr()
    assert "1 calls from" in captured.err  # s2 has no container argument
    assert "true: mutates 0 of 1, aliases 1 of 1)" in captured.err
    for kind in ("mutates", "aliases", "execution"):
        for name in ("greedy", "greedy+stepback"):
            assert f"RESULT n=1 question={kind} strategy={name} acc=" in captured.out
    assert "question=order" not in captured.out  # [1] has nothing to reverse
    main(["eval", "concepts", "--data", str(data), "--model", "scripted", "--strategies", "sc",
          "--questions", "aliases"])  # fmt: skip
    out = capsys.readouterr().out
    assert "question=aliases strategy=sc" in out
    assert "question=mutates" not in out and "question=execution" not in out
    with pytest.raises(SystemExit):
        main(["eval", "concepts", "--data", str(data), "--questions", "both"])
    err = capsys.readouterr().err
    assert "--questions 'both': use conceptual (mutates, aliases, order), type, execution" in err
    main(["eval", "concepts", "--data", str(data), "--model", "scripted", "--questions",
          "type"])  # fmt: skip
    captured = capsys.readouterr()
    assert "2 calls from" in captured.err  # every call has a type, with or without a container
    assert "RESULT n=2 question=type strategy=greedy acc=" in captured.out
