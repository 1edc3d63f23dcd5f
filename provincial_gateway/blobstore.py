"""Content-addressed file store `blobs/ab/cdef…` and the tus partial files beside it.

Both live under one data directory so that completing an upload is a rename on the same
file system, which is atomic."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
READ_CHUNK = 1024 * 1024


def is_sha256(value: str) -> bool:
    return bool(SHA256_HEX.match(value))


def fsync_dir(path: Path) -> None:
    """Make a rename or create in `path` durable (POSIX; Windows has no directory fsync)."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(READ_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class BlobStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "blobs"
        self.uploads = data_dir / "uploads"
        self.root.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def partial_path(self, upload_id: str) -> Path:
        return self.uploads / f"{upload_id}.part"

    def adopt(self, src: Path, sha256: str) -> None:
        """Move an fsynced, verified file into the store (or drop it if already held)."""
        dest = self.path(sha256)
        if dest.exists():
            src.unlink(missing_ok=True)
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        fsync_dir(dest.parent)
        fsync_dir(src.parent)

    def put_bytes(self, data: bytes, sha256: str) -> None:
        """Write verified bytes: temp file, fsync, rename."""
        if self.exists(sha256):
            return
        tmp = self.uploads / f"put-{secrets.token_hex(8)}.tmp"
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        self.adopt(tmp, sha256)
