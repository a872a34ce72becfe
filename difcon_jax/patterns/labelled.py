"""Labelled folders of measured patterns: ``labels.csv`` (file, space_group, ...) beside the pattern files,
read into model inputs. Measured patterns are only ever scored, never trained on or calibrated with."""

from __future__ import annotations

import csv
import os

import numpy as np

from difcon_jax.errors import InputError
from difcon_jax.patterns.preprocess import to_model_input
from difcon_jax.patterns.reader import read_pattern


def read_labels(folder: str) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    """``labels.csv`` of a folder of measured patterns: ([(file path, space group 1–230)], [(row, reason)]).

    A missing file or a missing ``file`` / ``space_group`` column is an error (before any other work); a
    row with a space group that is not 1–230 is skipped and reported."""
    labels = os.path.join(folder, "labels.csv")
    try:
        with open(labels, newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            columns = reader.fieldnames or []
    except OSError as e:
        raise InputError(labels, e.strerror or str(e)) from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(labels, f"not a readable CSV ({type(e).__name__})") from None
    missing = [c for c in ("file", "space_group") if c not in columns]
    if missing:
        raise InputError(labels, f"no {' or '.join(repr(c) for c in missing)} column (have {columns})")
    good, bad = [], []
    for i, row in enumerate(rows, start=2):
        raw = (row.get("space_group") or "").strip()
        if not row.get("file") or not raw.isdigit() or not 1 <= int(raw) <= 230:
            bad.append((f"{labels} line {i}", f"space group {raw!r} is not 1–230" if row.get("file") else "no file"))
            continue
        good.append((os.path.join(folder, row["file"]), int(raw)))
    return good, bad


def load_labelled(folder: str, aug_cfg, wavelength: float | None = None):
    """(profiles float32[M, n_bins] on the grid of ``aug_cfg``, space groups int[M], [(file, reason)] skipped)."""
    rows, failed = read_labels(folder)
    xs, sgs = [], []
    for path, sg in rows:
        try:
            xs.append(to_model_input(read_pattern(path, wavelength), aug_cfg))
            sgs.append(sg)
        except (InputError, ValueError) as e:
            failed.append((path, str(e)))
    x = np.stack(xs) if xs else np.zeros((0, aug_cfg.n_bins), np.float32)
    return x, np.asarray(sgs, int), failed
