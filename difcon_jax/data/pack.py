"""A peak table packed into one file small enough to carry to a lent accelerator, and unpacked there into the
ordinary table directory (:mod:`~difcon_jax.data.peak_table`), which training reads as always.

The full real table (148,256 structures, 96 peaks each: 551 MB as ``.npy`` at 128 peaks) has to travel with
the device call (64 MiB for everything carried); a table of the minerals alone would fit, but a network trained
on them learns the minerals, not diffraction (results/network_axes/README.md, model S). Packing keeps every
structure and quantises what training cannot resolve:

* 2θ on a grid of 0.001° (within ±0.0005°), stored as differences along each structure's peaks (sorted by
  2θ): the model's bins are 0.02° and training jitters positions by up to 0.01° (a sharp line moved by
  0.0005° changes a rendered bin by ~1 % of its height);
* intensity as −ln(I / 100) on a grid of 0.01 (within ±0.5 %): training perturbs intensities by up to 15 %
  (a grid of 0.005 cost 1.8 MB more on the full table, which the call's 64 MiB could not spare beside the
  wheels and the repository: ``launch/device_wheels.sh`` prints the sum);
* the March–Dollase cos²α and weights to 1/255, as the reference database stores them (weights renormalised
  to sum 1 on unpacking; a cos²α whose weight is zero is stored as 0);
* the rest exactly (labels, split, reduced cells, dropped fractions, source ids and formulas).

Each array is compressed with xz after splitting multi-byte values into byte planes (the high bytes of 16-bit
values compress apart from the low ones). The file is an uncompressed ``.npz`` of ``uint8`` arrays and a JSON
header: nothing is pickled.
"""

from __future__ import annotations

import json
import lzma
import os
import zipfile

import numpy as np

from difcon_jax.data.peak_table import OPTIONAL_ARRAYS, PeakTable, load_peak_table, write_peak_table
from difcon_jax.errors import InputError
from difcon_jax.files import atomic_savez

FORMAT = "difcon-jax/packed-peak-table"
VERSION = 1
#: relative intensity grid: −ln(I/100) in steps of this (1 %: within ±0.5 %); the header records it
LN_INTENSITY_STEP = 0.01
#: the 2θ grid (degrees)
TT_STEP = 0.001
_U16 = 65535
_PER_ROW = ("space_group", "crystal_system", "extinction_group", "split", "dropped_fraction")
_TEXT = ("source_id", "formula")


def _planes(a: np.ndarray) -> bytes:
    """The bytes of ``a`` with each byte position of its items stored together (least significant first)."""
    a = np.ascontiguousarray(a)
    return np.ascontiguousarray(a.view(np.uint8).reshape(-1, a.dtype.itemsize).T).tobytes()


def _unplanes(raw: bytes, dtype, shape) -> np.ndarray:
    dtype = np.dtype(dtype)
    b = np.frombuffer(raw, np.uint8).reshape(dtype.itemsize, -1).T
    return np.ascontiguousarray(b).view(dtype).reshape(shape)


def _xz(data: bytes) -> np.ndarray:
    return np.frombuffer(lzma.compress(data, preset=6), np.uint8)


def quantise_peaks(two_theta, intensity, mask, po_cos2, po_weight, max_peaks: int, tt_step: float = TT_STEP,
                   ln_step: float = LN_INTENSITY_STEP):
    """Each row's ``max_peaks`` strongest peaks, sorted by 2θ with the real ones first, quantised:
    (n_peaks int[N], 2θ differences uint32[N, P] (in ``tt_step``), intensity codes uint16[N, P] (in ``ln_step``),
    cos²α uint8[N, P, K], weights uint8[N, P, K]). Inputs: the table's [N, P₀] (and [N, P₀, K]) arrays."""
    order = kept_order(two_theta, intensity, mask, max_peaks)
    live = np.take_along_axis(mask, order, 1)
    n = live.sum(1)
    tq = np.where(live, np.round(np.take_along_axis(two_theta, order, 1) / tt_step), 0).astype(np.int64)
    dtt = np.diff(tq, axis=1, prepend=0)
    dtt = np.where(live, dtt, 0)
    i = np.take_along_axis(intensity, order, 1).astype(np.float64)
    iq = np.round(-np.log(np.maximum(i, 1e-300) / 100.0) / ln_step)
    iq = np.where(live, np.clip(iq, 0, _U16), 0).astype(np.uint16)
    w = np.take_along_axis(np.asarray(po_weight, np.float32), order[..., None], 1)
    c = np.take_along_axis(np.asarray(po_cos2, np.float32), order[..., None], 1)
    wq = np.where(live[..., None], np.round(np.clip(w, 0, 1) * 255), 0).astype(np.uint8)
    cq = np.where(wq > 0, np.round(np.clip(c, 0, 1) * 255), 0).astype(np.uint8)
    return n, dtt.astype(np.uint32), iq, cq, wq


