"""CIF sources for ``dataset build``: folders (recursive), ``.tar.gz`` / ``.tgz`` / ``.tar`` / ``.zip`` archives
read member by member without unpacking to disk, and single ``.cif`` files.

Every item is ``(name, bytes or None, problem or None)``; archive members are named ``archive!member``.
Only regular files are read (a FIFO or device named ``.cif`` would block or never end), and no file or
member larger than :data:`MAX_CIF_BYTES` is read (zip bombs included: the declared size is checked first,
and the read itself is bounded).
"""

from __future__ import annotations

import os
import stat
import tarfile
import zipfile
from typing import Iterator

from difcon_jax.crystal.structure import MAX_CIF_BYTES  # one bound for files and archive members
from difcon_jax.errors import InputError
from difcon_jax.files import read_user_file

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")

Item = tuple[str, "bytes | None", "str | None"]


def is_archive(path: str) -> bool:
    """Whether ``path`` names an archive read member by member (.tar.gz, .tgz, .tar, .zip)."""
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def _is_cif(name: str) -> bool:
    return name.lower().endswith(".cif")


def _read_regular(path: str) -> Item:
    try:
        return path, read_user_file(path, MAX_CIF_BYTES), None
    except InputError as e:
        return path, None, e.problem


def _tar_items(path: str) -> Iterator[Item]:
    try:
        with tarfile.open(path, "r:*") as tar:
            for m in tar:  # streaming: one member at a time
                if not m.isfile() or not _is_cif(m.name):
                    continue
                name = f"{path}!{m.name}"
                if m.size > MAX_CIF_BYTES:
                    yield name, None, f"member larger than {MAX_CIF_BYTES >> 20} MiB"
                    continue
                fh = tar.extractfile(m)
                yield name, fh.read(MAX_CIF_BYTES + 1), None
    except (tarfile.TarError, OSError, EOFError) as e:
        yield path, None, f"unreadable archive ({type(e).__name__}: {' '.join(str(e).split())})"


def _zip_items(path: str) -> Iterator[Item]:
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir() or not _is_cif(info.filename):
                    continue
                name = f"{path}!{info.filename}"
                if info.file_size > MAX_CIF_BYTES:
                    yield name, None, f"member larger than {MAX_CIF_BYTES >> 20} MiB"
                    continue
                try:
                    with zf.open(info) as fh:
                        data = fh.read(MAX_CIF_BYTES + 1)  # bounded even if the declared size lies
                except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as e:
                    yield name, None, f"unreadable member ({type(e).__name__}: {e})"
                    continue
                yield name, data, None
    except (zipfile.BadZipFile, OSError) as e:
        yield path, None, f"unreadable archive ({type(e).__name__}: {' '.join(str(e).split())})"


def _archive_items(path: str) -> Iterator[Item]:
    try:
        st = os.stat(path)
    except OSError as e:
        yield path, None, e.strerror or str(e)
        return
    if not stat.S_ISREG(st.st_mode):
        yield path, None, "not a regular file (FIFO, device or socket); not read"
        return
    yield from (_zip_items(path) if path.lower().endswith(".zip") else _tar_items(path))


def read_archive_member(archive: str, member: str) -> bytes:
    """The bytes of one CIF member of a .tar(.gz)/.tgz/.zip archive (an item named ``archive!member``), bounded as
    the iteration above reads them; KeyError for a member the archive lacks, InputError for one that is not a
    regular file of at most :data:`MAX_CIF_BYTES`, the archive modules' errors for a broken archive."""
    if archive.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            info = zf.getinfo(member)
            if info.file_size > MAX_CIF_BYTES:
                raise InputError(f"{archive}!{member}", f"member larger than {MAX_CIF_BYTES >> 20} MiB")
            with zf.open(info) as fh:
                return fh.read(MAX_CIF_BYTES + 1)
    with tarfile.open(archive, "r:*") as tar:
        m = tar.getmember(member)
        if not m.isfile() or m.size > MAX_CIF_BYTES:
            raise InputError(f"{archive}!{member}", f"not a regular member of at most {MAX_CIF_BYTES >> 20} MiB")
        return tar.extractfile(m).read(MAX_CIF_BYTES + 1)


def iter_cif_items(sources: list[str]) -> Iterator[Item]:
    """Every CIF under ``sources`` (folders, archives or files), in a deterministic order."""
    for src in sources:
        if os.path.isdir(src):
            for root, dirs, files in os.walk(src):
                dirs.sort()
                for f in sorted(files):
                    p = os.path.join(root, f)
                    if is_archive(p):
                        yield from _archive_items(p)
                    elif _is_cif(f):
                        yield _read_regular(p)
        elif is_archive(src):
            yield from _archive_items(src)
        else:
            yield _read_regular(src)


def check_sources(sources: list[str]) -> None:
    """FileNotFoundError naming the first source that does not exist."""
    for src in sources:
        if not os.path.exists(src):
            raise FileNotFoundError(f"{src}: no such file or directory")
