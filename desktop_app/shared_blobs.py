"""The blob bytes kept in the shared PostgreSQL database, so every counter of a commune
can print, show and send a file received on any of them.

Chunked rows (``shared_blob_chunks``, 1 MiB each) rather than large objects: the same
SQL on both engines, a plain ``pg_dump`` backs them up, and a file is streamed in and out
one chunk at a time, so a 50 MB A0 scan never sits whole in memory. Chunks go in short
transactions of their own; the ``shared_blobs`` row is written after the last one, and a
reader trusts only blobs that have it, so nobody ever sees half a file. Every read is
checked against the SHA-256 it is named by.

The bytes here are plaintext, as they were: the station's blob store encrypts its own
disk copy, and the database server's disk is protected by whoever runs that server (the
same duty as for every other table of the commune's database on it)."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from desktop_app.domain.errors import DomainError
from desktop_app.processes import temp_prefix
from local_db.engine import Database
from local_db.models import SharedBlob, SharedBlobChunk

log = logging.getLogger(__name__)

CHUNK = 1 << 20
# Chunks per write transaction: short enough that no other counter waits on it.
CHUNKS_PER_TRANSACTION = 4


class SharedBlobError(DomainError):
    pass


class SharedBlobCorrupt(SharedBlobError):
    pass


def _insert_ignoring_duplicates(session: Session, model: type, rows: list[dict]) -> None:
    # Two counters may store the same bytes at once: same name, same content, so the
    # second writer's rows are simply not needed.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(model).on_conflict_do_nothing(), rows)
    else:
        session.execute(insert(model).prefix_with("OR IGNORE"), rows)


class SharedBlobStore:
    def __init__(self, db: Database, chunk_size: int = CHUNK) -> None:
        self.db = db
        self.chunk_size = chunk_size

    def has(self, sha256: str) -> bool:
        with self.db.read() as s:
            return s.get(SharedBlob, sha256) is not None

    def which_have(self, hashes: Iterable[str]) -> set[str]:
        wanted = sorted(set(hashes))
        if not wanted:
            return set()
        with self.db.read() as s:
            return set(s.scalars(select(SharedBlob.sha256)
                                 .where(SharedBlob.sha256.in_(wanted))))

    def put(self, sha256: str, source: BinaryIO) -> None:
        """Stream ``source`` in (its SHA-256 is ``sha256``, checked while reading)."""
        if self.has(sha256):
            return
        digest = hashlib.sha256()
        seq = size = 0
        batch: list[dict] = []
        while chunk := source.read(self.chunk_size):
            digest.update(chunk)
            size += len(chunk)
            batch.append({"sha256": sha256, "seq": seq, "data": chunk})
            seq += 1
            if len(batch) >= CHUNKS_PER_TRANSACTION:
                with self.db.write() as s:
                    _insert_ignoring_duplicates(s, SharedBlobChunk, batch)
                batch = []
        if digest.hexdigest() != sha256:
            raise SharedBlobCorrupt(
                "Tệp thay đổi trong lúc đang chép lên máy chủ; hãy thử lại.",
                f"shared blob put {sha256}: source hashes to {digest.hexdigest()}")
        with self.db.write() as s:
            if batch:
                _insert_ignoring_duplicates(s, SharedBlobChunk, batch)
            _insert_ignoring_duplicates(s, SharedBlob, [{
                "sha256": sha256, "size": size, "chunks": seq,
                "stored_at": datetime.now().replace(microsecond=0)}])
        log.debug("shared blob %s stored: %d bytes in %d chunk(s)", sha256, size, seq)

    def put_file(self, sha256: str, path: Path) -> None:
        with path.open("rb") as fh:
            self.put(sha256, fh)

    def fetch_into(self, sha256: str, out: BinaryIO) -> bool:
        """Stream the blob into ``out``, then check its hash (SharedBlobCorrupt when it
        does not match: the caller throws ``out`` away); False when the shared store
        does not have it. The station's blob store passes an encrypting writer, so the
        bytes reach its disk only encrypted."""
        with self.db.read() as s:
            row = s.get(SharedBlob, sha256)
            if row is None:
                return False
            size, chunks = row.size, row.chunks
        digest = hashlib.sha256()
        got = 0
        with self.db.read() as s:
            for seq in range(chunks):
                data = s.scalar(select(SharedBlobChunk.data).where(
                    SharedBlobChunk.sha256 == sha256, SharedBlobChunk.seq == seq))
                if data is None:
                    raise SharedBlobCorrupt(_CORRUPT_VI,
                                            f"shared blob {sha256}: chunk {seq} missing")
                data = bytes(data)
                digest.update(data)
                got += len(data)
                out.write(data)
        if got != size or digest.hexdigest() != sha256:
            raise SharedBlobCorrupt(
                _CORRUPT_VI, f"shared blob {sha256}: {got} bytes hashing to "
                f"{digest.hexdigest()} (expected {size} bytes)")
        return True

    def fetch_to(self, sha256: str, target: Path) -> bool:
        """Write the blob to ``target`` atomically (temporary name, fsync, rename) after
        checking its hash; False when the shared store does not have it."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=temp_prefix())
        try:
            with os.fdopen(fd, "wb") as out:
                if not self.fetch_into(sha256, out):
                    Path(tmp).unlink()
                    return False
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def remove(self, hashes: Iterable[str]) -> None:
        """Forget blobs (retention purge): index row first, so no reader starts on them."""
        wanted = sorted(set(hashes))
        if not wanted:
            return
        with self.db.write() as s:
            s.execute(delete(SharedBlob).where(SharedBlob.sha256.in_(wanted)))
            s.execute(delete(SharedBlobChunk).where(SharedBlobChunk.sha256.in_(wanted)))


_CORRUPT_VI = ("Tệp trong kho chung trên máy chủ bị hỏng (mã kiểm tra không khớp); "
               "hãy báo kỹ thuật viên.")

