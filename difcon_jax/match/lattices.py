"""The algebra of each lattice powder indexing searches (host side, NumPy): the reciprocal-metric parameters θ
in which a line's Q = 1/d² (Å⁻²) is linear, their cell, volume, reflections and centrings
(:mod:`~difcon_jax.match.indexing` searches them).

* cubic Q = (h² + k² + l²)·θ₁;  tetragonal Q = (h² + k²)·θ₁ + l²·θ₂;
* hexagonal (trigonal and hexagonal groups, rhombohedral ones on hexagonal axes) Q = ⁴⁄₃(h² + hk + k²)·θ₁ + l²·θ₂;
* orthorhombic Q = h²·θ₁ + k²·θ₂ + l²·θ₃  (θᵢ = 1/aᵢ²);
* monoclinic (b unique) Q = h²·θ₁ + k²·θ₂ + l²·θ₃ + hl·θ₄ with θ₁ = a*², θ₂ = b*², θ₃ = c*², θ₄ = 2a*c*·cos β*.
  (h, l) and (−h, l) are different lines, so h is signed; θ₄ ≥ 0 by convention (β ≥ 90°: the sign of θ₄ only
  renames h → −h), and cells are kept in their reduced form (:func:`reduce_monoclinic`).
"""

from __future__ import annotations

import functools

import numpy as np

#: lattices searched, by parameter count (:func:`~difcon_jax.match.indexing.choose_lattice` prefers the fewest)
LATTICES = ("cubic", "hexagonal", "tetragonal", "orthorhombic", "monoclinic")

#: θ parameters of each lattice
N_PARAMETERS = {"cubic": 1, "hexagonal": 2, "tetragonal": 2, "orthorhombic": 3, "monoclinic": 4}

#: lattice centrings tried for each lattice's figure of merit (R: obverse rhombohedral on hexagonal axes;
#: monoclinic b-unique: C, A and I are one lattice type in different cell choices, all tried on the reduced cell)
CENTRINGS = {"cubic": ("P", "I", "F"), "tetragonal": ("P", "I"), "hexagonal": ("P", "R"),
             "orthorhombic": ("P", "C", "A", "B", "I", "F"), "monoclinic": ("P", "C", "A", "I")}

#: the most oblique monoclinic cell searched (degrees): a reduced cell's β is ≤ 120°
MAX_BETA = 135.0


def _coefficients(lattice: str, h, k, l) -> np.ndarray:
    """float[M, p]: the coefficients c of Q = c·θ of reflections (h, k, l) (int[M] each)."""
    if lattice == "cubic":
        return (h * h + k * k + l * l)[:, None].astype(np.float64)
    if lattice == "tetragonal":
        return np.stack([h * h + k * k, l * l], 1).astype(np.float64)
    if lattice == "hexagonal":
        return np.stack([4.0 / 3.0 * (h * h + h * k + k * k), l * l], 1)
    if lattice == "monoclinic":
        return np.stack([h * h, k * k, l * l, h * l], 1).astype(np.float64)
    return np.stack([h * h, k * k, l * l], 1).astype(np.float64)


