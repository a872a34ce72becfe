"""Sub-commands added by later parts of the system (augmentation pictures, training, evaluation)."""

from __future__ import annotations


def add_commands(sub) -> None:
    return None
