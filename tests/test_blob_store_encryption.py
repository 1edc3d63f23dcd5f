"""The blob store on disk: every file encrypted and named so that its name does not
confirm a known document; the receipt's personal data readable only through the store;
an older store's plaintext encrypted in place, readable at every step; a damaged or
swapped file refused; plaintext copies for viewers private and removed."""

from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import sys
import threading
import unicodedata
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader

from desktop_app.accounts import ClerkInfo
from desktop_app.blob_crypto import MAGIC
from desktop_app.blob_migration import encrypt_plaintext_blobs, start_plaintext_encryption
from desktop_app.blobs import SCRATCH_DIR, BlobStore, BlobStoreError, blob_key
from desktop_app.context import AppContext
from desktop_app.data_key import DataKeyStore, DataKeyUnavailable
from desktop_app.intake.service import IntakeService
from desktop_app.startup import open_station

from .test_intake import OWNER, complete_draft, intake  # noqa: F401

# What the receipt prints about its owner (the name whole and in parts, the ID number,
# the address).
TERMS = [OWNER.full_name, "Ánh Tuyết", OWNER.id_number, OWNER.address, "Thôn Nà Lẹng"]


def _folded(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in plain if not unicodedata.combining(c))


def _encodings(term: str) -> list[bytes]:
    """The ways a term can sit in a file: UTF-8 (NFC and NFD), without diacritics, and
    as PDF text strings (UTF-16BE, raw and as hex in either case)."""
    out = []
    for t in {term, unicodedata.normalize("NFD", term), _folded(term)}:
        out += [t.encode("utf-8"), t.encode("utf-16-be"), t.encode("utf-16-be").hex().encode(),
                t.encode("utf-16-be").hex().upper().encode()]
    return out


def _inflated(data: bytes) -> list[bytes]:
    """Every Flate stream of a PDF-like byte string, inflated (reportlab compresses page
    content, fonts and ToUnicode maps)."""
    found = []
    for m in re.finditer(rb"stream\r?\n", data):
        try:
            found.append(zlib.decompressobj().decompress(data[m.end():]))
        except zlib.error:
            continue
    return found


def _terms_in(data: bytes) -> set[str]:
    """The personal terms a search of these bytes finds: raw, in inflated streams, and in
    the text a PDF reader extracts when the bytes are a PDF."""
    haystacks = [data, *_inflated(data)]
    found = {t for t in TERMS for h in haystacks for e in _encodings(t) if e in h}
    if data.startswith(b"%PDF"):
        text = " ".join(" ".join(p.extract_text().split())
                        for p in PdfReader(io.BytesIO(data)).pages)
        found |= {t for t in TERMS if t in text}
    return found


