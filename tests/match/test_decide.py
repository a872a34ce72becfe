"""The symmetry decision of an identification (``match/decide.py``)."""

import numpy as np

from difcon_jax.crystal.symmetry import crystal_system_of
from difcon_jax.match.decide import VoteSettings, matched_ranking, no_match_ranking, space_group_votes, two_step_answer


def test_two_step_answer_takes_the_system_of_most_mass_then_its_best_group():
    p = np.zeros(230)
    p[14 - 1] = 0.30  # P2₁/c: the single most probable group (monoclinic)
    for g, v in ((62, 0.2), (61, 0.15), (19, 0.15)):  # orthorhombic groups: 0.5 together
        p[g - 1] = v
    p[2 - 1] = 0.2  # P-1
    assert int(np.argmax(p)) + 1 == 14
    assert two_step_answer(p) == 62 and crystal_system_of(62) == crystal_system_of(19)
    # a system holding the most mass in one group: the same answer as the argmax
    q = np.full(230, 1e-4)
    q[225 - 1] = 0.9
    assert two_step_answer(q) == 225


def test_no_match_ranking_mixes_the_vote_only_with_a_weight():
    net = np.full(230, 1 / 230)
    net[166 - 1] += 0.5
    net /= net.sum()
    cands = [{"rwp": 0.5, "space_group": {"number": 12}}, {"rwp": 0.6, "space_group": {"number": 14}}]
    votes = space_group_votes(cands, net)
    assert np.isclose(votes.sum(), 1) and votes[12 - 1] > votes[14 - 1]
    assert np.allclose(no_match_ranking(votes, net), net)  # the shipped weight: the network alone
    mixed = no_match_ranking(votes, net, VoteSettings(no_match_vote_weight=0.8))
    assert np.allclose(mixed, 0.2 * net + 0.8 * votes) and int(np.argmax(mixed)) + 1 == 12


def test_matched_ranking_keeps_the_vote_and_fills_the_list_in_the_networks_order():
    net = np.linspace(1.0, 2.0, 230)
    net[[100, 50, 7, 3]] = [40.0, 30.0, 20.0, 10.0]  # the network's order among groups no candidate fits
    net /= net.sum()
    cands = [{"rwp": 0.20, "space_group": {"number": 14}}, {"rwp": 0.21, "space_group": {"number": 15}}]
    votes = space_group_votes(cands, net)
    voted = np.flatnonzero(votes > 0) + 1
    assert len(voted) == 3  # the two candidates' groups and the network's top group (101)
    ranking = matched_ranking(votes, net)
    order = list(np.argsort(-ranking, kind="stable")[:5] + 1)
    assert order[:3] == list(np.argsort(-votes, kind="stable")[:3] + 1)  # the vote decides, unchanged
    assert order[3:] == [51, 8]  # then the network's most probable groups not yet listed
    assert np.isclose(ranking.sum(), 1) and np.allclose(ranking, votes, atol=1e-5)
