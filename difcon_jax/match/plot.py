"""The picture search-match software shows: measured and fitted curves, their difference, reflection ticks
of each phase and the measured peaks no phase explains (matplotlib, written atomically)."""

from __future__ import annotations

import os

import numpy as np

from difcon_jax.files import atomic_savefig
from difcon_jax.grid import Grid

_COLOURS = ("tab:red", "tab:blue", "tab:green")


def plot_identifications(results: list[dict], path: str) -> str:
    """One panel per file (results of :func:`~difcon_jax.match.identify.identify`); PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(n, 1, figsize=(11, 3.6 * n), squeeze=False)
    for ax, r in zip(axes[:, 0], results):
        tt = Grid.from_dict(r["grid"]).centres
        w = r["_weight"] > 0
        lo, hi = tt[w].min(), tt[w].max()
        y, model = r["_profile"], r["_model"]
        ax.plot(tt[w], y[w], lw=0.6, color="black", label="measured (background removed)")
        if r["phases"]:
            ax.plot(tt[w], model[w], lw=0.7, color="tab:orange", label=f"fit, Rwp {r['rwp']:.3f}")
            diff_base = -0.15
            ax.plot(tt[w], (y - model)[w] + diff_base, lw=0.5, color="tab:gray", label="difference")
            for k, (p, ticks) in enumerate(zip(r["phases"], r["_ticks"])):
                c = _COLOURS[k % len(_COLOURS)]
                ticks = ticks[(ticks >= lo) & (ticks <= hi)]
                base = -0.3 - 0.07 * k
                ax.vlines(ticks, base, base + 0.05, color=c, lw=0.6,
                          label=f"{p['name']} ({p['space_group']['symbol']}), {100 * p['weight_fraction']:.0f} wt%")
        best = r.get("_best")
        if best is not None:
            ax.plot(tt[w], best["_model"][w], lw=0.7, ls="--", color="tab:gray",
                    label=f"best candidate {best['name']} ({best['space_group']['symbol']}), Rwp {best['rwp']:.3f}: "
                          "no match")
            ticks = best["_ticks"][(best["_ticks"] >= lo) & (best["_ticks"] <= hi)]
            ax.vlines(ticks, -0.3, -0.25, color="tab:gray", lw=0.6)
        ix = r.get("_indexing")
        if ix is not None and "_model" in ix:  # a novel phase: the Pawley fit of its indexed cell
            pw = ix["pawley"]
            ax.plot(tt[w], ix["_model"][w], lw=0.7, color="tab:blue",
                    label=f"Pawley fit of the indexed cell ({pw['space_group']['symbol']}), Rwp {pw['rwp']:.3f}"
                    + (f" to {pw['two_theta_max']:.1f}°" if "two_theta_max" in pw else ""))
            ax.plot(tt[w], (y - ix["_model"])[w] - 0.15, lw=0.5, color="tab:gray", label="difference")
            ticks = ix["_ticks"][(ix["_ticks"] >= lo) & (ix["_ticks"] <= hi)]
            ax.vlines(ticks, -0.38, -0.33, color="tab:blue", lw=0.6)
        for t in r["unexplained_peaks"]:
            ax.annotate("?", (t, float(np.interp(t, tt, y)) + 0.04), ha="center", color="tab:purple", fontsize=9)
        sym = r["symmetry"]
        first = r["phases"][0]["space_group"] if r["phases"] else None
        ax.set_title(f"{os.path.basename(r['file'])}: {sym['crystal_system']}, {sym['space_group']['symbol']} "
                     f"(#{sym['space_group']['number']}) from the {sym['source']}"
                     # the vote can name another group than the best fit's (near-equal fits; the text says why)
                     + (f" (phase 1: {first['symbol']})" if first and first["number"] != sym["space_group"]["number"]
                        else "")
                     + (f"; {len(r['unexplained_peaks'])} unexplained peak(s) marked ?" if r["unexplained_peaks"] else ""),
                     fontsize=9)
        ax.set_xlim(lo, hi)
        ax.set_yticks([])
        ax.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel(f"2θ (degrees at {results[0]['grid']['lambda_ref']} Å)")
    fig.tight_layout()
    return atomic_savefig(fig, path, dpi=110)
