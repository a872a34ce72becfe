"""The symmetry answer of an identification: space-group votes of the fitted candidates, weighted by how well
each fits, with the network's probabilities as a prior (host side, NumPy).

p(SG) ∝ Σ_c [exp(−(Rwp_c − Rwp_min)/τ) / Z + β·p_net(SG_c)]·δ(SG, SG_c) + γ·δ(SG, argmax p_net)

Candidates that fit almost as well as the best share its vote (two polymorph entries of one mineral, a
solid-solution member and its end member); the network breaks near ties and keeps a say where the library
has nothing close. τ, β, γ were chosen on half of rruff_dev and checked on the other half (a recipe choice,
written down in results/identify/README.md); no threshold is set on measurements.

When no candidate passes the match test, the answer is argmax (1 − w)·p_network + w·p_vote
(:func:`no_match_ranking`): the failed fits still know something (the right mineral's neighbours fit
better than strangers) but are not evidence enough to name a phase. w = 0.8 was chosen on rruff_dev's halves
(benchmarks/identify_fallback.py; results/identify/README.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class VoteSettings:
    """τ (Rwp units), β (weight of the network's p(SG) per candidate), γ (bonus of the network's top group)."""
    tau: float = 0.02
    network_weight: float = 0.5
    network_top_bonus: float = 0.2
    #: w of :func:`no_match_ranking` (0: the network alone answers when nothing matches)
    no_match_vote_weight: float = 0.8


def space_group_votes(candidates: list[dict], p_net_sg: np.ndarray, settings: VoteSettings = VoteSettings()):
    """float[230] (index = number − 1), summing to 1: the vote over space groups (module docstring)."""
    p = np.zeros(230)
    if candidates:
        rwp = np.array([c["rwp"] for c in candidates], np.float64)
        w = np.exp(-(rwp - rwp.min()) / settings.tau)
        w /= w.sum()
        for c, wi in zip(candidates, w):
            g = c["space_group"]["number"] - 1
            p[g] += wi + settings.network_weight * float(p_net_sg[g])
    p[int(np.argmax(p_net_sg))] += settings.network_top_bonus
    return p / p.sum()


def no_match_ranking(votes: np.ndarray, p_net_sg: np.ndarray, settings: VoteSettings = VoteSettings()) -> np.ndarray:
    """float[230]: (1 − w)·p_network + w·votes, the symmetry answer's ranking when nothing matched."""
    w = settings.no_match_vote_weight
    return (1 - w) * np.asarray(p_net_sg, np.float64) + w * votes