def test_after_an_intake_no_personal_term_is_in_any_file_of_the_store(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:  # noqa: F811
    out = intake.receive(complete_draft(intake), clerk)
    # The search works: through the store the slip holds every term.
    assert _terms_in(ctx.blobs.read_bytes(out.slip_sha256)) == set(TERMS)
    files = [p for p in ctx.paths.blobs.rglob("*") if p.is_file()]
    assert files
    for path in files:
        raw = path.read_bytes()
        assert raw.startswith(MAGIC), path
        assert _terms_in(raw) == set(), path
        assert b"%PDF" not in raw and b"FlateDecode" not in raw
    # Nor does a name give the slip's hash away.
    names = {p.parent.name + p.name for p in files}
    assert out.slip_sha256 not in names
    assert [sha for _, sha in ctx.blobs.local_files()] == [out.slip_sha256]


def _legacy(store: BlobStore, data: bytes) -> tuple[str, Path]:
    """A plaintext file as an older version stored it (named by its SHA-256)."""
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    path = store.legacy_path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return sha, path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.nodb
def test_an_older_plaintext_store_is_encrypted_in_place_readable_at_every_step(
        tmp_path: Path) -> None:
    root = tmp_path / "data" / "blobs"
    store = BlobStore(root, None, blob_key(tmp_path / "data", root))
    contents = [b"%PDF-1.7 " + OWNER.full_name.encode() + bytes([i]) * 70_000
                for i in range(4)]
    legacy = [_legacy(store, c) for c in contents]
    # One already written again by the new version (a power cut after the encrypted file
    # was renamed, before the plaintext went), one damaged on disk.
    store.put_bytes(contents[0])
    _legacy(store, contents[0])
    damaged = legacy[3][1]
    damaged.write_bytes(b"%PDF-1.7 half")
    # A power cut in the middle of encrypting: a dead writer's temporary file.
    cut = legacy[1][1].parent / f".tmp-{_dead_pid()}-x"
    cut.write_bytes(MAGIC + b"cut")
    store = BlobStore(root, None, blob_key(tmp_path / "data", root))  # the next start
    assert not cut.exists()
    for (sha, _), data in zip(legacy[:3], contents[:3], strict=True):
        assert store.read_bytes(sha) == data  # before: plaintext or encrypted

    # Stopped after the first file (the app closed), then finished at the next start.
    calls = iter([False, True])
    first = encrypt_plaintext_blobs(store, cancelled=lambda: next(calls, True))
    assert sum(first.values()) == 1
    assert not (tmp_path / "data" / "blobs.encrypted").exists()
    for (sha, _), data in zip(legacy[:3], contents[:3], strict=True):
        assert store.read_bytes(sha) == data  # in between
    rest = encrypt_plaintext_blobs(store)
    total = first + rest
    assert total == {"encrypted": 2, "duplicate": 1, "damaged": 1}
    assert (tmp_path / "data" / "blobs.encrypted").is_file()
    for (sha, path), data in zip(legacy[:3], contents[:3], strict=True):
        assert not path.exists()
        assert store.path_for(sha).read_bytes().startswith(MAGIC)
        assert store.read_bytes(sha) == data  # after
    assert damaged.read_bytes() == b"%PDF-1.7 half"  # left for a technician
    assert not [p for p in root.rglob(".tmp-*")]
    assert encrypt_plaintext_blobs(store) == {}  # the mark: done once


def test_start_up_encrypts_an_older_store_in_the_background(
        ctx: AppContext, db_url: str) -> None:
    sha, path = _legacy(ctx.blobs, b"%PDF-1.4 " + OWNER.id_number.encode())
    ctx.blobs.root.with_name("blobs.encrypted").unlink()
    again = open_station(ctx.paths.root, db_url=db_url, clock=ctx.clock)
    try:
        for t in threading.enumerate():
            if t.name == "motcua-blob-encrypt":
                t.join()
        assert not path.exists()
        assert again.blobs.read_bytes(sha).endswith(OWNER.id_number.encode())
        assert start_plaintext_encryption(again.blobs) is None
    finally:
        again.close()


@pytest.mark.nodb
def test_a_damaged_or_swapped_file_is_an_error_never_wrong_bytes(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = BlobStore(root, None, blob_key(tmp_path, root))
    big = os.urandom(300_000)
    a, b = store.put_bytes(big), store.put_bytes(b"second document")
    path = store.path_for(a)
    raw = bytearray(path.read_bytes())
    raw[200_000] ^= 1  # inside a middle chunk
    path.write_bytes(bytes(raw))
    with pytest.raises(BlobStoreError) as err:
        store.read_bytes(a)
    assert err.value.message_vi == "Tệp trong kho lưu trữ bị hỏng (mã kiểm tra không khớp)."
    with store.open_blob(a) as f:  # opens (header and end are sound) …
        assert f.read(1000) == big[:1000]
        with pytest.raises(BlobStoreError):  # … the damaged chunk is refused when read
            f.read()
    # b's file put under a's name: it opens, but holds another blob.
    os.replace(store.path_for(b), path)
    with pytest.raises(BlobStoreError, match="bị hỏng"):
        store.read_bytes(a)
    # Cut short.
    store.put_bytes(big)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(BlobStoreError, match="bị hỏng"):
        store.open_blob(a)


@pytest.mark.nodb
def test_streaming_reader_and_private_copies(tmp_path: Path) -> None:
    root = tmp_path / "data" / "blobs"
    store = BlobStore(root, None, blob_key(tmp_path / "data", root))
    data = os.urandom(200_000)
    source = tmp_path / "scan.pdf"
    source.write_bytes(data)
    sha, size = store.put_file(source)
    assert size == len(data) and store.put_file(source) == (sha, size)  # dedup
    with store.open_blob(sha) as f:
        f.seek(150_000)
        assert f.read(10) == data[150_000:150_010]
    with store.plaintext_copy(sha, ".pdf") as copy:
        assert copy.parent == tmp_path / "data" / SCRATCH_DIR
        assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
        assert copy.read_bytes() == data
    assert not copy.exists()
    # A viewer's copy left by a crashed process goes at the next start; a live one stays.
    live = store.write_scratch(b"slip", ".pdf")
    dead = live.with_name(f".tmp-{_dead_pid()}-slip.pdf")
    live.rename(dead)
    live = store.write_scratch(b"slip", ".pdf")
    BlobStore(root, None, blob_key(tmp_path / "data", root))
    assert live.exists() and not dead.exists()


@pytest.mark.nodb
def test_a_lost_key_is_refused_when_encrypted_files_exist(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    root = tmp_path / "blobs"
    BlobStore(root, None, blob_key(tmp_path, root)).put_bytes(b"x")
    DataKeyStore(tmp_path).file.unlink()
    with pytest.raises(DataKeyUnavailable):
        blob_key(tmp_path, root)

