"""Deterministic structure-level splits by a hash of the structure key: train, equivariance test, and a
validation set of other held-out structures for calibration (temperature, ``uncertain`` threshold), so
that nothing fitted after training sees a test structure.

The key is ``"<reduced formula>|<space group>"``: the same compound listed twice (two CIFs of one
mineral, one prototype in two databases) hashes to the same split whatever the file order, so no
structure is in both.
"""

from __future__ import annotations

import enum
import hashlib


class Split(enum.IntEnum):
    """A structure's side of the split; the peak table stores the integer."""

    TRAIN = 0
    EQUIVARIANCE_TEST = 1  # held-out structures: the equivariance axis
    VALIDATION = 2  # held-out structures for calibration, never scored


SPLIT_NAMES = tuple(s.name.lower() for s in Split)  # ("train", "equivariance_test", "validation")


def split_key(reduced_formula: str, space_group: int) -> str:
    """The split hash's key: ``'<reduced formula>|<space group>'``."""
    return f"{reduced_formula}|{int(space_group)}"


def split_of(key: str, test_fraction: float = 0.1, validation_fraction: float = 0.0) -> Split:
    """:class:`Split` of ``key``: sha256(key) as a uniform number u in [0, 1);
    u < test_fraction is test, the next ``validation_fraction`` is validation (so the test set does not
    depend on whether a validation set is carved out)."""
    if not (0.0 <= test_fraction and 0.0 <= validation_fraction and test_fraction + validation_fraction <= 1.0):
        raise ValueError(f"test fraction {test_fraction} + validation fraction {validation_fraction} is outside [0, 1]")
    u = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2.0**64
    if u < test_fraction:
        return Split.EQUIVARIANCE_TEST
    return Split.VALIDATION if u < test_fraction + validation_fraction else Split.TRAIN