def _index_box(lattice: str, max_index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h, k, l) int[M] of the search box up to ``max_index`` (an int, or one per axis): h and k signed for the
    hexagonal lattice (whose R centring tells (h, k) from (k, h)), h signed for the monoclinic one (hl), the
    rest non-negative (the other centrings' parity rules do not see signs)."""
    m = np.broadcast_to(np.asarray(max_index, np.int64), (3,))
    lo = {"hexagonal": [-m[0], -m[1], 0], "monoclinic": [-m[0], 0, 0]}.get(lattice, [0, 0, 0])
    axes = [np.arange(a, b + 1) for a, b in zip(lo, m)]
    return tuple(v.ravel() for v in np.meshgrid(*axes, indexing="ij"))


@functools.lru_cache(maxsize=64)
def coefficient_vectors(lattice: str, max_index: int) -> np.ndarray:
    """float[M, p]: the distinct coefficient vectors of Q = c·θ for indices up to ``max_index``."""
    v = np.unique(_coefficients(lattice, *_index_box(lattice, max_index)), axis=0)
    return v[np.any(v != 0, axis=1)]


def monoclinic_base() -> np.ndarray:
    """float[16, 4]: the trial indices of monoclinic low-angle lines — every (h, k, l) with |h| + k + l ≤ 2
    (100, 010, 001, 110, 011, 101, 1̄01, 200, 020, 002) and the lowest ones with hl ≠ 0 a C-centred cell allows
    (111, 1̄11, 201, 2̄01, 102, 1̄02: its 101 and 011 are absent), as TREOR assumes the first lines have small
    indices (the trials grow as the fourth power of this list)."""
    h, k, l = _index_box("monoclinic", 2)
    n = np.abs(h) + k + l
    keep = ((n <= 2) | ((n == 3) & (h * l != 0))) & (n > 0)
    return np.unique(_coefficients("monoclinic", h[keep], k[keep], l[keep]), axis=0)


def cell_of(lattice: str, theta: np.ndarray) -> tuple:
    """(a, b, c Å, α, β, γ degrees) of θ float[p] (the conventional hexagonal cell for 'hexagonal')."""
    theta = np.asarray(theta, np.float64)
    if lattice == "monoclinic":
        a_s, b_s, c_s = np.sqrt(theta[:3])
        cos_bs = np.clip(theta[3] / (2 * a_s * c_s), -1.0, 1.0)
        sin_bs = np.sqrt(1 - cos_bs ** 2)
        beta = 180.0 - float(np.degrees(np.arccos(cos_bs)))
        return (1 / (a_s * sin_bs), 1 / b_s, 1 / (c_s * sin_bs), 90.0, beta, 90.0)
    e = 1.0 / np.sqrt(theta)
    if lattice == "cubic":
        return (e[0], e[0], e[0], 90.0, 90.0, 90.0)
    if lattice in ("tetragonal", "hexagonal"):
        return (e[0], e[0], e[1], 90.0, 90.0, 120.0 if lattice == "hexagonal" else 90.0)
    return (e[0], e[1], e[2], 90.0, 90.0, 90.0)


def volume_of(lattice: str, theta: np.ndarray) -> np.ndarray:
    """Å³ of trial cells θ [T, p]."""
    theta = np.asarray(theta, np.float64)
    if lattice == "monoclinic":  # V = 1 / V*, V*² = a*²b*²c*²·sin² β*
        return 1.0 / np.sqrt(np.maximum(theta[:, 1] * (theta[:, 0] * theta[:, 2] - theta[:, 3] ** 2 / 4), 1e-300))
    e = 1.0 / np.sqrt(np.maximum(theta, 1e-12))
    if lattice == "cubic":
        return e[:, 0] ** 3
    if lattice == "tetragonal":
        return e[:, 0] ** 2 * e[:, 1]
    if lattice == "hexagonal":
        return e[:, 0] ** 2 * e[:, 1] * np.sqrt(3) / 2
    return e.prod(1)


def valid(lattice: str, theta: np.ndarray, max_edge: float) -> np.ndarray:
    """bool[T]: which trial cells θ [T, p] are cells — edges ≤ ``max_edge`` (Å; reciprocal θ ≥ 1/max_edge²) and,
    for the monoclinic lattice, θ₄ ≥ 0 and β ≤ :data:`MAX_BETA`."""
    theta = np.asarray(theta, np.float64)
    if lattice != "monoclinic":
        return np.all(theta >= 1.0 / max_edge ** 2, axis=1)
    cos_max = np.cos(np.radians(180.0 - MAX_BETA))  # cos β* = −cos β
    ok = np.all(theta[:, :3] > 0, axis=1) & (theta[:, 3] >= 0)
    ok &= theta[:, 3] <= 2 * cos_max * np.sqrt(np.maximum(theta[:, 0] * theta[:, 2], 0.0))
    with np.errstate(all="ignore"):
        sin2 = 1 - theta[:, 3] ** 2 / (4 * theta[:, 0] * theta[:, 2])
        return ok & (theta[:, 1] >= 1 / max_edge ** 2) & (theta[:, 0] * sin2 >= 1 / max_edge ** 2) \
            & (theta[:, 2] * sin2 >= 1 / max_edge ** 2)


def canonical(lattice: str, theta: np.ndarray) -> np.ndarray:
    """θ [T, p] in one form per cell: the monoclinic θ₄ ≥ 0 (h → −h) and θ₁ ≥ θ₃ (a and c swapped: the same
    lines); others unchanged."""
    if lattice != "monoclinic":
        return theta
    swap = theta[:, 0] < theta[:, 2]
    return np.stack([np.where(swap, theta[:, 2], theta[:, 0]), theta[:, 1],
                     np.where(swap, theta[:, 0], theta[:, 2]), np.abs(theta[:, 3])], 1)


def _ac_net(a: float, c: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The monoclinic cell's a and c as 2-vectors (Å) in the plane normal to b, β (degrees) between them."""
    return np.array([a, 0.0]), c * np.array([np.cos(np.radians(beta)), np.sin(np.radians(beta))])


def reduce_monoclinic(theta: np.ndarray) -> np.ndarray:
    """θ float[4] of the same lattice in its reduced cell: a and c the two shortest independent vectors of the
    ac net (Gauss–Lagrange reduction), |a| ≤ |c|, β ≥ 90° — one description of the many (a, c, β) choices a
    trial can converge to."""
    a, b, c, _, beta, _ = cell_of("monoclinic", theta)
    u, w = _ac_net(a, c, beta)
    for _ in range(100):
        if w @ w < u @ u:
            u, w = w, u
        m = np.round((u @ w) / (u @ u))
        if m == 0:
            break
        w = w - m * u
    if u @ w > 0:  # β ≥ 90°
        u = -u
    a, c = np.linalg.norm(u), np.linalg.norm(w)
    return from_cell_monoclinic(a, b, c, float(np.degrees(np.arccos(np.clip(u @ w / (a * c), -1, 1)))))


def from_cell_monoclinic(a: float, b: float, c: float, beta: float) -> np.ndarray:
    """θ float[4] of the monoclinic cell (a, b, c Å, β degrees)."""
    s2 = np.sin(np.radians(beta)) ** 2
    return np.array([1 / (a * a * s2), 1 / (b * b), 1 / (c * c * s2), -2 * np.cos(np.radians(beta)) / (a * c * s2)])


def monoclinic_settings(cell) -> list[tuple]:
    """The cells (a, b, c Å, α, β, γ degrees) of one monoclinic lattice in its other ac-net choices — pairs of
    {a, c, a + c, a − c} spanning the net, β ≥ 90° — where a space group's standard setting may sit (P2₁/c's c
    glide is P2₁/n's n glide in another choice; C2/c is I2/a or A2/n)."""
    a, b, c, _, beta, _ = cell
    u, w = _ac_net(a, c, beta)
    vectors = (u, w, u + w, u - w)
    out = {}
    for i, p in enumerate(vectors):
        for j, q in enumerate(vectors):
            if i == j or abs(round(abs(p[0] * q[1] - p[1] * q[0]) / abs(u[0] * w[1] - u[1] * w[0]))) != 1:
                continue
            cos_b = p @ q / (np.linalg.norm(p) * np.linalg.norm(q))
            cos_b = -abs(cos_b)  # q → −q keeps the net: β ≥ 90°
            key = (round(float(np.linalg.norm(p)), 4), round(float(np.linalg.norm(q)), 4), round(float(cos_b), 5))
            out.setdefault(key, (float(np.linalg.norm(p)), b, float(np.linalg.norm(q)), 90.0,
                                 float(np.degrees(np.arccos(cos_b))), 90.0))
    return list(out.values())


def reflections(lattice: str, theta: np.ndarray, q_max: float) -> tuple[np.ndarray, np.ndarray]:
    """(hkl int[M, 3], Q float[M]) of every reflection of θ with 0 < Q ≤ q_max (signs as :func:`_index_box`)."""
    edges = np.array(cell_of(lattice, theta)[:3])  # |h| ≤ a/d_min along each axis
    h, k, l = _index_box(lattice, (np.sqrt(q_max) * edges).astype(np.int64) + 1)
    q = _coefficients(lattice, h, k, l) @ np.asarray(theta, np.float64)
    keep = (q > 0) & (q <= q_max)
    return np.stack([h, k, l], 1)[keep], q[keep]


def bravais_type(lattice: str, centring: str) -> str:
    """The lattice type a centring letter means within ``lattice``: the monoclinic A, B, C and I cells are one
    centred type in different cell choices, the orthorhombic A, B and C one base-centred type in different axis
    orders ('C' for both); other letters as given (P, I, F, R)."""
    if (lattice == "monoclinic" and centring != "P") or (lattice == "orthorhombic" and centring in "ABC"):
        return "C"
    return centring


def centring_allows(centring: str, hkl: np.ndarray) -> np.ndarray:
    """bool[M]: the reflections a lattice centring allows."""
    h, k, l = hkl.T
    return {"P": lambda: np.ones(len(hkl), bool), "I": lambda: (h + k + l) % 2 == 0,
            "F": lambda: ((h + k) % 2 == 0) & ((k + l) % 2 == 0), "C": lambda: (h + k) % 2 == 0,
            "A": lambda: (k + l) % 2 == 0, "B": lambda: (h + l) % 2 == 0,
            "R": lambda: (-h + k + l) % 3 == 0}[centring]()
