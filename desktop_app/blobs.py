"""Content-addressed blob store: ``blobs/ab/cdef…`` named by SHA-256.

A file is written to a temporary name in the same directory, fsynced, then renamed, so a
power cut leaves either the whole file or nothing under its final name.

With several counters on one PostgreSQL server the bytes also go to the shared store
(`desktop_app.shared_blobs`) and the disk is a cache: a file received on another counter
is fetched, hash-checked and kept here the first time it is read."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from desktop_app.domain.errors import DomainError
from desktop_app.files import fsync_dir
from desktop_app.shared_blobs import SharedBlobError, SharedBlobStore

log = logging.getLogger(__name__)


class BlobStoreError(DomainError):
    pass


class BlobMissing(BlobStoreError):
    """Neither on this disk nor in the shared store."""


# Written beside the store (``blobs.shared``; in it, it would pass for a blob) once this
# disk's older blobs are all in the shared store.
SHARED_MARK_SUFFIX = ".shared"

_MISSING_VI = "Không đọc được tệp trong kho lưu trữ (tệp bị thiếu hoặc không có quyền đọc)."


def _tmp_prefix() -> str:
    # The writer's pid in the name lets a later start remove what a killed writer left.
    return f".tmp-{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: keep its file
    return True


class BlobStore:
    def __init__(self, root: Path, shared: SharedBlobStore | None = None) -> None:
        self.root = root
        self.shared = shared
        self.sweep_temp()

    def sweep_temp(self) -> int:
        """Remove temporary files of writers that died mid-write (power cut, kill).
        A live writer's files are left alone (another process may share the store)."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for tmp in [*self.root.glob(".tmp-*"), *self.root.glob("*/.tmp-*")]:
            parts = tmp.name.split("-")
            pid = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
            if pid is not None and _pid_alive(pid):
                continue
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha)
        if target.exists() and target.stat().st_size == len(data):
            self.share(sha)
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_tmp_prefix())
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            fsync_dir(target.parent)
        except OSError as exc:
            raise BlobStoreError(
                "Không ghi được tệp vào kho lưu trữ (ổ đĩa đầy hoặc không có quyền ghi).",
                f"blob write {target}: {exc!r}",
            ) from exc
        self.share(sha)
        return sha

    def put_file(self, source: Path) -> tuple[str, int]:
        """Copy a (possibly large) file in, hashing while copying; returns (sha256, size).
        Memory stays flat for a 100 MB map."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        try:
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=_tmp_prefix())
            try:
                with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                    while chunk := src.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                sha = digest.hexdigest()
                target = self.path_for(sha)
                if target.exists() and target.stat().st_size == size:
                    Path(tmp).unlink()
                    self.share(sha)
                    return sha, size
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            fsync_dir(target.parent)
        except OSError as exc:
            raise BlobStoreError(
                "Không ghi được tệp vào kho lưu trữ (ổ đĩa đầy hoặc không có quyền ghi).",
                f"blob put_file {source}: {exc!r}",
            ) from exc
        self.share(sha)
        return sha, size

    # --- the shared store ----------------------------------------------------------------

    def share(self, sha256: str) -> None:
        """Copy a blob of this disk to the shared store (nothing to do on SQLite). Its own
        short transactions: callable inside or after the caller's transaction."""
        if self.shared is None:
            return
        try:
            self.shared.put_file(sha256, self.path_for(sha256))
        except OSError as exc:
            raise BlobStoreError(_MISSING_VI, f"blob share {sha256}: {exc!r}") from exc

    def share_local(self, hashes: list[str]) -> int:
        """Share those of ``hashes`` this disk has and the shared store lacks (files
        received here before the shared store existed); returns how many."""
        if self.shared is None or not hashes:
            return 0
        lacking = sorted(set(hashes) - self.shared.which_have(hashes))
        done = 0
        for sha in lacking:
            if not self.path_for(sha).is_file():
                continue
            try:
                self.share(sha)
            except (BlobStoreError, SharedBlobError) as exc:
                log.warning("blob %s not shared: %s", sha, exc.detail)
                continue
            done += 1
        if done:
            log.info("shared %d blob(s) of this disk with the other counters", done)
        return done

    @property
    def shared_mark(self) -> Path:
        return self.root.with_name(self.root.name + SHARED_MARK_SUFFIX)

    def share_disk(self, cancelled: Callable[[], bool] = lambda: False) -> int:
        """Once per PC, share every blob of this disk the shared store lacks: what was
        received before the shared store existed (later blobs are shared when written).
        A mark file in the store records that it was done."""
        mark = self.shared_mark
        if self.shared is None or mark.exists() or not self.root.is_dir():
            return 0
        hashes = sorted(p.parent.name + p.name for p in self.root.glob("??/*")
                        if not p.name.startswith("."))
        done = 0
        for i in range(0, len(hashes), 500):
            if cancelled():
                return done
            done += self.share_local(hashes[i:i + 500])
        mark.write_text("blobs of this disk copied to the shared store\n", encoding="utf-8")
        log.info("this disk's %d blob(s) checked against the shared store: %d copied",
                 len(hashes), done)
        return done

    def file_path(self, sha256: str) -> Path:
        """A path to the blob's bytes on this disk (to upload, preview, print), fetched
        from the shared store first when only another counter had it."""
        path = self.path_for(sha256)
        if path.is_file():
            return path
        if self.shared is not None:
            try:
                if self.shared.fetch_to(sha256, path):
                    fsync_dir(path.parent)
                    log.info("blob %s fetched from the shared store", sha256)
                    return path
            except SharedBlobError as exc:
                raise BlobStoreError(exc.message_vi, exc.detail) from exc
            except OSError as exc:
                raise BlobStoreError(
                    "Không ghi được tệp vào kho lưu trữ (ổ đĩa đầy hoặc không có quyền ghi).",
                    f"blob cache {path}: {exc!r}") from exc
        where = ("on neither this disk nor the shared store" if self.shared
                 else "missing from this disk (no shared store)")
        raise BlobMissing(_MISSING_VI, f"blob {sha256} is {where}")

    def remove_shared(self, hashes: list[str]) -> None:
        if self.shared is not None:
            self.shared.remove(hashes)

    def read_bytes(self, sha256: str) -> bytes:
        try:
            data = self.file_path(sha256).read_bytes()
        except OSError as exc:
            raise BlobStoreError(_MISSING_VI, f"blob read {sha256}: {exc!r}") from exc
        if hashlib.sha256(data).hexdigest() != sha256 and self.shared is not None:
            # A damaged cached copy: the shared store has the checked original.
            log.warning("blob %s: cached copy damaged, fetched again", sha256)
            self.path_for(sha256).unlink(missing_ok=True)
            data = self.file_path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobStoreError(
                "Tệp trong kho lưu trữ bị hỏng (mã kiểm tra không khớp).",
                f"blob {sha256} hash mismatch",
            )
        return data

