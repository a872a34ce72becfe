"""Files: atomic writes (text, JSON, figures: a temporary file in the target's folder, then os.replace) and
bounded reads of user files (regular files only, size checked before reading)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile

import numpy as np

from difcon_jax.errors import InputError


def read_user_file(path: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; :class:`InputError` naming the file otherwise.

    FIFOs, devices (a link to /dev/zero) and sockets are refused before ``open`` so a read can neither block
    nor run without end; the size is checked before reading and the read itself is bounded.
    """

    try:
        st = os.stat(path)
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(path, "not a regular file (FIFO, device or socket); not read")
    if st.st_size > max_bytes:
        raise InputError(path, f"file of {st.st_size / 2**20:.0f} MiB exceeds the limit of {max_bytes / 2**20:.0f} MiB")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None
    if len(raw) > max_bytes:  # grew while we read
        raise InputError(path, f"file exceeds the limit of {max_bytes / 2**20:.0f} MiB")
    return raw


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# read once at import (single-threaded then): flipping the process umask later could race with the files
# Orbax's background threads create
_UMASK = _read_umask()


def open_permissions(path: str) -> None:
    """Give a file or folder made by ``tempfile`` (0600 / 0700) the permissions a plain ``open`` or ``mkdir``
    would have (0666 / 0777 less the umask), so what we write atomically is readable like anything else."""
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~_UMASK)


def atomic_write_text(path: str, text: str) -> str:
    """Write ``text`` to ``path`` atomically (a temporary file beside it, then ``os.replace``); returns ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    open_permissions(tmp)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_json(path: str, obj) -> str:
    """Write ``obj`` as indented JSON to ``path`` atomically; returns ``path``."""
    return atomic_write_text(path, json.dumps(obj, indent=1, default=list) + "\n")


@contextlib.contextmanager
def atomic_target(path: str, suffix: str):
    """``with atomic_target(path, ".tmp.npz") as tmp:`` write ``tmp``; on success it replaces ``path`` (the folder
    is created; the file gets plain permissions), on any failure it is removed and ``path`` is untouched."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=suffix, dir=folder)
    os.close(fd)
    open_permissions(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_savefig(fig, path: str, dpi: int = 100) -> str:
    """Save a matplotlib figure to ``path`` atomically (the folder is created), then close it."""
    import matplotlib.pyplot as plt  # plotting is optional work: matplotlib loads when a figure is saved

    try:
        with atomic_target(path, ".tmp.png") as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)
    return path


def atomic_savez(path: str, **arrays) -> str:
    """``np.savez`` (plain arrays, no pickle) to ``path`` atomically (the folder is created); returns ``path``."""
    with atomic_target(path, ".tmp.npz") as tmp:
        np.savez(tmp, **arrays)
    return path
