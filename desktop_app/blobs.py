"""Content-addressed blob store, encrypted on disk.

A blob is addressed by the SHA-256 of its plaintext (dedup, the sync's hashes and the
gateway's tus checksums all rely on it) and stored encrypted (`desktop_app.blob_crypto`,
the station data key's blob subkey) under ``blobs/ab/cdef…`` where the name is
HMAC-SHA256(name key, SHA-256): someone holding the disk and a known document (a form
everybody fills in, a leaked scan) cannot confirm it is here by hashing it. The file's
sealed header carries its SHA-256, so the store can still list what it holds and a file
renamed to another blob's name fails to open.

A file is written to a temporary name in the same directory, fsynced, then renamed, so a
power cut leaves either the whole file or nothing under its final name. A store from an
older version holds plaintext files named by their SHA-256: they stay readable until
`desktop_app.blob_migration` has encrypted them.

Plaintext reaches callers as a stream (``open_blob``: a seekable reader, for upload,
export and hash checks) or as bytes; a consumer that needs a path (the PDF viewer) gets
a copy in a private directory (``scratch``) removed after use and swept at start-up.

With several counters on one PostgreSQL server the bytes also go to the shared store
(`desktop_app.shared_blobs`) and the disk is a cache: a file received on another counter
is fetched, hash-checked and kept here (encrypted) the first time it is read."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from desktop_app.blob_crypto import (
    BlobCryptoError,
    DecryptingReader,
    EncryptingWriter,
    encrypted_size,
    is_encrypted,
    read_meta,
)
from desktop_app.data_key import PURPOSE_BLOBS, DataKeyStore, DataKeyUnavailable, subkey
from desktop_app.domain.errors import DomainError
from desktop_app.files import fsync_dir
from desktop_app.processes import temp_owner, temp_prefix
from desktop_app.sealed_part import SealedPart
from desktop_app.shared_blobs import SharedBlobError, SharedBlobStore

log = logging.getLogger(__name__)

# The two keys the blob subkey gives: one encrypts contents, one names files.
_CONTENT = "motcua/blobs/v1/content"
_NAMES = "motcua/blobs/v1/names"
_SHA_BYTES = 32


class BlobStoreError(DomainError):
    pass


class BlobMissing(BlobStoreError):
    """Neither on this disk nor in the shared store."""


# Written beside the store (``blobs.shared``; in it, it would pass for a blob) once this
# disk's older blobs are all in the shared store.
SHARED_MARK_SUFFIX = ".shared"
# Beside the store: decrypted copies for consumers that only take a path (0700).
SCRATCH_DIR = "plain-tmp"

_MISSING_VI = "Không đọc được tệp trong kho lưu trữ (tệp bị thiếu hoặc không có quyền đọc)."
_DAMAGED_VI = "Tệp trong kho lưu trữ bị hỏng (mã kiểm tra không khớp)."
_WRITE_VI = "Không ghi được tệp vào kho lưu trữ (ổ đĩa đầy hoặc không có quyền ghi)."


def _tmp_prefix() -> str:
    # The writer's mark in the name lets a later start remove what a killed writer left.
    return temp_prefix()


def _owner_alive(name: str) -> bool:
    owner = temp_owner(name)
    return owner is not None and owner.alive()


def blob_key(data_dir: Path, blobs: Path) -> bytes:
    """The blob subkey of the station's data key, made on first use — unless the store
    already holds encrypted files: a new key would leave them unreadable and mix keys,
    so then the missing key is an error (DataKeyUnavailable: recover it)."""
    keys = DataKeyStore(data_dir)
    key, _ = keys.lookup()
    if key is None:
        if _any_encrypted(blobs):
            raise DataKeyUnavailable(str(data_dir))
        key = keys.get_or_create()
    return subkey(key, PURPOSE_BLOBS)


def _any_encrypted(root: Path) -> bool:
    for path in root.glob("??/*"):
        if path.name.startswith("."):
            continue
        try:
            with path.open("rb") as fh:
                if is_encrypted(fh.read(8)):
                    return True
        except OSError:
            continue
    return False


class _BlobReader(DecryptingReader):
    """A chunk that fails to authenticate while reading is the store's error (what the
    sync and the viewers already handle), once the file has opened."""

    sha256 = ""

    def _chunk(self, index: int) -> bytes:
        try:
            return super()._chunk(index)
        except BlobCryptoError as exc:
            if not self.sha256:
                raise
            raise BlobStoreError(_DAMAGED_VI, f"blob {self.sha256}: {exc}") from exc


class BlobStore:
    def __init__(self, root: Path, shared: SharedBlobStore | None,
                 key: bytes | Callable[[], bytes]) -> None:
        """``key``: the blob subkey, or what gives it when first needed (so a context
        opened only to look, by the doctor or a provisioning check, makes no key)."""
        self.root = root
        self.shared = shared
        self._key_source = key
        self._keys: tuple[bytes, bytes] | None = None
        self.sweep_temp()

    @property
    def _key(self) -> bytes:
        return self._subkeys()[0]

    @property
    def _name_key(self) -> bytes:
        return self._subkeys()[1]

    def _subkeys(self) -> tuple[bytes, bytes]:
        if self._keys is None:
            source = self._key_source
            key = source if isinstance(source, bytes) else source()
            self._keys = (subkey(key, _CONTENT), subkey(key, _NAMES))
        return self._keys

    # --- names ---------------------------------------------------------------------------

    def _encrypted_path(self, sha256: str) -> Path:
        name = hmac.new(self._name_key, bytes.fromhex(sha256), hashlib.sha256).hexdigest()
        return self.root / name[:2] / name[2:]

    def legacy_path(self, sha256: str) -> Path:
        """Where an older version kept the plaintext (named by the SHA-256 itself)."""
        return self.root / sha256[:2] / sha256[2:]

    def path_for(self, sha256: str) -> Path:
        """The blob's file on this disk: the encrypted one, else a plaintext one not yet
        encrypted, else where the encrypted one goes. Its bytes are not the plaintext
        (use ``open_blob``); for existence, size on disk and removal (retention)."""
        path = self._encrypted_path(sha256)
        if not path.exists():
            legacy = self.legacy_path(sha256)
            if legacy.exists():
                return legacy
        return path

    # --- temporary files -----------------------------------------------------------------

    @property
    def scratch(self) -> Path:
        """A private (0700) directory for decrypted copies; made on first use."""
        path = self.root.with_name(SCRATCH_DIR)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        return path

    def sweep_temp(self) -> int:
        """Remove temporary files of writers that died mid-write (power cut, kill), and
        decrypted copies a crashed process left. A live process's files are left alone
        (another process may share the store)."""
        removed = 0
        scratch = self.root.with_name(SCRATCH_DIR)
        for tmp in [*self.root.glob(".tmp-*"), *self.root.glob("*/.tmp-*"),
                    *scratch.glob(".tmp-*")]:
            if _owner_alive(tmp.name):
                continue
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed

    def write_scratch(self, data: bytes, suffix: str = "") -> Path:
        """A private plaintext copy of ``data`` for a consumer that only takes a path;
        the caller removes it when done (a crash leaves it to ``sweep_temp``)."""
        fd, name = tempfile.mkstemp(dir=self.scratch, prefix=_tmp_prefix(), suffix=suffix)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return Path(name)

    @contextlib.contextmanager
    def plaintext_copy(self, sha256: str, suffix: str = "") -> Iterator[Path]:
        """The blob decrypted to a private temporary file for the ``with`` block only."""
        fd, name = tempfile.mkstemp(dir=self.scratch, prefix=_tmp_prefix(), suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as out, self.open_blob(sha256) as src:
                while block := src.read(1 << 20):
                    out.write(block)
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    # --- writing -------------------------------------------------------------------------

    def _present(self, sha256: str, size: int) -> bool:
        target = self._encrypted_path(sha256)
        return target.exists() and target.stat().st_size == encrypted_size(size, _SHA_BYTES)

    def _stored(self, sha256: str) -> None:
        """After the encrypted file is in place: the plaintext of an older version goes,
        and the shared store gets the blob."""
        self.legacy_path(sha256).unlink(missing_ok=True)
        self.share(sha256)

    def sealed_part(self, name: str, sha256: str) -> SealedPart:
        """A resumable download into the private scratch directory, each chunk sealed as
        it arrives (desktop_app.sealed_part): nothing of it lies on disk in plaintext."""
        return SealedPart(self.scratch / name, self._key, sha256)

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if self._present(sha, len(data)):
            self._stored(sha)
            return sha
        target = self._encrypted_path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_tmp_prefix())
            try:
                with os.fdopen(fd, "wb") as fh:
                    w = EncryptingWriter(fh, self._key, meta=bytes.fromhex(sha))
                    w.write(data)
                    w.finish()
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            fsync_dir(target.parent)
        except OSError as exc:
            raise BlobStoreError(_WRITE_VI, f"blob write {target}: {exc!r}") from exc
        self._stored(sha)
        return sha

    def put_file(self, source: Path) -> tuple[str, int]:
        """Copy a (possibly large) file in, hashing and encrypting while copying; returns
        (sha256, size). Memory stays flat for a 100 MB map."""
        try:
            with source.open("rb") as src:
                return self.put_chunks(iter(lambda: src.read(1 << 20), b""), str(source))
        except OSError as exc:
            raise BlobStoreError(_WRITE_VI, f"blob put_file {source}: {exc!r}") from exc

    def put_chunks(self, chunks: Iterable[bytes], what: str = "stream") -> tuple[str, int]:
        """Store the bytes ``chunks`` yield, hashing and encrypting as they come (a
        download that never lay on disk in plaintext); returns (sha256, size)."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=_tmp_prefix())
            try:
                with os.fdopen(fd, "wb") as out:
                    w = EncryptingWriter(out, self._key, deferred_meta=_SHA_BYTES)
                    for chunk in chunks:
                        digest.update(chunk)
                        w.write(chunk)
                    size = w.finish(digest.digest())
                    out.flush()
                    os.fsync(out.fileno())
                sha = digest.hexdigest()
                if self._present(sha, size):
                    Path(tmp).unlink()
                    self._stored(sha)
                    return sha, size
                target = self._encrypted_path(sha)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            fsync_dir(target.parent)
        except OSError as exc:
            raise BlobStoreError(_WRITE_VI, f"blob put {what}: {exc!r}") from exc
        self._stored(sha)
        return sha, size

    def encrypt_legacy(self, path: Path) -> str:
        """Encrypt one plaintext file of an older store in place of itself: the encrypted
        file is written, fsynced and renamed to its own name first, and only then is the
        plaintext removed, so a power cut at any point leaves a readable blob (the
        plaintext, the encrypted file, or both). Returns "encrypted", "duplicate" (the
        encrypted file was there already) or "damaged" (the bytes do not hash to the
        name: left as they are)."""
        sha = path.parent.name + path.name
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=_tmp_prefix())
        try:
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                w = EncryptingWriter(out, self._key, meta=bytes.fromhex(sha))
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    w.write(chunk)
                size = w.finish()
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha:
                Path(tmp).unlink()
                return "damaged"
            outcome = "duplicate" if self._present(sha, size) else "encrypted"
            if outcome == "encrypted":
                target = self._encrypted_path(sha)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
                fsync_dir(target.parent)
            else:
                Path(tmp).unlink()
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when empty
        return outcome

    # --- listing -------------------------------------------------------------------------

    def local_files(self) -> Iterator[tuple[Path, str | None]]:
        """Every blob file on this disk with the SHA-256 it holds: from the sealed header
        of an encrypted file, from the name of a plaintext one; None when the header does
        not open (damaged, another key)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/*")):
            if path.name.startswith(".") or not path.is_file():
                continue
            try:
                with path.open("rb") as fh:
                    if not is_encrypted(fh.read(8)):
                        yield path, path.parent.name + path.name
                        continue
                    meta = read_meta(fh, self._key)
            except (OSError, BlobCryptoError):
                yield path, None
                continue
            yield path, meta.hex() if len(meta) == _SHA_BYTES else None

    # --- the shared store ----------------------------------------------------------------

    def share(self, sha256: str) -> None:
        """Copy a blob of this disk to the shared store (nothing to do on SQLite). Its own
        short transactions: callable inside or after the caller's transaction."""
        if self.shared is None:
            return
        try:
            with self.open_blob(sha256, fetch=False) as src:
                self.shared.put(sha256, src)
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
        hashes = sorted({sha for _, sha in self.local_files() if sha})
        done = 0
        for i in range(0, len(hashes), 500):
            if cancelled():
                return done
            done += self.share_local(hashes[i:i + 500])
        mark.write_text("blobs of this disk copied to the shared store\n", encoding="utf-8")
        log.info("this disk's %d blob(s) checked against the shared store: %d copied",
                 len(hashes), done)
        return done

    def remove_shared(self, hashes: list[str]) -> None:
        if self.shared is not None:
            self.shared.remove(hashes)

    # --- reading -------------------------------------------------------------------------

    def _open_local(self, sha256: str) -> BinaryIO | None:
        """The plaintext of this disk's copy, None when there is none; BlobCryptoError
        when the encrypted file does not open or holds another blob."""
        path = self._encrypted_path(sha256)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            try:
                return self.legacy_path(sha256).open("rb")
            except FileNotFoundError:
                return None
        reader = _BlobReader(fh, self._key)
        if reader.meta != bytes.fromhex(sha256):
            reader.close()
            raise BlobCryptoError("encrypted blob holds another blob's content")
        reader.sha256 = sha256
        return reader

    def _fetch(self, sha256: str) -> bool:
        """Fetch from the shared store into this disk's cache, encrypted on the way."""
        if self.shared is None:
            return False
        target = self._encrypted_path(sha256)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_tmp_prefix())
            try:
                with os.fdopen(fd, "wb") as out:
                    w = EncryptingWriter(out, self._key, meta=bytes.fromhex(sha256))
                    if not self.shared.fetch_into(sha256, w):
                        Path(tmp).unlink()
                        return False
                    w.finish()
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            fsync_dir(target.parent)
        except SharedBlobError as exc:
            raise BlobStoreError(exc.message_vi, exc.detail) from exc
        except OSError as exc:
            raise BlobStoreError(_WRITE_VI, f"blob cache {target}: {exc!r}") from exc
        log.info("blob %s fetched from the shared store", sha256)
        return True

    def open_blob(self, sha256: str, *, fetch: bool = True) -> BinaryIO:
        """The blob's plaintext as a read-only, seekable file (close it, or use ``with``),
        fetched from the shared store first when only another counter had it. A damaged
        cached copy is fetched again when the shared store has the original."""
        try:
            try:
                local = self._open_local(sha256)
            except BlobCryptoError as exc:
                if not (fetch and self.shared is not None):
                    raise BlobStoreError(_DAMAGED_VI, f"blob {sha256}: {exc}") from exc
                log.warning("blob %s: cached copy damaged (%s), fetched again", sha256, exc)
                self._encrypted_path(sha256).unlink(missing_ok=True)
                local = None
            if local is None and fetch and self._fetch(sha256):
                local = self._open_local(sha256)
        except BlobCryptoError as exc:
            raise BlobStoreError(_DAMAGED_VI, f"blob {sha256}: {exc}") from exc
        except OSError as exc:
            raise BlobStoreError(_MISSING_VI, f"blob read {sha256}: {exc!r}") from exc
        if local is None:
            where = ("on neither this disk nor the shared store" if self.shared
                     else "missing from this disk (no shared store)")
            raise BlobMissing(_MISSING_VI, f"blob {sha256} is {where}")
        return local

    def read_bytes(self, sha256: str) -> bytes:
        data = self._read_checked(sha256)
        if data is None and self.shared is not None:
            # A damaged cached copy: the shared store has the checked original.
            log.warning("blob %s: cached copy damaged, fetched again", sha256)
            self.path_for(sha256).unlink(missing_ok=True)
            data = self._read_checked(sha256)
        if data is None:
            raise BlobStoreError(_DAMAGED_VI, f"blob {sha256} hash mismatch")
        return data

    def _read_checked(self, sha256: str) -> bytes | None:
        with self.open_blob(sha256) as src:
            try:
                data = src.read()
            except BlobStoreError:
                if self.shared is None:
                    raise
                return None
            except OSError as exc:
                raise BlobStoreError(_MISSING_VI, f"blob read {sha256}: {exc!r}") from exc
        return data if hashlib.sha256(data).hexdigest() == sha256 else None
