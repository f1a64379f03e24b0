"""The engine's text bookkeeping (no model): where a path's answer line ends."""

from ponder.agent.engine import Completion, _cut_after_answer_line


def path(text):
    words = text.split(" ")
    c = Completion(text="")
    for w in words:
        c.offsets.append(len(c.text))
        c.text += ("" if not c.tokens else " ") + w
        c.tokens.append(len(c.tokens))
        c.probs.append(1.0)
        c.margins.append(1.0)
    return c


def test_the_answer_line_ends_the_path():
    c = path("x is 2\nANSWER: 4\nmore text")
    assert _cut_after_answer_line(c, "ANSWER:")
    assert c.text == "x is 2\nANSWER: 4" and len(c.tokens) == len(c.offsets) == 4


def test_an_empty_tag_line_lets_a_free_path_write_a_block_below():
    c = path("ANSWER:\n```\ncode\n```")
    assert not _cut_after_answer_line(c, "ANSWER:")


def test_a_concluding_path_ends_at_its_first_line_of_answer():
    c = path("ANSWER:\n\nit returns 4\nand more")
    assert _cut_after_answer_line(c, "ANSWER:", concluding=True)
    assert c.text == "ANSWER:\n\nit returns 4"


def test_no_tag_no_cut():
    c = path("just reasoning\nmore")
    assert not _cut_after_answer_line(c, "ANSWER:") and c.text == "just reasoning\nmore"


def test_span_confidence_of_an_empty_path_is_zero():
    assert Completion(text="").span_confidence(0, 0) == 0.0
