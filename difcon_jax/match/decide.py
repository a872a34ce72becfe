"""The symmetry answer of an identification: space-group votes of the fitted candidates, weighted by how well
each fits, with the network's probabilities as a prior (host side, NumPy).

p(SG) ∝ Σ_c [exp(−(Rwp_c − Rwp_min)/τ) / Z + β·p_net(SG_c)]·δ(SG, SG_c) + γ·δ(SG, argmax p_net)

(and, in the ranking of a matched pattern, + ε·p_net(SG), ε = 10⁻⁶: :func:`matched_ranking`).

Candidates that fit almost as well as the best share its vote (two polymorph entries of one mineral, a
solid-solution member and its end member); the network breaks near ties and keeps a say where the library
has nothing close. τ, β, γ were chosen on half of rruff_dev and checked on the other half (a recipe choice,
written down in results/identify/README.md); no threshold is set on measurements.

When no candidate passes the match test the phase is, on the evidence, one the library does not hold, and the
answer is the network's: its p(SG) corrected to the population of the training table (the natural prior, not the
library's: the library's composition says nothing about a phase outside it), with the library neighbours' votes
as ``predict`` blends them, the failed fits' vote mixed in with weight w (:func:`no_match_ranking`; 0 — shown
apart, marked unverified), and the Bayes decision taken in two steps (:func:`two_step_answer`: the crystal
system of largest total probability, then its most probable group). Until 2026-12-01 it was the library's
prior, w = 0.8 and the plain argmax (chosen with older networks); rruff_dev's halves chose the change
(results/identify/README.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from difcon_jax.crystal.symmetry import crystal_system_of

#: weight of the network's p(SG) that ranks the groups no fitted candidate votes for (after every voted one)
NETWORK_TAIL = 1e-6

#: crystal system (0–6) of each space group, index = number − 1
_SYSTEM_OF = np.array([crystal_system_of(g) for g in range(1, 231)])


@dataclasses.dataclass(frozen=True)
class VoteSettings:
    """τ (Rwp units), β (weight of the network's p(SG) per candidate), γ (bonus of the network's top group)."""
    tau: float = 0.02
    network_weight: float = 0.5
    network_top_bonus: float = 0.2
    #: w of :func:`no_match_ranking` (0: the network alone answers when nothing matches)
    no_match_vote_weight: float = 0.0
    #: the space-group prior of the network's answer when nothing matches (``Predictor`` prior names)
    no_match_prior: str = "natural"


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


def matched_ranking(votes: np.ndarray, p_net_sg: np.ndarray) -> np.ndarray:
    """float[230]: the ranking of a matched pattern — the vote, then the groups no candidate stands for in the
    network's order (weight :data:`NETWORK_TAIL`, far below any vote: a top-5 list holds five groups, and the
    answer is the vote's). On rruff_dev's records: SG top-5 0.743 → 0.752, +0.9 points on each half."""
    r = np.asarray(votes, np.float64) + NETWORK_TAIL * np.asarray(p_net_sg, np.float64)
    return r / r.sum()


def no_match_ranking(votes: np.ndarray, p_net_sg: np.ndarray, settings: VoteSettings = VoteSettings()) -> np.ndarray:
    """float[230]: (1 − w)·p_network + w·votes, the symmetry answer's ranking when nothing matched."""
    w = settings.no_match_vote_weight
    return (1 - w) * np.asarray(p_net_sg, np.float64) + w * votes


def two_step_answer(ranking: np.ndarray) -> int:
    """Space-group number (1–230) answering a ranking float[230] (index = number − 1): the crystal system of
    largest total probability, then the most probable group within it — the Bayes decision for the system,
    and a group consistent with it (a plain argmax can name a group whose system holds less mass)."""
    r = np.asarray(ranking, np.float64)
    system = int(np.argmax(np.bincount(_SYSTEM_OF, r, minlength=7)))
    return int(np.argmax(np.where(_SYSTEM_OF == system, r, -np.inf))) + 1
