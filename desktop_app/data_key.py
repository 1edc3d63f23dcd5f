"""The station's data key: the secret that encrypts citizen data at rest on this PC.

One random 256-bit key per data directory. It is wrapped by the OS key store where one
exists (Windows Credential Manager, i.e. DPAPI under the user's logon; Secret Service on
Linux) and otherwise kept in ``secrets/data.key`` readable only by the account running
the app. Each use gets its own subkey (HKDF-SHA256), so the database cipher and the blob
files never share a key.

The key never goes into the database, a log, a support bundle or a USB bundle."""

from __future__ import annotations

import hashlib
import logging
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop_app.machine_station import is_machine_station
from desktop_app.os_keyring import SecretSlot

log = logging.getLogger(__name__)

KEY_BYTES = 32
# Subkey purposes. Changing one makes every file encrypted under it unreadable.
PURPOSE_DATABASE = "motcua/sqlcipher/v1"
PURPOSE_BLOBS = "motcua/blobs/v1"


class DataKeyUnavailable(RuntimeError):
    """The data directory holds encrypted data but its key is in neither the key store
    nor the key file (a replaced PC or a lost OS profile: recover it with the code)."""


def key_account(data_dir: Path) -> str:
    """The key store entry of one data directory (two installs on one PC never share)."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    return f"data-key-{digest}"


def subkey(key: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=purpose.encode("ascii")).derive(key)


class DataKeyStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.file = data_dir / "secrets" / "data.key"
        self.account = key_account(data_dir)
        self._slot = SecretSlot(self.account, self.file, "data key",
                                machine=is_machine_station(data_dir))

    def lookup(self) -> tuple[bytes | None, str]:
        """(key, where it came from: "keyring" or "file"), or (None, "")."""
        value, where = self._slot.read()
        return (_decode(value), where) if value else (None, "")

    def store(self, key: bytes) -> str:
        """Keep ``key``; returns where ("keyring" or the file path)."""
        return self._slot.write(key.hex())

    def get(self) -> bytes:
        key, _ = self.lookup()
        if key is None:
            raise DataKeyUnavailable(str(self.data_dir))
        return key

    def get_or_create(self) -> bytes:
        """The key, made on first use. Only call where no encrypted data can exist yet
        without a key (a new data directory, or the in-place encryption of old data)."""
        key, _ = self.lookup()
        if key is not None:
            return key
        key = secrets.token_bytes(KEY_BYTES)
        where = self.store(key)
        log.info("new data key stored in %s", "the keyring" if where == "keyring"
                 else "the key file")
        return key


def _decode(value: str) -> bytes:
    key = bytes.fromhex(value.strip())
    if len(key) != KEY_BYTES:
        raise ValueError("stored data key has the wrong length")
    return key
