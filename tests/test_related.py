"""Related questions for the memory protocol: mutated inputs, true outputs by running f."""

from server.cli.evaluation import related


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
