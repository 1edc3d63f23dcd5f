"""Content-addressed blob store: ``blobs/ab/cdef…`` named by SHA-256.

A file is written to a temporary name in the same directory, fsynced, then renamed, so a
power cut leaves either the whole file or nothing under its final name."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from desktop_app.domain.errors import DomainError
from desktop_app.files import fsync_dir


class BlobStoreError(DomainError):
    pass


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
    def __init__(self, root: Path) -> None:
        self.root = root
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
        return sha, size

    def read_bytes(self, sha256: str) -> bytes:
        try:
            data = self.path_for(sha256).read_bytes()
        except OSError as exc:
            raise BlobStoreError(
                "Không đọc được tệp trong kho lưu trữ (tệp bị thiếu hoặc không có quyền đọc).",
                f"blob read {sha256}: {exc!r}",
            ) from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobStoreError(
                "Tệp trong kho lưu trữ bị hỏng (mã kiểm tra không khớp).",
                f"blob {sha256} hash mismatch",
            )
        return data

