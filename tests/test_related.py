"""Related questions for the memory protocol: mutated inputs, true outputs by running f."""

import dataclasses

from ponder.agent.evaluation import related


def test_a_mutated_input_gets_its_true_output():
    item = {"id": "s1", "code": "def f(text, n):\n    return text * n", "input": "'ab', 2",
            "output": "'abab'"}  # fmt: skip
    b = related.related_item(item)
    assert b is not None and b["id"] == "s1-b" and b["input"] != item["input"]
    assert b["output"] == related.run_f(item["code"], b["input"]) != "'abab'"


def test_items_that_raise_hang_or_never_change_are_skipped():
    raises = {"code": "def f(x):\n    return 1 / 0", "input": "1", "output": "0"}
    hangs = {"code": "def f(x):\n    while True:\n        pass", "input": "1", "output": "0"}
    constant = {"code": "def f(x):\n    return 7", "input": "1", "output": "7"}
    assert related.related_item(raises) is None
    assert related.related_item(hangs) is None
    assert related.related_item(constant) is None


def test_mutants_are_small_and_typed():
    assert related._mutants(3) == [4, 2, 9]
    assert related._mutants("abc")[0] == "ab"
    assert related._mutants((1, 2))[0] == (1,)
    assert related._mutants({"a": 1, "b": 2}) == [{"b": 2}]


class ListStore:
    """A memory store that returns everything it holds (no embedding: enough for the protocol)."""

    def __init__(self):
        self.traces = []

    def add(self, trace):
        self.traces.append(trace)

    def search(self, question, code, k):
        return [{**t, "similarity": 0.9} for t in self.traces][:k]


def run(same_code):
    from ponder.agent.evaluation import harness
    from ponder.agent.fake_engine import ScriptedEngine
    from ponder.agent.settings import defaults

    item = {"id": "s1", "code": "def f(text, n):\n    return text * n", "input": "'ab', 2",
            "output": "'abab'"}  # fmt: skip
    engine = ScriptedEngine(["It repeats the text.\nANSWER: 'abab'"])
    options = dataclasses.replace(defaults().reason, strategy="greedy")
    results = harness.run_related([(item, related.related_item(item))], engine, options,
                                  ListStore(), same_code=same_code)  # fmt: skip
    return results[0], [len(c["messages"]) for c in engine.calls]


def test_b_is_asked_again_with_memory_only_when_the_trace_would_be_shown():
    result, calls = run(same_code="hide")
    # A, then B once: A's trace is of this code for another question, so the product hides it
    # and memory on is memory off (no second ask for the same prompt)
    assert result.a_correct and result.b_on == result.b_off and result.b_on_memories == 0
    assert len(calls) == 2
    result, calls = run(same_code="trace")
    assert result.b_on_memories == 1 and len(calls) == 3
    assert calls[2] > calls[1]  # shown as an earlier turn of the conversation


def test_with_rule_an_accepted_a_gets_its_rule_and_b_sees_only_that():
    result, calls = run(same_code="rule")
    # A, the rule derived from A's accepted trace, B off, B on with the rule as a note
    assert len(calls) == 4 and calls[3] == calls[2]  # no earlier turns: the same two messages
    assert result.rule == "It repeats the text." and result.b_on_memories == 1


def test_with_answer_b_sees_a_and_its_verified_answer_only():
    result, calls = run(same_code="answer")
    # A, B off, B on with A's question and answer as a note (no earlier turns)
    assert len(calls) == 3 and calls[2] == calls[1]
    assert result.a_correct and result.b_on_memories == 1


def test_the_same_code_flag_offers_exactly_the_pipeline_s_forms():
    # The parser spells the forms out instead of importing the pipeline (CLI start-up stays
    # light), so this keeps the two lists one.
    import argparse
    import typing

    from ponder.agent.pipeline import SameCode
    from ponder.server import cli

    def actions(p: argparse.ArgumentParser):
        for action in p._actions:
            yield action
            if isinstance(action.choices, dict):  # subcommands: their parsers
                for sub in action.choices.values():
                    yield from actions(sub)

    flag = next(a for a in actions(cli.build()) if "--same-code" in a.option_strings)
    assert list(flag.choices) == list(typing.get_args(SameCode))
