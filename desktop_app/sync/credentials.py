"""The station token: in the OS keyring where one exists (Windows Credential Manager,
Secret Service), otherwise in a file readable only by the account running the app.

The token never goes into the database, logs or support bundles."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from desktop_app.machine_station import is_machine_station
from desktop_app.os_keyring import SecretSlot

log = logging.getLogger(__name__)

TOKEN_ENV = "MOTCUA_STATION_TOKEN"


class TokenStore:
    def __init__(self, data_dir: Path, account: str) -> None:
        self.file = data_dir / "secrets" / f"{account}.token"
        self.account = account
        self._slot = SecretSlot(account, self.file, "station token",
                                machine=is_machine_station(data_dir))

    def get(self) -> str:
        return self.lookup()[0]

    def lookup(self) -> tuple[str, str]:
        """(token, where it came from: "env", "keyring", "file"), or ("", "")."""
        env = os.environ.get(TOKEN_ENV, "").strip()
        if env:
            return env, "env"
        return self._slot.read()

    def set(self, token: str) -> str:
        """Store the token; returns where ("keyring" or the file path)."""
        return self._slot.write(token)
