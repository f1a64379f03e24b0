"""Memory's retrieval threshold with the real all-MiniLM-L6-v2 embedder on real LanceDB: another
short function asked the usual question is not shown (at 0.75 it was, and cost right answers:
docs/evaluation.md, "Memory on related questions"); the same code asked in other words is."""

from ponder.memory.embedder import make_embedder
from ponder.memory.store import TraceStore

INSERT = """def f(array, elem):
    k = 0
    l = array.copy()
    for i in l:
        if i > elem:
            array.insert(k, elem)
            break
        k += 1
    return array"""

INDEX = """def f(array, elem):
    if elem in array:
        return array.index(elem)
    return -1"""


def test_another_function_is_not_retrieved_and_a_reworded_question_is(tmp_path):
    store = TraceStore(tmp_path / "mem", make_embedder("minilm")).open()
    store.add({"question": "What does f([5, 4, 3, 2, 1, 0], 3) return?", "code": INSERT,
               "answer": "[3, 5, 4, 3, 2, 1, 0]", "rationale": "3 is inserted first"})  # fmt: skip
    other = store.search("What does f([1, 7, 2, 6], 6) return?", INDEX, threshold=0.0)
    assert len(other) == 1 and 0.7 < other[0]["similarity"], other  # near, as measured
    assert store.search("What does f([1, 7, 2, 6], 6) return?", INDEX) == []
    reworded = store.search("Work out the value returned by f([5, 4, 3, 2, 1, 0], 3).", INSERT)
    assert [m["answer"] for m in reworded] == ["[3, 5, 4, 3, 2, 1, 0]"]
