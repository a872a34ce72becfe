"""The training-time augmentation pipeline re-implemented for NumPy and PyTorch (benchmark references).

The same operations, in the same order, with the same renderer algorithm as difcon_jax.augment (exact
near-field window by two-point Gauss–Legendre, rescaled to the CDF mass, plus interpolated Lorentzian
tails), batched explicitly over [B, P] arrays. Random numbers come from each library's own generator.
Used only by benchmarks/augment_throughput.py; the physics tests run on the JAX version.
"""

from __future__ import annotations

import math

import numpy as np

LN2 = math.log(2.0)


class Backend:
    """Small shim over NumPy / PyTorch differences."""

    def __init__(self, name: str, seed: int = 0):
        self.name = name
        if name == "numpy":
            from scipy.special import erf

            self.xp, self.erf = np, erf
            self.rng = np.random.default_rng(seed)
        else:
            import torch

            self.xp, self.erf, self.torch = torch, torch.erf, torch
            self.gen = torch.Generator().manual_seed(seed)

    def asarray(self, a):
        return np.asarray(a, np.float32) if self.name == "numpy" else self.torch.as_tensor(np.asarray(a, np.float32))

    def rand(self, *shape):
        if self.name == "numpy":
            return self.rng.random(shape, dtype=np.float32)
        return self.torch.rand(shape, generator=self.gen)

    def randn(self, *shape):
        if self.name == "numpy":
            return self.rng.standard_normal(shape, dtype=np.float32)
        return self.torch.randn(shape, generator=self.gen)

    def cat(self, xs, axis):
        return np.concatenate(xs, axis) if self.name == "numpy" else self.torch.cat(xs, axis)

    def floor_int(self, a):
        return np.floor(a).astype(np.int64) if self.name == "numpy" else self.torch.floor(a).long()

    def bincount(self, idx, weights, n):
        if self.name == "numpy":
            return np.bincount(idx, weights, minlength=n)[:n].astype(np.float32)
        out = self.torch.zeros(n)
        return out.index_add_(0, idx, weights)

    def amax(self, a, axis):
        return a.max(axis=axis, keepdims=True) if self.name == "numpy" else a.amax(dim=axis, keepdim=True)


def _sin_t(xp, tt):
    return xp.sin(tt * (math.pi / 360))


def _tt(xp, s):
    return xp.arcsin(xp.clip(s, -1.0, 1.0)) * (360 / math.pi)


def _lp(xp, tt):
    t = tt * (math.pi / 180)
    return (1 + xp.cos(t) ** 2) / (xp.sin(t / 2) ** 2 * xp.cos(t / 2))


def _cdf(be, x, f, eta, rho):
    xp = be.xp
    hl, hr = 0.5 * f * (1 + rho), 0.5 * f * (1 - rho)
    s = hl + hr

    def unit(u):
        return eta * (0.5 + xp.arctan(u) / math.pi) + (1 - eta) * 0.5 * (1 + be.erf(u * math.sqrt(LN2)))

    return xp.where(x < 0, (2 * hl / s) * unit(x / hl), 1 - (2 * hr / s) * (1 - unit(x / hr)))


def _scaled(xp, x, hl, hr):
    """x / h_side without a select: x·(1/h_l + 1/h_r)/2 + |x|·(1/h_r − 1/h_l)/2 (as the JAX renderer)."""
    return x * (0.5 * (1 / hl + 1 / hr)) + xp.abs(x) * (0.5 * (1 / hr - 1 / hl))


def _pdf(xp, x, f, eta, rho):
    hl, hr = 0.5 * f * (1 + rho), 0.5 * f * (1 - rho)
    u = _scaled(xp, x, hl, hr)
    return (2 / (hl + hr)) * (eta / (math.pi * (1 + u * u)) + (1 - eta) * math.sqrt(LN2 / math.pi) * xp.exp(-LN2 * u * u))


def _lor(xp, x, f, eta, rho):
    hl, hr = 0.5 * f * (1 + rho), 0.5 * f * (1 - rho)
    u = _scaled(xp, x, hl, hr)
    return (2 / (hl + hr)) * eta / (math.pi * (1 + u * u))


