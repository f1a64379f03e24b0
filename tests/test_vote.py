import pytest

from ponder.agent.vote import NO_ANSWER, Ballot, decided, vote


def p(answer, score=0.5):
    return Ballot(answer, "why", score)


def test_majority_wins_and_confidence_is_share():
    result = vote([p("[1, 2]"), p("[1,2]"), p("[2, 1]"), p("[1, 2 ]"), p("")])
    assert result.winner.answer.replace(" ", "") == "[1,2]"
    assert result.share == 3 / 5 and result.agree == 3
    assert sum(g.count for g in result.groups) == 5


def test_tie_broken_by_path_confidence_then_order():
    result = vote([p("1", 0.2), p("2", 0.9), p("1", 0.2), p("2", 0.9)])
    assert result.winner.answer == "2"
    result = vote([p("1", 0.5), p("2", 0.5)])
    assert result.winner.answer == "1"


def test_similar_text_answers_merge():
    def similar(a, b):
        return "sort" in a.lower() and "sort" in b.lower()

    result = vote([p("It sorts the list"), p("Sorts items ascending"), p("It reverses")], similar)
    assert result.winner.count == 2


def test_no_answers_no_winner():
    result = vote([p(""), p("  ")])
    assert result.winner is None and result.share == 0.0


def test_weighted_votes_follow_the_margins():
    paths = [p("1", 0.1), p("1", 0.1), p("2", 0.9)]
    assert vote(paths).winner.answer == "1"
    weighted = vote(paths, weighted=True)
    assert weighted.winner.answer == "2" and weighted.share == pytest.approx(0.9 / 1.1)


def test_text_wins_over_a_python_value_only_with_more_paths():
    # "###the cow goes moo" is not a value: with as many paths as 'cow', and more weight, it loses.
    tied = [
        p("###the cow goes moo", 0.99),
        p("###the cow goes moo", 0.99),
        p("'cow'", 0.2),
        p("'cow'", 0.2),
    ]
    result = vote(tied, weighted=True)
    assert result.winner.answer == "'cow'" and result.groups[0] is result.winner
    assert result.share == pytest.approx(0.4 / 2.38)
    more = [*tied, p("###the cow goes moo", 0.1)]
    assert vote(more, weighted=True).winner.answer == "###the cow goes moo"
    assert vote([p("it is sorted"), p("it is sorted")]).winner.answer == "it is sorted"


def test_decided_when_the_rest_cannot_catch_up():
    a, b = ("value", 1), ("value", 2)
    assert decided([a, a, a], 2)  # 3-0 with 2 to come
    assert not decided([a, a, b], 2)  # 2-1 with 2 to come
    assert decided([a, a, b], 0)
    assert not decided([NO_ANSWER, NO_ANSWER, NO_ANSWER], 1)
