"""A download kept across cuts and restarts without its plaintext on disk.

Each chunk received is appended as one AES-GCM record — ``[u32 length][12-byte nonce]
[ciphertext + tag]`` — under a key only this file uses (an HKDF subkey of the blob key,
bound to the file's announced SHA-256), with the record's index as associated data, so
records cannot be reordered, dropped from the middle or moved to another file unseen. A
power cut mid-append leaves a torn last record, which :meth:`SealedPart.size` cuts off:
the download resumes at the last whole record.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from desktop_app.data_key import subkey

_HEAD = struct.Struct(">I")
_NONCE = 12
_TAG = 16
MAX_RECORD = 16 << 20  # a chunk is 64 KiB; anything this large is damage


class SealedPartError(ValueError):
    """A record does not decrypt: the part was damaged or belongs to another file."""


class SealedPart:
    def __init__(self, path: Path, blob_key: bytes, sha256: str) -> None:
        self.path = path
        self._aead = AESGCM(subkey(blob_key, f"motcua/sealed-part/v1/{sha256}"))
        self._count: int | None = None  # whole records, known after size()

    def _records(self) -> Iterator[tuple[int, int, bytes]]:
        """(offset, index, ciphertext) of each whole record; stops at a torn tail."""
        try:
            f = self.path.open("rb")
        except FileNotFoundError:
            return
        with f:
            offset, index = 0, 0
            while True:
                head = f.read(_HEAD.size)
                if len(head) < _HEAD.size:
                    return
                (length,) = _HEAD.unpack(head)
                if length < _NONCE + _TAG or length > MAX_RECORD + _NONCE + _TAG:
                    return
                body = f.read(length)
                if len(body) < length:
                    return
                yield offset, index, body
                offset += _HEAD.size + length
                index += 1

    def size(self) -> int:
        """Plaintext bytes in whole records; a torn last record is cut off the file."""
        plain, end, count = 0, 0, 0
        for offset, _index, body in self._records():
            plain += len(body) - _NONCE - _TAG
            end = offset + _HEAD.size + len(body)
            count += 1
        self._count = count
        if self.path.exists() and self.path.stat().st_size != end:
            with self.path.open("r+b") as f:
                f.truncate(end)
                os.fsync(f.fileno())
        return plain

    def append(self, data: bytes) -> None:
        if self._count is None:
            self.size()
        index = self._count or 0
        nonce = secrets.token_bytes(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, data, str(index).encode("ascii"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            f.write(_HEAD.pack(len(sealed)) + sealed)
            f.flush()
            os.fsync(f.fileno())
        self._count = index + 1

    def plaintext(self) -> Iterator[bytes]:
        for _offset, index, body in self._records():
            try:
                yield self._aead.decrypt(body[:_NONCE], body[_NONCE:],
                                         str(index).encode("ascii"))
            except InvalidTag as exc:
                raise SealedPartError(f"record {index} of {self.path.name}") from exc

    def unlink(self) -> None:
        self.path.unlink(missing_ok=True)
        self._count = None
