"""Where the gateway keeps file bytes: finished blobs (content-addressed by SHA-256) and
the segments of tus uploads in progress.

`BlobStore` is the interface; `LocalBlobStore` (the default) keeps them under the data
directory, `provincial_gateway.object_store.S3BlobStore` in an S3-compatible bucket so
that replicas on several machines share them. Either way the *database* says which
segments make up an upload (`upload_segments`) and which blobs exist (`blobs`): a
store object that no row names is garbage, never data.

Every store also has a local `scratch` folder for this process's spools and staging
(PATCH bodies, USB bundles, installers being published); nothing in it is shared."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
SEGMENT_NAME = re.compile(r"^[0-9]{19}-[0-9a-f]{16}$")
READ_CHUNK = 1024 * 1024


def is_sha256(value: str) -> bool:
    return bool(SHA256_HEX.match(value))


def segment_name(offset: int) -> str:
    """A fresh segment name for bytes starting at `offset`: unique, so a PATCH that lost
    the race at that offset can never overwrite the winner's bytes."""
    return f"{offset:019d}-{secrets.token_hex(8)}"


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


def iter_file(path: Path, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes `start` … `end` (exclusive; None = to the end) of a file, in chunks."""
    with path.open("rb") as f:
        f.seek(start)
        left = None if end is None else max(0, end - start)
        while left is None or left > 0:
            chunk = f.read(READ_CHUNK if left is None else min(READ_CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


class BlobStore(ABC):
    """Blobs and upload segments. Methods block (call them from a worker thread)."""

    scratch: Path

    def scratch_file(self, prefix: str, suffix: str = ".tmp") -> Path:
        return self.scratch / f"{prefix}-{secrets.token_hex(8)}{suffix}"

    # --- finished blobs -------------------------------------------------------------
    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def size(self, sha256: str) -> int | None:
        """The stored size, or None when the blob is not there."""

    @abstractmethod
    def put_file(self, src: Path, sha256: str) -> None:
        """Store a verified, fsynced scratch file as blob `sha256`; `src` is consumed
        (moved or uploaded, then deleted). Storing a blob already held is a no-op."""

    def put_bytes(self, data: bytes, sha256: str) -> None:
        """Store verified bytes (temp file, fsync, `put_file`)."""
        if self.exists(sha256):
            return
        tmp = self.scratch_file("put")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        self.put_file(tmp, sha256)

    @abstractmethod
    def iter_range(self, sha256: str, start: int = 0, end: int | None = None
                   ) -> Iterator[bytes]:
        """Stream bytes `start` … `end` (exclusive) of a stored blob."""

    def local_path(self, sha256: str) -> Path | None:
        """The blob as a local file when the store has one (served with sendfile)."""
        return None

    def close(self) -> None:
        """Let go of connections (a client's pool); the store is not used after."""
        return None

    # --- tus upload segments --------------------------------------------------------
    @abstractmethod
    def put_segment(self, upload_id: str, name: str, src: Path) -> None:
        """Store a fsynced scratch file as segment `name` of `upload_id`; `src` is
        consumed. Durable when this returns (then the database may record it)."""

    @abstractmethod
    def iter_segment(self, upload_id: str, name: str) -> Iterator[bytes]: ...

    @abstractmethod
    def compose(self, upload_id: str, names: list[str], sha256: str) -> None:
        """Store the concatenation of these segments (already verified against
        `sha256`) as that blob. The segments may be consumed."""

    @abstractmethod
    def drop_segment(self, upload_id: str, name: str) -> None: ...

    @abstractmethod
    def drop_segments(self, upload_id: str) -> None:
        """Delete every segment of an upload (finished, failed, deleted or expired)."""


class LocalBlobStore(BlobStore):
    """`blobs/ab/cdef…` and `upload-segments/<id>/<name>` under the data directory, with
    `uploads/` as scratch: on one file system, so storing is an atomic rename."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "blobs"
        self.uploads = data_dir / "uploads"
        self.scratch = self.uploads
        self.segments = data_dir / "upload-segments"
        for folder in (self.root, self.uploads, self.segments):
            folder.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def local_path(self, sha256: str) -> Path | None:
        path = self.path(sha256)
        return path if path.is_file() else None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def put_file(self, src: Path, sha256: str) -> None:
        dest = self.path(sha256)
        if dest.exists():
            src.unlink(missing_ok=True)
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        # The new name must survive a power cut; the old one coming back would only be a
        # leftover in scratch (or a segment no row names), so its folder is not synced.
        fsync_dir(dest.parent)

    def iter_range(self, sha256: str, start: int = 0, end: int | None = None
                   ) -> Iterator[bytes]:
        return iter_file(self.path(sha256), start, end)

    def segment_path(self, upload_id: str, name: str) -> Path:
        return self.segments / upload_id / name

    def put_segment(self, upload_id: str, name: str, src: Path) -> None:
        dest = self.segment_path(upload_id, name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        fsync_dir(dest.parent)

    def iter_segment(self, upload_id: str, name: str) -> Iterator[bytes]:
        return iter_file(self.segment_path(upload_id, name))

    def compose(self, upload_id: str, names: list[str], sha256: str) -> None:
        if self.exists(sha256):
            return
        if len(names) == 1:  # the usual case, one PATCH: a rename, no copy
            self.put_file(self.segment_path(upload_id, names[0]), sha256)
            return
        tmp = self.scratch_file("compose")
        with tmp.open("wb") as out:
            for name in names:
                with self.segment_path(upload_id, name).open("rb") as seg:
                    shutil.copyfileobj(seg, out, READ_CHUNK)
            out.flush()
            os.fsync(out.fileno())
        self.put_file(tmp, sha256)

    def drop_segment(self, upload_id: str, name: str) -> None:
        self.segment_path(upload_id, name).unlink(missing_ok=True)

    def drop_segments(self, upload_id: str) -> None:
        shutil.rmtree(self.segments / upload_id, ignore_errors=True)
