"""A Kα1-only measurement seen by the network with the Kα2 companion it was trained on (host side, NumPy).

A monochromated diffractometer (or a synchrotron-like single line) records each reflection once; a laboratory tube
records it twice, Kα1 and, at sin θ₂ = sin θ₁·λ₂/λ₁, Kα2 at half the intensity. The network was trained mostly on
the doublet (Cu Kα1 alone is 15 % of its draw, `configs/augment_real.py`), and reads single-line patterns worse:
on the textbook phases rendered by the independent simulator without Kα2 its space group is right 0.655 of the time
against 0.732 with it (5 renderings). The doublet is a fixed, known transform of the single line, so the network
is shown the measurement with its Kα2 companion added — what the same sample gives on a tube — while the fits,
the plots and every exported file keep the measurement as it is (their Kα2 ratio is refined, 0 included).

Which measurements lack Kα2 is read off the profile itself: on the high-angle lines, where the doublet is split by
more than a line's width, a doublet's profile overlaps its own copy moved from each Kα1 position to the Kα2 one
(sin θ scaled by λ₂/λ₁) more than it overlaps copies moved by half or one and a half times that (a bump in the
overlap at the doublet's own ratio), where a single line's overlap only falls with the distance
(:func:`ka2_score`). Left alone: lines broader than the split (no bump either way), profiles with no lines above
the noise at high angles (noise, correlated over neighbouring bins, overlaps like single lines) and single lines
split from their would-be companions by many widths (Mo Kα1 at laboratory resolution: the moves scored find
nothing to overlap).
"""

from __future__ import annotations

import numpy as np

from difcon_jax.crystal.radiation import KA2_RATIO, WAVELENGTHS, nearest_anode
from difcon_jax.grid import Grid
from difcon_jax.patterns.preprocess import noise_sigma

#: the lines counted (degrees 2θ on the grid): below, the doublet's split (0.1° at 40° for Cu) is within a line
LOW_DEG = 40.0
#: the score below which a profile counts as lacking Kα2: set on simulated laboratory patterns of the library's
#: validation-split minerals with and without the doublet (`python benchmarks/ka2_detection.py --n 1000`; never on
#: measurements): at most 0.5 % of 635 doublets flagged, 89.4 % of single-line patterns found
THRESHOLD = -0.02
#: the least energy of the profile above :data:`LOW_DEG`, in units of what its noise alone gives (n·σ²), for the score
#: to be read: noise's own short-range correlation makes a profile of noise alone score like single lines (rruff_dev
#: minerals with no lines above 40° scored down to −0.019 at an energy ~3× their noise's); a round number above
#: that, not tuned on any set
MIN_SIGNAL = 10.0
#: the companions' moves, in powers of λ₂/λ₁, whose overlaps make the score
_MOVES = (0.5, 1.0, 1.5)


def split_ratio(anode: str) -> float:
    """λ(Kα2) / λ(Kα1) of ``anode`` ('Cu', 'Co', 'Mo', …)."""
    return WAVELENGTHS[f"{anode}Ka2"] / WAVELENGTHS[f"{anode}Ka1"]


def moved(y: np.ndarray, grid: Grid, ratio: float) -> np.ndarray:
    """float[n_bins]: the profile ``y`` float[n_bins] on ``grid`` with each feature moved from 2θ to
    2 asin(ratio · sin θ) (Kα1 → Kα2 for ratio = λ₂/λ₁), read by linear interpolation."""
    t = grid.centres
    back = 2 * np.degrees(np.arcsin(np.clip(np.sin(np.radians(t) / 2) / ratio, 0.0, 1.0)))
    return np.interp(back, t, y)


def ka2_score(y: np.ndarray, weight: np.ndarray | None, grid: Grid, anode: str = "Cu") -> float:
    """The overlap of the profile ``y`` float[n_bins] (background removed) with its copy moved by the doublet's
    ratio, minus the mean of its overlaps with copies moved by half and one and a half times that, over the
    measured (``weight`` > 0; None: non-zero) bins above :data:`LOW_DEG`, relative to its own overlap: ≈ 0 or
    above for a doublet (or lines too broad to tell), negative for a single line; 0 where those bins hold less than
    :data:`MIN_SIGNAL` times their noise's energy (no lines to judge by)."""
    y = np.asarray(y, np.float64)
    measured = (np.asarray(weight) > 0) if weight is not None else (y != 0)
    m = (grid.centres >= LOW_DEG) & measured
    sigma = noise_sigma(y, measured)
    if np.sum((y * m) ** 2) < MIN_SIGNAL * max(int(m.sum()), 1) * sigma * sigma:
        return 0.0
    y = np.maximum(y, 0.0)
    own = float(np.sum((y * m) ** 2))
    if own <= 0:  # nothing above zero there
        return 0.0
    r = split_ratio(anode)
    a = [float(np.sum(y * m * moved(y, grid, r ** k))) / own for k in _MOVES]
    return a[1] - 0.5 * (a[0] + a[2])


def with_ka2(y: np.ndarray, grid: Grid, ratio: float = KA2_RATIO) -> np.ndarray:
    """float32[n_bins]: a single-line profile ``y`` with the Kα2 companions (``ratio`` of each line) of the grid's
    own anode added — the doublet of the tube the grid's λ_ref is the mean of (Cu), whatever line the measurement
    was taken with: on the grid every pattern reads as that tube's — scaled to a maximum of 1 as the model's
    inputs are."""
    y = np.asarray(y, np.float64)
    out = y + ratio * moved(y, grid, split_ratio(nearest_anode(grid.lambda_ref)))
    peak = out.max()
    return (out / peak if peak > 0 else out).astype(np.float32)


def network_view(x: np.ndarray, grid: Grid, weights: np.ndarray | None = None, anodes=None):
    """(profiles float32[B, n_bins] as the network is shown them, lacked bool[B]): each of ``x`` float[B, n_bins]
    whose :func:`ka2_score` (at the doublet of ``anodes[i]``, the file's tube, default the grid's; measured where
    ``weights[i]`` > 0, None: non-zero) is below :data:`THRESHOLD` gets Kα2 companions (:func:`with_ka2`); the
    others are returned unchanged."""
    x = np.asarray(x, np.float32)
    out, lacked = x.copy(), np.zeros(len(x), bool)
    for i, y in enumerate(x):
        anode = anodes[i] if anodes is not None else nearest_anode(grid.lambda_ref)
        if ka2_score(y, None if weights is None else weights[i], grid, anode) < THRESHOLD:
            out[i], lacked[i] = with_ka2(y, grid), True
    return out, lacked


#: what ``predict`` and ``identify`` print beside the network's lines when :func:`network_view` added Kα2
SHOWN_WITH_KA2 = "shown with Kα2 added: the measurement has single lines (a monochromated source)"