class ReferencePipeline:
    """``__call__(two_theta [B,P], intensity [B,P], po_cos2 [B,P,K], po_weight [B,P,K]) -> [B, n_bins]``."""

    def __init__(self, cfg, backend: Backend):
        self.cfg, self.be = cfg, backend
        self.n, self.s = int(cfg.n_bins), int(cfg.render_stride)
        self.dx = (cfg.two_theta_max - cfg.two_theta_min) / self.n
        self.nc = int(math.ceil(1.5 * cfg.fwhm_max / (self.s * self.dx))) + 1
        self.cells = self.n // self.s
        wb = (2 * self.nc + 1) * self.s
        t = (np.arange(wb) + 0.5) / self.s - 0.5 + 1.0
        lo = np.floor(t).astype(int)
        m = np.zeros((wb, 2 * self.nc + 3), np.float32)
        m[np.arange(wb), lo], m[np.arange(wb), lo + 1] = 1 - (t - lo), t - lo
        self.interp_m = backend.asarray(m.T)
        xc = (np.arange(self.n) + 0.5) * self.dx
        cc = (np.arange(self.cells) + 0.5) * self.s * self.dx
        j = np.clip(np.searchsorted(cc, xc) - 1, 0, self.cells - 2)
        w = np.clip((xc - cc[j]) / (cc[j + 1] - cc[j]), 0, 1)
        self.fine_lo, self.fine_w = j, backend.asarray(w)
        if backend.name == "torch":
            self.fine_lo = backend.torch.as_tensor(j)
        self.centres, self.cell_c = backend.asarray(xc), backend.asarray(cc)

    def sample(self, b):
        be, out = self.be, {}
        for name in self.cfg.ranges.keys():
            lo, hi = np.asarray(self.cfg.ranges[name], float).reshape(-1, 2)[0]
            u = be.rand(b, 1)
            out[name] = (be.xp.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))) if name in self.cfg.log_uniform
                         else lo + u * (hi - lo))
        src = np.asarray([s[1:] for s in self.cfg.sources], float)
        pick = np.random.default_rng(0).choice(len(src), size=b, p=src[:, 3] / src[:, 3].sum())
        for i, key in enumerate(("lambda1", "lambda2", "ka2_ratio")):
            out[key] = be.asarray(src[pick, i][:, None])
        return out

    def render(self, tt, inten, f, eta, rho):
        be, xp, s, nc, dx = self.be, self.be.xp, self.s, self.nc, self.dx
        b, p = tt.shape
        cw = s * dx
        k = be.floor_int(tt / cw)
        first = (k - nc) * 1.0
        wb = (2 * nc + 1) * s
        ar = be.asarray(np.arange(wb))
        u = (first[..., None] * s + ar + 0.5) * dx - tt[..., None]
        q = dx / (2 * math.sqrt(3))
        a = (f[..., None], eta[..., None], rho[..., None])
        dens = 0.5 * (_pdf(xp, u - q, *a) + _pdf(xp, u + q, *a)) * dx
        lo = first * cw - tt
        mass = _cdf(be, lo + (2 * nc + 1) * cw, f, eta, rho) - _cdf(be, lo, f, eta, rho)
        dens = dens * (mass / xp.clip(dens.sum(-1), 1e-30, None))[..., None]
        cells = be.asarray(np.arange(-nc - 1, nc + 2))
        xcell = ((k[..., None] + cells) + 0.5) * cw - tt[..., None]
        near = (dens - (_lor(xp, xcell, *a) * dx) @ self.interp_m) * inten[..., None]
        ar_int = np.arange(wb) if be.name == "numpy" else be.torch.arange(wb)
        fine = ((k - nc) * s)[..., None] + ar_int.reshape(1, 1, -1)
        fine = fine.reshape(b, -1)
        ok = (fine >= 0) & (fine < self.n)
        bidx = (np.arange(b)[:, None] if be.name == "numpy" else be.torch.arange(b)[:, None]) * self.n
        flat = xp.where(ok, fine + bidx, 0).reshape(-1)
        prof = be.bincount(flat, xp.where(ok, near.reshape(b, -1), 0.0).reshape(-1), b * self.n).reshape(b, self.n)
        # [B, C]: the sum over peaks as a batched matrix product (BLAS), as the JAX renderer does
        far = ((inten * dx)[:, None, :] @ _lor(xp, self.cell_c - tt[..., None], *a))[:, 0, :]
        return prof + far[:, self.fine_lo] * (1 - self.fine_w) + far[:, self.fine_lo + 1] * self.fine_w

    def __call__(self, tt, inten, c2, w):
        be, xp, cfg = self.be, self.be.xp, self.cfg
        b, p = tt.shape
        pr = self.sample(b)
        lam_ref = float(cfg.lambda_ref)
        # source scale, LP re-weighting
        sn = _sin_t(xp, tt) * pr["lambda1"] / lam_ref
        ok = (sn < math.sin(math.radians(75.0))) & (inten > 0)
        tts = xp.where(ok, _tt(xp, sn), 0.0)
        inten = xp.where(ok, inten * _lp(xp, xp.where(ok, tts, 90.0)) / _lp(xp, xp.where(ok, tt, 90.0)), 0.0)
        r = pr["po_r"][..., None]
        inten = inten * ((r * r * c2 + (1 - c2) / r) ** -1.5 * w).sum(-1) / xp.clip(w.sum(-1), 1e-12, None)
        inten = inten * xp.clip(1 + pr["intensity_noise"] * be.randn(b, p), 0.0, None)
        m = int(cfg.impurity_slots)
        live = be.asarray(np.arange(m))[None] < xp.floor(pr["impurity_count"])
        imp_i = xp.where(live, be.rand(b, m) * pr["impurity_intensity"] * be.amax(inten, 1), 0.0)
        tts = be.cat([tts, 5 + 110 * be.rand(b, m)], 1)
        inten = be.cat([inten, imp_i], 1)
        if cfg.ka2:
            s2 = _sin_t(xp, tts) * pr["lambda2"] / pr["lambda1"]
            ok2 = (s2 < 0.999) & (inten > 0)
            tts = be.cat([tts, xp.where(ok2, _tt(xp, s2), 0.0)], 1)
            inten = be.cat([inten, xp.where(ok2, inten * pr["ka2_ratio"], 0.0)], 1)
        q = tts.shape[1]
        tts = tts + pr["zero_shift"]
        tts = tts - (2 * pr["displacement"] * xp.cos(tts * math.pi / 360) / 240.0) * (180 / math.pi)
        tts = tts + pr["position_noise"] * be.randn(b, q)
        th = tts * math.pi / 360
        tn = xp.tan(th)
        h2 = pr["U"] * tn * tn + pr["V"] * tn + pr["W"] + pr["P"] / xp.cos(th) ** 2
        cag = xp.clip(xp.sqrt(xp.clip(h2, cfg.fwhm_min**2, None)), cfg.fwhm_min, cfg.fwhm_max)
        size = (0.9 * pr["lambda1"] / (10 * pr["crystallite_size"] * xp.cos(th))) * (180 / math.pi)
        f = xp.clip(xp.sqrt(cag**2 + size**2), cfg.fwhm_min, cfg.fwhm_max)
        sr = _sin_t(xp, tts) * lam_ref / pr["lambda1"]
        ok = sr < 1.0
        ttr = xp.where(ok, _tt(xp, sr), 0.0)
        f = xp.clip(f * lam_ref * xp.cos(th) / (pr["lambda1"] * xp.sqrt(xp.clip(1 - sr**2, 1e-6, None))),
                    cfg.fwhm_min, cfg.fwhm_max)
        keep = ok & (ttr >= pr["crop_low"]) & (ttr <= pr["crop_high"])
        y = self.render(ttr, xp.where(keep, inten, 0.0), f, pr["eta"] + 0 * f, pr["rho"] + 0 * f)
        # smooth background
        x = 2 * self.centres / float(cfg.two_theta_max) - 1
        c = 2 * be.rand(b, 4) - 1
        cheb = c[:, :1] + c[:, 1:2] * x + c[:, 2:3] * (2 * x * x - 1) + c[:, 3:4] * (4 * x**3 - 3 * x)
        cheb = cheb - cheb.min(1, keepdims=True) if be.name == "numpy" else cheb - cheb.amin(1, keepdim=True)
        cheb = cheb / xp.clip(be.amax(cheb, 1), 1e-6, None)
        ymax = be.amax(y, 1)
        hump = xp.exp(-4 * LN2 * ((self.centres - pr["hump_center"]) / pr["hump_width"]) ** 2)
        y = y + ymax * (pr["background_level"] * cheb + pr["hump_height"] * hump)
        ymax = be.amax(y, 1)
        var = (pr["white_noise"] * ymax) ** 2 + (pr["scaled_noise"] * y) ** 2 + xp.clip(y, 0, None) * ymax / pr["counts"]
        y = xp.clip(y + xp.sqrt(var) * be.randn(b, self.n), 0.0, None)
        y = xp.where((self.centres >= pr["measure_low"]) & (self.centres <= pr["measure_high"]), y, 0.0)
        return y / xp.clip(be.amax(y, 1), 1e-12, None)
