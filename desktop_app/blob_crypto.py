"""A streaming authenticated file format for the blob store: AES-256-GCM in chunks.

Layout (all integers big-endian)::

    magic (8) | version (1) | log2 chunk size (1) | meta length m (2) | salt (32)
    sealed meta (m + 16)
    chunk 0 … chunk n-1, each (plaintext length + 16)

Each file has its own key, HKDF-SHA256(key, salt, "motcua blob file v1") from a random
salt, so nonces never repeat across files however many are written. Chunk ``i``'s nonce
is ``0^3 ‖ i (8 bytes) ‖ final flag`` (the STREAM construction) and its associated data
is the fixed header: a chunk moved to another place, another file or behind the end
fails to authenticate, and the final flag makes a file cut at a chunk boundary fail
too. Every chunk but the last holds exactly the chunk size; the last holds 1 … chunk size
bytes (0 only for an empty file), so the plaintext size follows from the file size and a
reader seeks to any chunk without reading the ones before. The sealed meta (here the
plaintext's SHA-256, written after the data when it is computed while copying) binds
the file to the name it is stored under.

Memory stays at about two chunks whatever the file size (a 300 MB A0 scan)."""

from __future__ import annotations

import io
import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Not text and not the start of a PDF, JPEG, PNG or TIFF: a plaintext blob never has it.
MAGIC = b"\x89MCBLOB\n"
VERSION = 1
CHUNK = 64 * 1024
TAG = 16
SALT = 32
_FIXED = struct.Struct(">8sBBH32s")
HEADER = _FIXED.size  # 44
_MIN_SHIFT, _MAX_SHIFT = 4, 24
_FILE_INFO = b"motcua blob file v1"
_META_FLAG, _FINAL_FLAG = 2, 1


class BlobCryptoError(ValueError):
    """The file is not a readable encrypted blob: damaged, cut, extended, reordered, or
    under another key. The message names what failed (no content)."""


class NotEncrypted(BlobCryptoError):
    """No magic at the start: a plaintext file (an older store)."""


def is_encrypted(head: bytes) -> bool:
    return head[:len(MAGIC)] == MAGIC


def _nonce(index: int, flag: int) -> bytes:
    return struct.pack(">3xQB", index, flag)


def _file_cipher(key: bytes, salt: bytes) -> AESGCM:
    if len(key) != 32:
        raise ValueError("blob key must be 32 bytes")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                   info=_FILE_INFO).derive(key)
    return AESGCM(derived)


