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
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop_app.files import write_atomically
from desktop_app.os_keyring import SERVICE
from desktop_app.os_keyring import keyring_module as _keyring

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

    def lookup(self) -> tuple[bytes | None, str]:
        """(key, where it came from: "keyring" or "file"), or (None, "")."""
        kr = _keyring()
        if kr is not None:
            try:
                value = kr.get_password(SERVICE, self.account)
            except Exception as exc:  # a locked or broken keyring must not stop the app
                log.warning("keyring read of the data key failed (%s); trying the key file",
                            type(exc).__name__)
            else:
                if value:
                    return _decode(value), "keyring"
        try:
            text = self.file.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None, ""
        return (_decode(text), "file") if text else (None, "")

    def store(self, key: bytes) -> str:
        """Keep ``key``; returns where ("keyring" or the file path)."""
        value = key.hex()
        kr = _keyring()
        if kr is not None:
            try:
                kr.set_password(SERVICE, self.account, value)
                self.file.unlink(missing_ok=True)
                return "keyring"
            except Exception as exc:
                log.warning("keyring write of the data key failed (%s); using the key file",
                            type(exc).__name__)
        self.file.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.file.parent, 0o700)
        write_atomically(self.file, value, mode=0o600)
        return str(self.file)

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
