"""Whole-pattern verification of candidate phases: every candidate refined against one measured profile at
once (``jax.vmap`` over candidates, one ``jax.jit``), Rietveld-like (intensities from the candidate's
structure factors) or Pawley (free intensities).

Stages (why: a solid solution moves peaks by more than their width, so a local least-squares fit started at
the reference cell would lock onto the wrong peaks):

1. a grid over an isotropic cell scale (``grid_steps`` values within ±``strain_box``/2 in length) scored by
   the normalised overlap of the model with the smoothed measurement;
2. Levenberg–Marquardt on the measurement smoothed by each of ``coarse_fwhm`` in turn, broad to narrow (the
   model broadened alike): a broad smoothing turns a peak two widths away into a slope to descend;
3. Levenberg–Marquardt on the measurement itself, started from stage 2's cell, zero, displacement, scale and
   texture with the line profile (U, V, W, η, asymmetry, Kα2 ratio) back at its start (``fine_starts``): widths
   fitted on the coarse grid's smoothed measurement can be far from a sharp pattern's (a ridge V at its bound, W
   ten times too large), and a local fit from there stops in a minimum whose cell and scale are right and whose
   lines are not. A Pawley fit's free intensities first take a few Le Bail cycles (``le_bail_cycles``): those
   stage 2 hands on belong to smoothed lines.

Reported per candidate: Rwp on the background-removed profile, reduced χ² against the measurement's own
noise (estimated from its point-to-point scatter) with the number of free parameters, the refined cell with
standard uncertainties (from (JᵀJ)⁻¹ · χ²), and the parameters that ended on a bound.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.match.lm import levenberg_marquardt
from difcon_jax.match.pattern_model import (
    IDX,
    N_BASE,
    N_STRAIN,
    PARAMS,
    Phase,
    cell_parameters,
    cell_to_metric,
    line_positions,
    make_phase_pattern,
    metric,
    voigt_to_matrices,
    with_texture_axis,
)


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """Static settings of a fit (closed over by the jitted fitter)."""
    window: int = 80  # bins evaluated around each line (±0.8° on a 0.02° grid)
    coarse_factor: int = 5  # stages 1–2 on a grid this many times coarser (0.1° for 0.02° bins)
    coarse_window: int = 32  # bins of the coarse grid around each line (±1.6° at 0.1°)
    coarse_fwhm: tuple = (0.8, 0.4, 0.2)  # degrees: smoothing of stage 2, broad to narrow (stage 1: the first)
    coarse_iterations: int = 4  # per smoothing width
    fine_iterations: int = 16
    keep: int = 10  # candidates (best coarse cost) refined by stage 3
    grid_steps: int = 41
    strain_box: float = 0.10  # bound on each element of the normalised metric (≈ ±5 % in cell lengths)
    zero_box: float = 0.3  # degrees 2θ
    displacement_box: float = 0.3  # degrees 2θ at θ = 0
    # where stage 3 starts (module docstring; several: the lowest cost kept): "coarse" (stage 2's result, as until
    # 2026-12-06), "profile_reset" (it with the line profile back at START). RRUFF's scapolite (rruff_0509) against
    # the library's marialite (an AFLOW prototype): Rwp 0.629 from stage 2's result, 0.283 reset. Both starts
    # answered as the reset alone on the simulated validation axis and rruff_dev, at +11 % of identify's time
    # (results/identify/README.md)
    fine_starts: tuple = ("profile_reset",)
    # Pawley fits only: Le Bail cycles on the free intensities at each stage-3 start, before the least squares
    # (:func:`le_bail_cycle`). The intensities a start hands on were fitted to lines smoothed by 0.2–0.8°; with
    # lines of the reset width a least-squares fit of ~160 intensities can walk to the width bounds instead. On
    # rruff_dev's 41 indexed patterns (novel.py's two starts): mean Pawley Rwp 0.211 → 0.195 with 3 cycles, 10 no
    # better (results/identify/README.md, "Pawley fits start from Le Bail intensities")
    le_bail_cycles: int = 3
    # structure fits: after stage 2 the March–Dollase direction is chosen among c*, a* and b* (triclinic to
    # orthorhombic entries; :func:`choose_texture_axis`) — a cleavage plate lies on the plane it cleaves along, which
    # is not always (001): RRUFF's forsterite fits with its texture along b*. rruff_dev SG 0.637 → 0.649 (both halves
    # up; ten tremolites named), simulated validation SG 0.860 → 0.873 (results/identify/README.md, "The texture's
    # direction is chosen")
    texture_axes: bool = True

    def __post_init__(self):
        if not self.fine_starts or set(self.fine_starts) - {"coarse", "profile_reset"}:
            raise ValueError(f"fine_starts {self.fine_starts!r}: one or both of 'coarse', 'profile_reset'")


# where every fit starts (the strains start at the reference's cell, Pawley intensities from the grid), by PARAMS
START = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.01, 0.5, 0.0, 0.0, 0.5, 0.0], np.float32)
PROFILE = np.array([IDX[k] for k in ("U", "V", "W", "eta", "asymmetry", "ka2_ratio")])


def strain_bounds(basis6: np.ndarray, strain_box: float) -> np.ndarray:
    """float32[C, N_STRAIN]: the bound on each strain coefficient of candidates whose strain bases are
    ``basis6`` [C, 6, 6] (Voigt rows, orthonormal, zero rows for the fixed ones) such that no element of the
    normalised metric moves by more than ``strain_box`` along one basis row — ±``strain_box`` on the metric,
    ≈ ±``strain_box``/2 in each cell length.

    The rows are unit vectors, so a bound on the coefficient alone is not a bound on the metric: a cubic cell's
    one row is (1, 1, 1, 0, 0, 0)/√3, and a coefficient of 0.10 scaled each length by only ±2.9 % (a solid
    solution 3–4 % away from its end member was fitted at the bound). Each row's bound is divided by its
    largest component."""
    b = np.abs(np.asarray(basis6, np.float64)).max(-1)  # [C, 6]: the largest metric change per unit coefficient
    return np.where(b > 0, strain_box / np.maximum(b, 1e-12), 0.0).astype(np.float32)


def parameter_bounds(basis6: np.ndarray, s: FitSettings, pawley_refl: int = 0):
    """(x0, lower, upper) float32[C, N] for candidates whose strain bases are ``basis6`` [C, 6, 6] (Voigt rows,
    zero rows fixed; :func:`strain_bounds`)."""
    box = strain_bounds(basis6, s.strain_box)
    c = len(box)
    lo = np.array([-40, -s.zero_box, -s.displacement_box, 0.0, -0.1, 1e-4, 0.0, -0.3, np.log(0.4), 0.0, -0.05], np.float32)
    hi = np.array([40, s.zero_box, s.displacement_box, 0.5, 0.1, 0.3, 1.0, 0.3, np.log(2.5), 0.6, 0.05], np.float32)
    x0 = np.concatenate([np.tile(START, (c, 1)), np.zeros((c, N_STRAIN), np.float32),
                         np.ones((c, pawley_refl), np.float32)], 1)  # Pawley: equal intensities for the grid
    lower = np.concatenate([np.tile(lo, (c, 1)), -box, np.zeros((c, pawley_refl), np.float32)], 1)
    upper = np.concatenate([np.tile(hi, (c, 1)), box, np.full((c, pawley_refl), 1e9, np.float32)], 1)
    if pawley_refl:  # the scale, texture and structure are not used by a Pawley fit
        for name in ("log_scale", "log_po_r"):
            lower[:, IDX[name]] = upper[:, IDX[name]] = x0[:, IDX[name]]
    return x0, lower, upper


def phases_from_arrays(cell, basis6, hkl, f2m, po_cos2, po_weight, po_axes=None) -> Phase:
    """A stacked :class:`Phase` (leading axis = candidates) from host arrays: cells [C, 6] (Å, degrees), strain
    bases [C, 6, 6] (Voigt rows), hkl [C, P, 3], |F|²m [C, P], March–Dollase data [C, P, K] (floats in 0–1),
    cos² with a* and b* [C, 2, P] (None: no other texture direction than c*)."""
    g = np.stack([cell_to_metric(c) for c in np.asarray(cell, np.float64)])
    lengths = np.sqrt(np.stack([np.diag(m) for m in g]))
    n0 = g / (lengths[:, :, None] * lengths[:, None, :])
    hkl = np.asarray(hkl)
    po_axes = np.full((len(hkl), 2, hkl.shape[1]), -1.0) if po_axes is None else po_axes
    return Phase(hkl=jnp.asarray(hkl, jnp.float32), f2m=jnp.asarray(f2m, jnp.float32),
                 po_cos2=jnp.asarray(po_cos2, jnp.float32), po_weight=jnp.asarray(po_weight, jnp.float32),
                 po_axes=jnp.asarray(po_axes, jnp.float32),
                 n0=jnp.asarray(n0, jnp.float32), lengths=jnp.asarray(lengths, jnp.float32),
                 basis=jnp.asarray(np.stack([voigt_to_matrices(b) for b in basis6]), jnp.float32))


def smooth(y, step: float, fwhm: float):
    """y convolved with a unit-area Gaussian of ``fwhm`` degrees (grid ``step`` degrees)."""
    sigma = fwhm / 2.3548 / step
    half = int(np.ceil(4 * sigma))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    return jnp.convolve(y, jnp.asarray(k / k.sum(), jnp.float32), mode="same")


def _downsample(v, factor: int):
    """Means of ``factor`` consecutive bins (the coarse grid)."""
    n = v.shape[-1] // factor * factor
    return v[..., :n].reshape(v.shape[:-1] + (n // factor, factor)).mean(-1)


def explained_share(own, signal, weight, sigma):
    """The share of the measured ``signal`` float[n_bins] (what is left for the phases in question) that a model
    ``own`` float[n_bins] accounts for where ``weight`` > 0, counting per bin at most what is measured; signal
    below 3σ (``sigma``, the measurement's noise) is not counted. jnp: inside the fit and on the host alike."""
    yp = jnp.maximum(signal - 3 * sigma, 0.0)  # noise does not count
    return jnp.sum(weight * jnp.minimum(jnp.maximum(own, 0.0), yp)) / jnp.maximum(jnp.sum(weight * yp), 1e-20)


def le_bail_cycle(pattern, phase: Phase, x, y, weight, background):
    """x float[N] with its free (Pawley) intensities moved by one Le Bail cycle (Le Bail, Duroy & Fourquet 1988):
    I_k ← I_k · Σ_j p_kj r_j / Σ_j p_kj over the measured bins (``weight`` > 0), p_kj line k's profile in bin j
    and r_j = (measured − background) / calculated, so overlapping lines share a bin's intensity in the ratio
    the current ones give them. ``pattern``: a Pawley :func:`~difcon_jax.match.pattern_model.make_phase_pattern`;
    y, background float[n_bins]. Both sums are one vector–Jacobian product of the pattern with respect to the
    intensities (the pattern is linear in them)."""
    head, inten = x[:N_BASE + N_STRAIN], x[N_BASE + N_STRAIN:]
    calc, vjp = jax.vjp(lambda i: pattern(phase, jnp.concatenate([head, i]), 0.0) - head[IDX["background"]], inten)
    target = jnp.maximum(y - background - head[IDX["background"]], 0.0)
    floor = 1e-6 * jnp.max(jnp.abs(calc))
    measured = (weight > 0).astype(calc.dtype)
    num, = vjp(jnp.where(calc > floor, target / jnp.maximum(calc, floor), 0.0) * measured)
    den, = vjp(measured)
    return jnp.concatenate([head, jnp.where(den > 0, jnp.maximum(inten, 0.0) * num / jnp.maximum(den, 1e-30), inten)])


#: March–Dollase ratios r tried along each direction when the texture axis is chosen (the fit's bounds on r)
TEXTURE_R = np.exp(np.linspace(np.log(0.4), np.log(2.5), 9)).astype(np.float32)


def choose_texture_axis(pattern, phase: Phase, x, cost, target, weight, background, extra_fwhm: float):
    """(x, axis): the March–Dollase direction (index into :data:`~difcon_jax.match.pattern_model.TEXTURE_AXES`) and
    ratio r (:data:`TEXTURE_R`) whose pattern, at its least-squares scale and x's other parameters, fits ``target``
    (float[n], with ``weight`` and the fixed ``background``) best — or x as it is along c* (axis 0) when nothing
    beats its own ``cost`` (the same sum of squares, x fitted along c*). Directions a phase does not offer
    (``po_axes`` < 0) are not tried. ``pattern``: :func:`~difcon_jax.match.pattern_model.make_phase_pattern`'s, with
    ``extra_fwhm`` its broadening."""
    t = target - background - x[IDX["background"]]

    def trial(axis, log_r):
        v = x.at[IDX["log_po_r"]].set(log_r)
        m = pattern(with_texture_axis(phase, axis), v, extra_fwhm) - v[IDX["background"]]
        scale = jnp.maximum(jnp.sum(weight * m * t) / jnp.maximum(jnp.sum(weight * m * m), 1e-20), 1e-12)
        offered = (axis == 0) | (phase.po_axes[jnp.maximum(axis - 1, 0), 0] >= 0)
        return jnp.where(offered, jnp.sum(weight * (scale * m - t) ** 2), jnp.inf), jnp.log(scale)

    n = len(TEXTURE_R)
    axes = jnp.repeat(jnp.arange(3), n)
    costs, dlog = jax.vmap(trial)(axes, jnp.tile(jnp.log(jnp.asarray(TEXTURE_R)), 3))
    costs = jnp.where(jnp.isfinite(costs), costs, jnp.inf)
    b = jnp.argmin(costs)
    better = costs[b] < cost
    moved = x.at[IDX["log_po_r"]].set(jnp.log(jnp.asarray(TEXTURE_R))[b % n]).at[IDX["log_scale"]].add(dlog[b])
    return jnp.where(better, moved, x), jnp.where(better, axes[b], 0)


@functools.lru_cache(maxsize=16)
def make_fitter(tt_first: float, step: float, n_bins: int, wavelengths: tuple, settings: FitSettings,
                pawley: bool = False):
    """Two jitted functions refining every candidate of ``phases`` (leading axis C) against the profile
    ``y`` float[n_bins] where ``weight`` > 0, ``background`` float[n_bins] held fixed (other phases of a
    mixture):

    * ``coarse(y, weight, background, phases, x0, lower, upper) -> (x [C, N], cost [C], texture axis [C])``:
      stages 1–2 on a grid ``settings.coarse_factor`` times coarser (cheap: every retrieved candidate goes through
      it), then the texture direction (``texture_axes``; 0 = c* otherwise; the fine stage takes the phases with it
      applied: :func:`~difcon_jax.match.pattern_model.with_texture_axis`);
    * ``fine(y, weight, background, sigma, phases, x, lower, upper) -> dict``: stage 3 for the candidates kept
      (``sigma``: the measurement's noise, :func:`~difcon_jax.patterns.preprocess.noise_sigma`; signal below 3σ is
      not counted as explained),
      with x [C, N], cost, rwp, dof, cell [C, 6], cell_sigma [C, 6], param_sigma [C, N], model [C, n_bins].
    """
    s = settings
    f = s.coarse_factor
    n_c = n_bins // f
    tt_first_c = tt_first + 0.5 * (f - 1) * step
    coarse_pattern = make_phase_pattern(tt_first_c, step * f, n_c, s.coarse_window, wavelengths, pawley)
    pattern = make_phase_pattern(tt_first, step, n_bins, s.window, wavelengths, pawley)

    def coarse_one(ys, weight, background, phase, x0, lower, upper):
        sw = jnp.sqrt(weight)
        # 1. isotropic scale grid (the reference's own normalised metric is an allowed strain)
        v0 = jnp.stack([phase.n0[0, 0], phase.n0[1, 1], phase.n0[2, 2], phase.n0[1, 2], phase.n0[0, 2],
                        phase.n0[0, 1]])
        basis_voigt = jnp.stack([phase.basis[:, 0, 0], phase.basis[:, 1, 1], phase.basis[:, 2, 2],
                                 phase.basis[:, 1, 2], phase.basis[:, 0, 2], phase.basis[:, 0, 1]], 1)
        iso = basis_voigt @ v0 / jnp.maximum(jnp.sum(basis_voigt * basis_voigt, 1), 1e-12)
        scales = jnp.linspace(-0.5 * s.strain_box, 0.5 * s.strain_box, s.grid_steps)
        trial = x0[None, :].repeat(s.grid_steps, 0).at[:, N_BASE:N_BASE + N_STRAIN].set(
            ((1 + scales) ** 2 - 1)[:, None] * iso[None, :])
        trial = jnp.clip(trial, lower, upper)
        w0 = s.coarse_fwhm[0]
        models = jax.vmap(lambda x: coarse_pattern(phase, x, w0) - x[IDX["background"]])(trial)
        target = ys[0] - background
        overlap = (models * weight) @ target / jnp.sqrt(jnp.sum(models * models * weight, 1) + 1e-20)
        best = jnp.argmax(overlap)
        x = trial[best]
        if pawley:  # each free intensity starts at the smoothed measurement under its line (area ≈ height·FWHM)
            pos = line_positions(phase, x, wavelengths[0])
            j = jnp.clip(jnp.round((pos - tt_first_c) / (step * f)).astype(jnp.int32), 0, n_c - 1)
            height = jnp.maximum(target[j], 0.0) * (weight[j] > 0)
            x = x.at[N_BASE + N_STRAIN:].set(height * 1.06 * w0 / (1 + x[IDX["ka2_ratio"]]))
        else:  # least-squares scale at the chosen cell
            m = models[best]
            ls = jnp.sum(weight * m * target) / jnp.maximum(jnp.sum(weight * m * m), 1e-20)
            x = x.at[IDX["log_scale"]].add(jnp.log(jnp.maximum(ls, 1e-12)))
        # 2. Levenberg–Marquardt against the measurement smoothed less and less (one compiled LM body)
        widths = jnp.asarray(s.coarse_fwhm, jnp.float32)

        def stage(k, carry):
            res = lambda v: sw * (coarse_pattern(phase, v, widths[k]) + background - ys[k])  # noqa: E731
            return levenberg_marquardt(res, carry[0], lower, upper, s.coarse_iterations)[:2]

        x, cost = jax.lax.fori_loop(0, len(s.coarse_fwhm), stage, (x, jnp.zeros((), x.dtype)))
        axis = jnp.zeros((), jnp.int32)
        if s.texture_axes and not pawley:  # x's cost is the last (narrowest) smoothing's
            x, axis = choose_texture_axis(coarse_pattern, phase, x, cost, ys[-1], weight, background, widths[-1])
        return x, cost, axis

    def fine_one(y, weight, background, sigma, phase, x, lower, upper):
        res = lambda v: jnp.sqrt(weight) * (pattern(phase, v, 0.0) + background - y)  # noqa: E731
        start = {"coarse": x, "profile_reset": jnp.clip(x.at[PROFILE].set(START[PROFILE]), lower, upper)}
        if pawley and s.le_bail_cycles:
            def cycle(_, v):
                return jnp.clip(le_bail_cycle(pattern, phase, v, y, weight, background), lower, upper)

            start = {k: jax.lax.fori_loop(0, s.le_bail_cycles, cycle, v) for k, v in start.items()}
        if len(s.fine_starts) == 1:
            x, cost, jtj = levenberg_marquardt(res, start[s.fine_starts[0]], lower, upper, s.fine_iterations)
        else:
            starts = jnp.stack([start[k] for k in s.fine_starts])
            xs, costs, jtjs = jax.vmap(lambda v: levenberg_marquardt(res, v, lower, upper, s.fine_iterations))(starts)
            b = jnp.argmin(jnp.where(jnp.isfinite(costs), costs, jnp.inf))
            x, cost, jtj = xs[b], costs[b], jtjs[b]
        free = upper > lower
        n_free = jnp.sum(free)
        dof = jnp.maximum(jnp.sum(weight > 0) - n_free, 1)
        # covariance (JᵀJ)⁻¹·χ² on the free parameters, in correlation form first so the pseudo-inverse's
        # cut-off sees conditioning, not the parameters' units; a line pinned at zero intensity is dropped
        d = jnp.sqrt(jnp.where(free, jnp.diag(jtj), 1.0))
        d = jnp.where(d > 0, d, 1.0)
        corr = jtj / (d[:, None] * d[None, :]) * (free[:, None] & free[None, :])
        cov = jnp.linalg.pinv(corr, hermitian=True, rtol=1e-7) / (d[:, None] * d[None, :]) * cost / dof
        cell_of = lambda v: cell_parameters(metric(phase, v[N_BASE:N_BASE + N_STRAIN]))  # noqa: E731
        jc = jax.jacfwd(cell_of)(x)
        rwp = jnp.sqrt(cost / jnp.maximum(jnp.sum(weight * y * y), 1e-20))
        model = pattern(phase, x, 0.0)
        own = model - x[IDX["background"]]
        lines = weight * (own > 0.02 * jnp.max(own * weight))  # where the phase predicts intensity
        r = model + background - y
        rwp_lines = jnp.sqrt(jnp.sum(lines * r * r) / jnp.maximum(jnp.sum(lines * y * y), 1e-20))
        explained = explained_share(own, y - background, weight, sigma)  # of the signal left for this phase
        return {"x": x, "cost": cost, "rwp": rwp, "rwp_lines": rwp_lines, "explained": explained, "dof": dof, "n_free": n_free, "cell": cell_of(x),
                "cell_sigma": jnp.sqrt(jnp.maximum(jnp.diag(jc @ cov @ jc.T), 0.0)),
                "param_sigma": jnp.sqrt(jnp.maximum(jnp.diag(cov), 0.0)), "model": model}

    @jax.jit
    def coarse(y, weight, background, phases, x0, lower, upper):
        ys = jnp.stack([smooth(_downsample(y, f), step * f, width) for width in s.coarse_fwhm])
        wc = jnp.min(weight[:n_c * f].reshape(n_c, f), 1)
        return jax.vmap(coarse_one, in_axes=(None, None, None, 0, 0, 0, 0))(
            ys, wc, _downsample(background, f), phases, x0, lower, upper)

    @jax.jit
    def fine(y, weight, background, sigma, phases, x, lower, upper):
        return jax.vmap(fine_one, in_axes=(None, None, None, None, 0, 0, 0, 0))(y, weight, background, sigma, phases,
                                                                                x, lower, upper)

    return coarse, fine


def bound_hits(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> list[str]:
    """Names of the parameters that ended within 0.1 % of the bound range of a bound (strains as
    ``strain<k>``)."""
    names = list(PARAMS) + [f"strain{k}" for k in range(N_STRAIN)]
    span = np.maximum(upper - lower, 1e-12)
    hit = (upper > lower) & ((x - lower < 1e-3 * span) | (upper - x < 1e-3 * span))
    return [names[i] for i in np.flatnonzero(hit[:len(names)]) if names[i] not in ("U", "asymmetry", "background")]
