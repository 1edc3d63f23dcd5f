"""The station token: in the OS keyring where one exists (Windows Credential Manager,
Secret Service), otherwise in a file readable only by the account running the app.

The token never goes into the database, logs or support bundles."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from desktop_app.files import write_atomically
from desktop_app.os_keyring import SERVICE
from desktop_app.os_keyring import keyring_module as _keyring

log = logging.getLogger(__name__)

TOKEN_ENV = "MOTCUA_STATION_TOKEN"


class TokenStore:
    def __init__(self, data_dir: Path, account: str) -> None:
        self.file = data_dir / "secrets" / f"{account}.token"
        self.account = account

    def get(self) -> str:
        return self.lookup()[0]

    def lookup(self) -> tuple[str, str]:
        """(token, where it came from: "env", "keyring", "file"), or ("", "")."""
        env = os.environ.get(TOKEN_ENV, "").strip()
        if env:
            return env, "env"
        kr = _keyring()
        if kr is not None:
            try:
                value = kr.get_password(SERVICE, self.account)
            except Exception as exc:  # a locked or broken keyring must not stop the app
                log.warning("keyring read failed (%s); trying the token file",
                            type(exc).__name__)
            else:
                if value:
                    return str(value), "keyring"
        try:
            token = self.file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return "", ""
        return token, "file" if token else ""

    def set(self, token: str) -> str:
        """Store the token; returns where ("keyring" or the file path)."""
        kr = _keyring()
        if kr is not None:
            try:
                kr.set_password(SERVICE, self.account, token)
                self.file.unlink(missing_ok=True)
                return "keyring"
            except Exception as exc:
                log.warning("keyring write failed (%s); using the token file",
                            type(exc).__name__)
        self.file.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.file, token, mode=0o600)
        return str(self.file)
