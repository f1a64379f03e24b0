"""Check by running: the question's call, run confined after the document's code, against the
answer. The model's text is never run."""

import pytest

from ponder.agent import prompts
from ponder.agent.check import check
from ponder.agent.errors import PonderError
from ponder.agent.prompts import call_in

CHUNKED = '''def chunked(items, size):
    """Split items into lists of at most `size` elements."""
    chunks = []
    for start in range(0, len(items) - size, size):
        chunks.append(items[start:start + size])
    return chunks
'''
QUESTION = "What does chunked([1, 2, 3, 4, 5], 2) return?"


def test_the_call_is_read_from_a_value_question_only():
    assert call_in(QUESTION) == "chunked([1, 2, 3, 4, 5], 2)"
    assert call_in("what will `f('a b')` give") == "f('a b')"
    assert call_in("What is the output of g(x=1)?") == "g(x=1)"
    for not_one in ("Explain this function.", "What does this return?", "What does f return?",
                    "What does f(1) + g(2) return?", "What does f(1 return?"):  # fmt: skip
        assert call_in(not_one) is None, not_one


def test_the_issues_off_by_one_refutes_the_docstrings_answer_and_keeps_the_trace():
    checked = check(CHUNKED, QUESTION, "[[1, 2], [3, 4], [5]]")
    assert checked.verdict == "refuted" and checked.actual == "[[1, 2], [3, 4]]"
    assert "`for start in range(0, len(items) - size, size):` → no more items" in checked.trace
    assert check(CHUNKED, QUESTION, "[[1, 2], [3, 4]]").verdict == "verified"


def test_an_exception_is_a_result_and_compared_as_one():
    code = "def f(x):\n    return int(x)\n"
    raised = check(code, "What does f('a') return?", "1")
    assert raised.verdict == "refuted" and raised.actual.startswith("raises ValueError: invalid")
    assert check(code, "What does f('a') return?", "It raises a ValueError").verdict == "verified"


def test_code_that_cannot_load_or_run_says_so_and_claims_nothing():
    missing = check("import not_a_module\ndef f():\n    return 1\n", "What does f() return?", "1")
    assert missing.verdict == "could not run"
    assert missing.actual == "the code did not load: ModuleNotFoundError: No module named 'not_a_module'"  # fmt: skip
    forever = check("def f():\n    while True:\n        pass\n", "What does f() return?", "None")
    assert forever.verdict == "could not run" and forever.actual.startswith("stopped:")
    with pytest.raises(PonderError, match="only an answer to a question like"):
        check(CHUNKED, "Is there a bug in this function?", "no")


def test_the_second_look_shows_the_real_value_the_trace_and_the_reasoning():
    checked = check(CHUNKED, QUESTION, "[[1, 2], [3, 4], [5]]")
    asked = prompts.where_it_differs(
        QUESTION, CHUNKED, "[[1, 2], [3, 4], [5]]", checked.actual, checked.trace, "It splits."
    )[-1]["content"]
    assert "Running the code gives [[1, 2], [3, 4]]" in asked and checked.trace in asked
    assert "It splits.\nANSWER: [[1, 2], [3, 4], [5]]" in asked