def pack_table(table_path: str, out: str, max_peaks: int | None = None, chunk: int = 16384) -> dict:
    """Pack the peak table at ``table_path`` into ``out`` (an ``.npz``; written atomically) keeping each
    structure's ``max_peaks`` strongest peaks (default: all the table holds). Returns a summary: rows, peaks,
    bytes, the largest 2θ (degrees) and relative intensity errors of the quantisation."""
    t = load_peak_table(table_path)
    p = int(min(max_peaks or t.max_peaks, t.max_peaks))
    if p > _U16:
        raise ValueError(f"{table_path}: {p} peaks per structure is more than a packed table holds")
    tt_step = TT_STEP
    parts: dict[str, list] = {k: [] for k in ("n", "dtt", "iq", "cq", "wq")}
    err_tt = err_i = 0.0
    for s in range(0, len(t), chunk):
        sl = slice(s, s + chunk)
        mask = np.asarray(t.mask[sl])
        q = quantise_peaks(np.asarray(t.two_theta[sl], np.float64), np.asarray(t.intensity[sl], np.float64), mask,
                           t.po_cos2[sl], t.po_weight[sl], p, tt_step)
        for k, v in zip(parts, q):
            parts[k].append(v)
        back = dequantise_peaks(*q, tt_step)
        ref = strongest_sorted(t, sl, p)
        live = back[2]
        if live.any():
            err_tt = max(err_tt, float(np.abs(back[0] - ref[0])[live].max()))
            err_i = max(err_i, float((np.abs(back[1] - ref[1]) / np.maximum(ref[1], 1e-30))[live].max()))
    cat = {k: np.concatenate(v) if v else np.zeros((0,), np.uint16) for k, v in parts.items()}
    n_rows = len(t)
    k_slots = int(t.po_cos2.shape[2])
    arrays = {"n_peaks": cat["n"].astype(np.uint16 if p > 255 else np.uint8), "dtt": cat["dtt"],
              "intensity_code": cat["iq"], "po_cos2": cat["cq"], "po_weight": cat["wq"]}
    for k in _PER_ROW:
        arrays[k] = np.asarray(getattr(t, k))
    if t.reduced_cell is not None:
        arrays["reduced_cell"] = np.asarray(t.reduced_cell, np.float32)
    stored = {}
    shapes = {}
    for k, a in arrays.items():
        a = np.ascontiguousarray(a)
        shapes[k] = {"dtype": a.dtype.str, "shape": list(a.shape)}
        stored[k] = _xz(_planes(a))
    for k in _TEXT:
        items = np.asarray(getattr(t, k)).astype(str).tolist()
        if any("\n" in v for v in items):
            raise ValueError(f"{table_path}: a {k} holds a line break; it cannot be packed")
        stored[k] = _xz("\n".join(items).encode("utf-8"))
    header = {"format": FORMAT, "version": VERSION, "rows": n_rows, "max_peaks": p, "po_slots": k_slots,
              "tt_step": tt_step, "ln_intensity_step": LN_INTENSITY_STEP, "arrays": shapes, "table_meta": t.meta}
    stored["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8)
    atomic_savez(out, **stored)
    size = sum(v.nbytes for v in stored.values())
    return {"rows": n_rows, "max_peaks": p, "bytes": size, "tt_step": tt_step, "max_tt_error": err_tt,
            "max_relative_intensity_error": err_i}


def kept_order(two_theta, intensity, mask, p: int) -> np.ndarray:
    """int[N, p]: the indices of each row's ``p`` strongest peaks, sorted by 2θ with the real ones first."""
    order = np.argsort(-np.where(mask, intensity, -1.0), axis=1, kind="stable")[:, :p]
    live = np.take_along_axis(mask, order, 1)
    by_tt = np.argsort(np.where(live, np.take_along_axis(two_theta, order, 1), np.inf), axis=1, kind="stable")
    return np.take_along_axis(order, by_tt, 1)


def strongest_sorted(t: PeakTable, rows, p: int):
    """(2θ, intensity, mask) [n, p] of rows ``rows`` of ``t``: the ``p`` strongest peaks, sorted by 2θ with the
    real ones first — what a packed table holds, unquantised (for measuring the quantisation)."""
    mask = np.asarray(t.mask[rows])
    tt, inten = np.asarray(t.two_theta[rows], np.float64), np.asarray(t.intensity[rows], np.float64)
    order = kept_order(tt, inten, mask, p)
    live = np.take_along_axis(mask, order, 1)
    return (np.where(live, np.take_along_axis(tt, order, 1), 0.0),
            np.where(live, np.take_along_axis(inten, order, 1), 0.0), live)


def dequantise_peaks(n, dtt, iq, cq, wq, tt_step: float = TT_STEP, ln_step: float = LN_INTENSITY_STEP):
    """(2θ float32[N, P], intensity float32[N, P], mask bool[N, P], cos²α float16[N, P, K], weights
    float16[N, P, K]) of :func:`quantise_peaks`' codes."""
    mask = np.arange(dtt.shape[1])[None, :] < np.asarray(n)[:, None]
    tt = np.cumsum(dtt.astype(np.int64), axis=1) * tt_step
    inten = 100.0 * np.exp(-iq.astype(np.float64) * ln_step)
    w = wq.astype(np.float32)
    total = w.sum(-1, keepdims=True)
    w = np.where(total > 0, w / np.maximum(total, 1e-30), 0.0)
    return (np.where(mask, tt, 0.0).astype(np.float32), np.where(mask, inten, 0.0).astype(np.float32), mask,
            (cq.astype(np.float32) / 255.0).astype(np.float16), w.astype(np.float16))


def read_packed(path: str) -> tuple[dict, dict]:
    """(header, {name: array or list of str}) of a packed table; InputError (one line, naming the file)
    when it is not one."""
    if not os.path.isfile(path):
        raise InputError(path, "no such file")
    if not zipfile.is_zipfile(path):
        raise InputError(path, "not a packed peak table (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            raw = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise InputError(path, f"not a packed peak table ({' '.join(str(e).split()) or type(e).__name__})") from None
    try:
        header = json.loads(bytes(raw.pop("header")).decode("utf-8"))
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise ValueError(f"format {header.get('format')!r} version {header.get('version')!r}")
        out: dict = {}
        for k, spec in header["arrays"].items():
            out[k] = _unplanes(lzma.decompress(bytes(raw[k])), spec["dtype"], tuple(spec["shape"]))
        for k in _TEXT:
            text = lzma.decompress(bytes(raw[k])).decode("utf-8")
            out[k] = text.split("\n") if header["rows"] else []
    except (KeyError, ValueError, TypeError, lzma.LZMAError) as e:
        raise InputError(path, f"not a readable packed peak table ({' '.join(str(e).split())})") from None
    return header, out


def unpack_table(path: str, out: str) -> PeakTable:
    """Write the packed table ``path`` as a peak-table directory ``out`` (atomically; an existing peak table
    there is replaced, anything else refused) and return it loaded."""
    header, a = read_packed(path)
    tt, inten, mask, c2, w = dequantise_peaks(a["n_peaks"], a["dtt"], a["intensity_code"], a["po_cos2"],
                                              a["po_weight"], header["tt_step"], header["ln_intensity_step"])
    arrays = {"two_theta": tt, "intensity": inten, "mask": mask, "po_cos2": c2, "po_weight": w,
              **{k: a[k] for k in _PER_ROW}, **{k: np.asarray(a[k]) for k in _TEXT}}
    for k in OPTIONAL_ARRAYS:
        if k in a:
            arrays[k] = a[k]
    meta = {k: v for k, v in header["table_meta"].items() if k not in ("format", "version", "num_structures",
                                                                        "max_peaks")}
    meta["unpacked_from"] = {"file": str(path), "tt_step": header["tt_step"],
                             "ln_intensity_step": header["ln_intensity_step"]}
    write_peak_table(out, arrays, meta)
    return load_peak_table(out)
