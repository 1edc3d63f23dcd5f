"""Files that are whole or absent. A counter PC may lose power mid-write: every file the
station writes (PDFs, the token, settings, bundles, reports, the scan workspace) goes to a
temporary name beside its target, is fsynced, then renamed over it, and the directory is
fsynced so the rename itself survives. A failure removes the temporary file and leaves
the target as it was."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def sha256_and_size(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in 1 MiB blocks (flat memory for an A0)."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def sha256_file(path: Path) -> str:
    return sha256_and_size(Path(path))[0]


def fsync_dir(directory: Path) -> None:
    """Make a rename durable. Windows cannot open directories; NTFS journals renames."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with path.open("rb+") as f:
        os.fsync(f.fileno())


def temp_path(target: Path, suffix: str = ".tmp") -> Path:
    """An unused hidden name beside ``target`` (same file system, so the rename is
    atomic; the leading dot keeps it out of the clerk's file manager). Not created: some
    writers (a scanner driver's SaveFile) refuse an existing file."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}{suffix}")


@contextmanager
def replacing(target: Path, *, suffix: str = ".tmp", mode: int | None = None
              ) -> Iterator[Path]:
    """A temporary path for a writer that wants a path (pikepdf, a driver, a ZIP writer).
    When the block ends normally the file is fsynced, given ``mode`` (when set) and
    renamed over ``target``; on any error it is removed."""
    tmp = temp_path(target, suffix)
    try:
        yield tmp
        if mode is not None:
            tmp.chmod(mode)
        fsync_file(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(target.parent)


@contextmanager
def atomic_writer(target: Path, *, mode: int = 0o644, suffix: str = ".tmp"
                  ) -> Iterator[BinaryIO]:
    """An open binary file that replaces ``target`` once the block ends normally. The
    file is created with ``mode`` (0600 for a secret: never readable by others, not even
    for a moment)."""
    with replacing(target, suffix=suffix) as tmp:
        tmp.touch(mode=mode, exist_ok=False)
        with tmp.open("wb") as f:
            yield f


def write_atomically(target: Path, data: bytes | str, *, mode: int = 0o644) -> None:
    """Write ``data`` (text as UTF-8) to ``target``, in a directory that exists."""
    with atomic_writer(target, mode=mode) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
