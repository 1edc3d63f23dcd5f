"""The blob file format: what goes in comes out, at any offset; any change to the
ciphertext (a byte, a cut, bytes appended, chunks swapped within or between files, the
key) is refused with BlobCryptoError, never returned as wrong plaintext."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.blob_crypto import (
    HEADER,
    TAG,
    BlobCryptoError,
    DecryptingReader,
    EncryptingWriter,
    NotEncrypted,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
    encrypted_size,
    read_meta,
)

pytestmark = pytest.mark.nodb

KEY = bytes(range(32))
SMALL = 64  # a tiny chunk size: many chunks and boundaries with little data
# Sizes around the chunk boundaries (0, 1 chunk, 1 chunk ± 1, several chunks ± 1).
SIZES = st.one_of(st.sampled_from([0, 1, SMALL - 1, SMALL, SMALL + 1, 2 * SMALL - 1,
                                   2 * SMALL, 2 * SMALL + 1, 5 * SMALL]),
                  st.integers(0, 8 * SMALL))
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _data(size: int, seed: int = 0) -> bytes:
    return bytes((i * 31 + seed) % 251 for i in range(size))


def _decrypts(blob: bytes) -> bytes:
    """Every way of reading: the whole, and chunk by odd-sized reads."""
    whole = decrypt_bytes(KEY, blob)
    r = DecryptingReader(io.BytesIO(blob), KEY)
    parts = b"".join(iter(lambda: r.read(37), b""))
    assert parts == whole
    return whole


@FAST
@given(size=SIZES, writes=st.integers(1, 9), meta=st.binary(max_size=40))
def test_round_trip_around_chunk_boundaries(size: int, writes: int, meta: bytes) -> None:
    data = _data(size)
    out = io.BytesIO()
    w = EncryptingWriter(out, KEY, meta=meta, chunk_size=SMALL)
    step = max(1, size // writes)
    for i in range(0, size, step):
        w.write(data[i:i + step])
    assert w.finish() == size
    blob = out.getvalue()
    assert len(blob) == encrypted_size(size, len(meta), SMALL)
    assert _decrypts(blob) == data
    assert read_meta(io.BytesIO(blob), KEY) == meta


@FAST
@given(size=SIZES, data=st.data())
def test_random_access(size: int, data: st.DataObject) -> None:
    plain = _data(size, 7)
    r = DecryptingReader(io.BytesIO(encrypt_bytes(KEY, plain, chunk_size=SMALL)), KEY)
    assert r.size == size
    for _ in range(5):
        at = data.draw(st.integers(0, size + 3))
        n = data.draw(st.integers(0, 3 * SMALL))
        assert r.seek(at) == at
        assert r.read(n) == plain[at:at + n]
    assert r.seek(-min(size, 5), io.SEEK_END) == size - min(size, 5)
    assert r.read() == plain[size - min(size, 5):]


def test_deferred_meta_is_written_after_the_data(tmp_path) -> None:
    path = tmp_path / "b"
    with path.open("wb") as fh:
        w = EncryptingWriter(fh, KEY, deferred_meta=32)
        w.write(b"x" * 100_000)
        w.finish(b"h" * 32)
    with path.open("rb") as fh:
        assert read_meta(fh, KEY) == b"h" * 32
    with path.open("rb") as fh:
        assert DecryptingReader(fh, KEY, close_raw=False).read() == b"x" * 100_000


@FAST
@given(size=SIZES, data=st.data())
def test_any_flipped_byte_is_refused(size: int, data: st.DataObject) -> None:
    blob = bytearray(encrypt_bytes(KEY, _data(size), meta=b"m" * 32, chunk_size=SMALL))
    at = data.draw(st.integers(0, len(blob) - 1))
    blob[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(BlobCryptoError):
        _decrypts(bytes(blob))


@FAST
@given(size=SIZES, data=st.data())
def test_truncation_and_appended_bytes_are_refused(size: int, data: st.DataObject) -> None:
    blob = encrypt_bytes(KEY, _data(size), chunk_size=SMALL)
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(BlobCryptoError):
        _decrypts(blob[:cut])
    extra = data.draw(st.binary(min_size=1, max_size=2 * SMALL + 2 * TAG))
    with pytest.raises(BlobCryptoError):
        _decrypts(blob + extra)


def _chunks(blob: bytes, meta_size: int = 0) -> tuple[bytes, list[bytes]]:
    start = HEADER + meta_size + TAG
    step = SMALL + TAG
    return blob[:start], [blob[i:i + step] for i in range(start, len(blob), step)]


@FAST
@given(size=st.integers(2 * SMALL + 1, 6 * SMALL), data=st.data())
def test_reordered_dropped_or_swapped_chunks_are_refused(size: int,
                                                          data: st.DataObject) -> None:
    blob = encrypt_bytes(KEY, _data(size), chunk_size=SMALL)
    head, chunks = _chunks(blob)
    i, j = data.draw(st.lists(st.integers(0, len(chunks) - 1), min_size=2, max_size=2,
                              unique=True))
    swapped = list(chunks)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    with pytest.raises(BlobCryptoError):
        _decrypts(head + b"".join(swapped))
    # A whole chunk dropped (the final flag of the new last chunk is wrong, or a
    # counter no longer matches).
    dropped = chunks[:i] + chunks[i + 1:]
    with pytest.raises(BlobCryptoError):
        _decrypts(head + b"".join(dropped))
    # The same chunk position from another file under the same key.
    other_head, other = _chunks(encrypt_bytes(KEY, _data(size, 3), chunk_size=SMALL))
    mixed = list(chunks)
    mixed[i] = other[i]
    with pytest.raises(BlobCryptoError):
        _decrypts(head + b"".join(mixed))
    with pytest.raises(BlobCryptoError):
        _decrypts(other_head + b"".join(chunks))


def test_a_final_chunk_cut_at_a_boundary_is_refused() -> None:
    """Exactly whole chunks removed from the end: the length fits the format, the final
    flag of what is now last does not."""
    blob = encrypt_bytes(KEY, _data(4 * SMALL), chunk_size=SMALL)
    head, chunks = _chunks(blob)
    with pytest.raises(BlobCryptoError, match="chunk 2 of 3"):
        DecryptingReader(io.BytesIO(head + b"".join(chunks[:3])), KEY)


def test_another_key_and_plaintext_are_refused() -> None:
    blob = encrypt_bytes(KEY, b"Nguyen Van A 001099012345")
    with pytest.raises(BlobCryptoError, match="another key"):
        decrypt_bytes(os.urandom(32), blob)
    with pytest.raises(NotEncrypted):
        decrypt_bytes(KEY, b"%PDF-1.7\n...")


def test_streams_keep_memory_to_a_few_chunks(tmp_path) -> None:
    """A file larger than any buffer used is copied through both directions; the writer
    never holds more than its chunk plus one write."""
    src = tmp_path / "scan"
    src.write_bytes(os.urandom(3 << 20) + b"tail")
    enc = tmp_path / "scan.enc"
    with src.open("rb") as a, enc.open("wb") as b:
        assert encrypt_stream(KEY, a, b) == (3 << 20) + 4
    out = io.BytesIO()
    with enc.open("rb") as fh:
        assert decrypt_stream(KEY, fh, out) == (3 << 20) + 4
    assert out.getvalue() == src.read_bytes()
    w = EncryptingWriter(io.BytesIO(), KEY)
    for _ in range(40):
        w.write(b"z" * 100_000)
        assert len(w.buf) <= 64 * 1024
