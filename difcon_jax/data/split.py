"""Deterministic structure-level splits: train vs equivariance-test by a hash of the structure key.

The key is ``"<reduced formula>|<space group>"``: the same compound listed twice (two CIFs of one
mineral, one prototype in two databases) hashes to the same split whatever the file order, so no
structure is in both.
"""

from __future__ import annotations

import hashlib

SPLIT_NAMES = ("train", "equivariance_test")


def split_key(reduced_formula: str, space_group: int) -> str:
    return f"{reduced_formula}|{int(space_group)}"


def split_of(key: str, test_fraction: float = 0.1) -> int:
    """0 (train) or 1 (equivariance test): sha256(key) as a uniform number in [0, 1) against the fraction."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test fraction {test_fraction} is outside [0, 1]")
    u = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2.0**64
    return int(u < test_fraction)
