"""The model's 2θ grid: one object made from the augmentation config and passed to every user (the
augmentation renderer, the measured-pattern resampling, the identification fit, plots, HAND features).

Bin j covers [tt_min + j·step, tt_min + (j+1)·step) degrees 2θ at the reference wavelength λ_ref (Å), the
wavelength the peak table was simulated at; measured patterns are moved to λ_ref through d before binning.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from difcon_jax.crystal.radiation import resolve_radiation
from difcon_jax.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Grid:
    """``n_bins`` bins over [tt_min, tt_max] degrees 2θ at ``lambda_ref`` Å."""
    n_bins: int
    tt_min: float
    tt_max: float
    lambda_ref: float

    @classmethod
    def of(cls, aug) -> "Grid":
        """The grid of an augmentation config (``cfg.augment``)."""
        return cls(int(aug.n_bins), float(aug.two_theta_min), float(aug.two_theta_max), float(aug.lambda_ref))

    @property
    def step(self) -> float:
        """Bin width, degrees 2θ."""
        return (self.tt_max - self.tt_min) / self.n_bins

    @property
    def centres(self) -> np.ndarray:
        """float64[n_bins]: bin centres, degrees 2θ at λ_ref."""
        return self.tt_min + (np.arange(self.n_bins) + 0.5) * self.step

    def as_dict(self) -> dict:
        """The grid as plain JSON values (predict's ``--json`` carries it, so plots need no config)."""
        return {"tt_min": self.tt_min, "tt_max": self.tt_max, "n_bins": self.n_bins, "lambda_ref": self.lambda_ref}

    @classmethod
    def from_dict(cls, d: dict) -> "Grid":
        return cls(int(d["n_bins"]), float(d["tt_min"]), float(d["tt_max"]), float(d["lambda_ref"]))

    def check_table(self, meta: dict, where: str) -> None:
        """ConfigError unless a peak table (its ``meta.json`` dict) was simulated at this grid's λ_ref and up
        to at least its tt_max: a table at another wavelength would otherwise train as if it were at λ_ref."""
        spec = meta.get("wavelength", "CuKa")
        lines = resolve_radiation(spec)
        lam = lines[0][0] if len(lines) == 1 else None
        if lam is None or abs(lam - self.lambda_ref) > 1e-4:
            raise ConfigError(
                f"{where}: the peak table was simulated at {spec!r}"
                + (f" ({lam:.5f} Å)" if lam else " (several lines; training tables are built at one wavelength)")
                + f" but the model's grid is at augment.lambda_ref = {self.lambda_ref:.5f} Å: build the table with "
                f"--wavelength {self.lambda_ref}" + (f" or train with --config.augment.lambda_ref={lam:.5f}" if lam else ""))
        top = float(meta.get("two_theta_max", self.tt_max))
        if top < self.tt_max - 1e-6:
            raise ConfigError(f"{where}: the peak table stops at {top:g}° 2θ but the model's grid runs to "
                              f"augment.two_theta_max = {self.tt_max:g}°: rebuild it with --two-theta-max "
                              f"{self.tt_max:g} or lower the grid")
