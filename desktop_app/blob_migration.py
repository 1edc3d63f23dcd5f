"""Encrypting the plaintext files an older version left in the blob store.

Run once per data directory, in the background after start-up (a store of years of A0
scans takes minutes; until then the plaintext files stay readable). Each file is
encrypted on its own (`BlobStore.encrypt_legacy`: encrypted copy written, fsynced and
renamed before the plaintext goes), so stopping at any point — closing the app, a power
cut — loses nothing and the next start goes on. A mark beside the store
(``blobs.encrypted``) records that none is left. Logs say how many, never which."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from desktop_app.blob_crypto import is_encrypted
from desktop_app.blobs import BlobStore

log = logging.getLogger(__name__)

MARK_SUFFIX = ".encrypted"


def _plaintext_files(store: BlobStore) -> list[Path]:
    found: list[Path] = []
    for path in sorted(store.root.glob("??/*")):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            with path.open("rb") as fh:
                if not is_encrypted(fh.read(8)):
                    found.append(path)
        except OSError:
            continue
    return found


def _mark(store: BlobStore) -> Path:
    return store.root.with_name(store.root.name + MARK_SUFFIX)


def encrypt_plaintext_blobs(store: BlobStore, files: list[Path] | None = None,
                            cancelled: Callable[[], bool] = lambda: False) -> Counter[str]:
    """Encrypt every plaintext blob file (``files``, found when None); returns the counts
    by outcome ("encrypted", "duplicate", "damaged", "failed"). Writes the mark when
    nothing is left to do."""
    counts: Counter[str] = Counter()
    if _mark(store).exists():
        return counts
    if files is None:
        files = _plaintext_files(store)
    if files:
        log.info("blob store: %d plaintext file(s) to encrypt", len(files))
    for path in files:
        if cancelled():
            log.info("blob store encryption stopped: %s; the rest next start",
                     _summary(counts))
            return counts
        try:
            counts[store.encrypt_legacy(path)] += 1
        except OSError as exc:
            counts["failed"] += 1
            log.warning("blob store: a plaintext file could not be encrypted (%s)",
                        type(exc).__name__)
    if files:
        log.info("blob store encryption done: %s", _summary(counts))
    # Damaged files keep their plaintext (there is nothing sound to encrypt); failed
    # ones are tried again at the next start.
    if not counts["failed"]:
        _mark(store).write_text("plaintext blobs of this disk encrypted\n", encoding="utf-8")
    return counts


def _summary(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[k]} {k}" for k in ("encrypted", "duplicate", "damaged",
                                                  "failed"))


def start_plaintext_encryption(store: BlobStore) -> threading.Thread | None:
    """At start-up: nothing when the mark is there; the mark alone when no plaintext file
    is left (a new station); otherwise the encryption on a background thread, returned.
    A daemon: the process may exit mid-way, safely."""
    if _mark(store).exists():
        return None
    files = _plaintext_files(store)
    if not files:
        encrypt_plaintext_blobs(store, files)  # only writes the mark
        return None

    def run() -> None:
        try:
            encrypt_plaintext_blobs(store, files)
        except Exception:  # never takes the app down; tried again at the next start
            log.exception("encrypting the blob store's plaintext files failed")

    thread = threading.Thread(target=run, name="motcua-blob-encrypt", daemon=True)
    thread.start()
    return thread