def encrypted_size(plain_size: int, meta_size: int = 0, chunk_size: int = CHUNK) -> int:
    chunks = max(1, -(-plain_size // chunk_size))
    return HEADER + meta_size + TAG + plain_size + chunks * TAG


def _shift_of(chunk_size: int) -> int:
    shift = chunk_size.bit_length() - 1
    if chunk_size != 1 << shift or not _MIN_SHIFT <= shift <= _MAX_SHIFT:
        raise ValueError(f"chunk size must be a power of two in 16 B … 16 MiB: {chunk_size}")
    return shift


class EncryptingWriter:
    """Write plaintext in, ciphertext goes to ``out``. ``finish()`` writes the final
    chunk; ``deferred_meta`` reserves that many meta bytes, given to ``finish`` (``out``
    must then be seekable)."""

    def __init__(self, out: BinaryIO, key: bytes, *, meta: bytes = b"",
                 deferred_meta: int = 0, chunk_size: int = CHUNK) -> None:
        shift = _shift_of(chunk_size)
        self.out = out
        self.chunk_size = chunk_size
        self.meta_size = deferred_meta or len(meta)
        if self.meta_size > 0xFFFF:
            raise ValueError("meta too long")
        salt = os.urandom(SALT)
        self.header = _FIXED.pack(MAGIC, VERSION, shift, self.meta_size, salt)
        self.aead = _file_cipher(key, salt)
        self.deferred = bool(deferred_meta)
        self.meta_pos = out.tell() + HEADER if self.deferred else 0
        out.write(self.header)
        out.write(b"\0" * (self.meta_size + TAG) if self.deferred else self._seal(meta))
        self.buf = bytearray()
        self.index = 0
        self.plain_size = 0
        self.done = False

    def _seal(self, meta: bytes) -> bytes:
        return self.aead.encrypt(_nonce(0, _META_FLAG), meta, self.header)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.done:
            raise ValueError("write after finish")
        n = len(data)
        self.plain_size += n
        self.buf += data
        cs = self.chunk_size
        # A full chunk is only written once more data follows: it may be the final one.
        if len(self.buf) > cs:
            view = memoryview(self.buf)
            pos = 0
            while len(self.buf) - pos > cs:
                self.out.write(self.aead.encrypt(_nonce(self.index, 0),
                                                 view[pos:pos + cs], self.header))
                self.index += 1
                pos += cs
            view.release()
            del self.buf[:pos]
        return n

    def finish(self, meta: bytes = b"") -> int:
        """Write the final chunk (and the deferred meta); returns the plaintext size."""
        if self.done:
            raise ValueError("finish twice")
        self.out.write(self.aead.encrypt(_nonce(self.index, _FINAL_FLAG), bytes(self.buf),
                                         self.header))
        self.buf = bytearray()
        self.done = True
        if self.deferred:
            if len(meta) != self.meta_size:
                raise ValueError(f"meta must be {self.meta_size} bytes")
            end = self.out.tell()
            self.out.seek(self.meta_pos)
            self.out.write(self._seal(meta))
            self.out.seek(end)
        elif meta:
            raise ValueError("meta was given when the writer was made")
        return self.plain_size


def encrypt_stream(key: bytes, src: BinaryIO, dst: BinaryIO, *, meta: bytes = b"",
                   chunk_size: int = CHUNK) -> int:
    w = EncryptingWriter(dst, key, meta=meta, chunk_size=chunk_size)
    while block := src.read(1 << 20):
        w.write(block)
    return w.finish()


def encrypt_bytes(key: bytes, data: bytes, *, meta: bytes = b"",
                  chunk_size: int = CHUNK) -> bytes:
    out = io.BytesIO()
    w = EncryptingWriter(out, key, meta=meta, chunk_size=chunk_size)
    w.write(data)
    w.finish()
    return out.getvalue()


def _read_exact(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    return data if data is not None else b""


def _open_header(raw: BinaryIO, key: bytes) -> tuple[bytes, AESGCM, int, bytes]:
    """(fixed header, file cipher, chunk size, meta) of the file at ``raw``'s start."""
    raw.seek(0)
    fixed = _read_exact(raw, HEADER)
    if not is_encrypted(fixed):
        raise NotEncrypted("not an encrypted blob (no magic)")
    if len(fixed) < HEADER:
        raise BlobCryptoError("encrypted blob cut inside its header")
    _, version, shift, meta_size, salt = _FIXED.unpack(fixed)
    if version != VERSION:
        raise BlobCryptoError(f"encrypted blob of unknown version {version}")
    if not _MIN_SHIFT <= shift <= _MAX_SHIFT:
        raise BlobCryptoError(f"encrypted blob with impossible chunk size 2^{shift}")
    aead = _file_cipher(key, salt)
    sealed = _read_exact(raw, meta_size + TAG)
    if len(sealed) < meta_size + TAG:
        raise BlobCryptoError("encrypted blob cut inside its header")
    try:
        meta = aead.decrypt(_nonce(0, _META_FLAG), sealed, fixed)
    except InvalidTag:
        raise BlobCryptoError("encrypted blob header failed authentication "
                              "(damaged, or another key)") from None
    return fixed, aead, 1 << shift, meta


def read_meta(raw: BinaryIO, key: bytes) -> bytes:
    """The authenticated meta of an encrypted file, reading only its header."""
    return _open_header(raw, key)[3]


class DecryptingReader(io.RawIOBase):
    """A read-only, seekable plaintext view of an encrypted file: a read decrypts only
    the chunks it covers (one cached). Opening checks the header and the final chunk, so
    a cut or extended file fails at once; a damaged chunk fails when it is read."""

    def __init__(self, raw: BinaryIO, key: bytes, *, close_raw: bool = True) -> None:
        super().__init__()
        self.raw = raw
        self.close_raw = close_raw
        try:
            self.header, self.aead, self.chunk_size, self.meta = _open_header(raw, key)
            self.data_start = HEADER + len(self.meta) + TAG
            body = raw.seek(0, io.SEEK_END) - self.data_start
            step = self.chunk_size + TAG
            chunks = max(1, -(-body // step))
            last = body - (chunks - 1) * step
            # The last chunk holds 1 … chunk size bytes (16-byte tag plus those), or 0
            # only when it is the only one.
            if body < TAG or (last <= TAG and chunks > 1):
                raise BlobCryptoError("encrypted blob cut or extended (length does not "
                                      "fit the format)")
            self.chunks = chunks
            self.size = body - chunks * TAG
            self._index = -1
            self._plain = b""
            self._chunk(chunks - 1)  # authenticates the end: no cut, nothing appended
        except BaseException:
            if close_raw:
                raw.close()
            raise
        self._pos = 0

    def _chunk(self, index: int) -> bytes:
        if index != self._index:
            step = self.chunk_size + TAG
            self.raw.seek(self.data_start + index * step)
            sealed = _read_exact(self.raw, step)
            final = index == self.chunks - 1
            try:
                self._plain = self.aead.decrypt(_nonce(index, _FINAL_FLAG if final else 0),
                                                sealed, self.header)
            except InvalidTag:
                raise BlobCryptoError(f"encrypted blob chunk {index} of {self.chunks} "
                                      "failed authentication (damaged, moved or "
                                      "cut)") from None
            self._index = index
        return self._plain

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        out = memoryview(buffer).cast("B")
        done = 0
        while done < len(out) and self._pos < self.size:
            index, offset = divmod(self._pos, self.chunk_size)
            plain = self._chunk(index)
            n = min(len(plain) - offset, len(out) - done)
            out[done:done + n] = plain[offset:offset + n]
            done += n
            self._pos += n
        return done

    def readall(self) -> bytes:
        return self.read(max(0, self.size - self._pos))

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        buf = bytearray(min(size, max(0, self.size - self._pos)))
        n = self.readinto(buf)
        return bytes(buf[:n])

    def close(self) -> None:
        if not self.closed and self.close_raw:
            self.raw.close()
        super().close()


def decrypt_stream(key: bytes, src: BinaryIO, dst: BinaryIO) -> int:
    reader = DecryptingReader(src, key, close_raw=False)
    total = 0
    while block := reader.read(1 << 20):
        dst.write(block)
        total += len(block)
    return total


def decrypt_bytes(key: bytes, blob: bytes) -> bytes:
    return DecryptingReader(io.BytesIO(blob), key).read()
