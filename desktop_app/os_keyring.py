"""The OS key store (Windows Credential Manager, Secret Service) when one is usable, and
one secret kept there or, without one, in a file only this account can read."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from desktop_app.files import write_atomically

SERVICE = "motcua-offline"
log = logging.getLogger(__name__)


def keyring_module():  # type: ignore[no-untyped-def]
    """The keyring module when a real backend is configured, else None."""
    if os.environ.get("MOTCUA_NO_KEYRING"):
        return None
    try:
        import keyring
        from keyring.backends import fail, null
    except Exception:  # keyring missing or broken: the file fallback still works
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    return keyring


class SecretSlot:
    """``account`` in the OS key store, else ``file`` (0600 in a 0700 folder). ``what``
    names the secret in log lines (never its value).

    ``machine``: the station is shared by every Windows account of the PC
    (desktop_app.machine_station), so a per-account key store cannot hold it; the file,
    sealed with machine-scope DPAPI, is the only place."""

    def __init__(self, account: str, file: Path, what: str, *, machine: bool = False
                 ) -> None:
        self.account = account
        self.file = file
        self.what = what
        self.machine = machine

    def read(self) -> tuple[str, str]:
        """(value, "keyring" or "file"), or ("", "") when neither holds one."""
        if self.machine:
            return self._read_sealed()
        kr = keyring_module()
        if kr is not None:
            try:
                value = kr.get_password(SERVICE, self.account)
            except Exception as exc:  # a locked or broken keyring must not stop the app
                log.warning("keyring read of the %s failed (%s); trying its file",
                            self.what, type(exc).__name__)
            else:
                if value:
                    return str(value), "keyring"
        try:
            value = self.file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return "", ""
        return (value, "file") if value else ("", "")

    def write(self, value: str) -> str:
        """Keep ``value``; returns where ("keyring" or the file's path). A copy left in the
        file by an earlier fallback is removed once the key store holds the value."""
        if self.machine:
            from desktop_app.machine_station import seal

            self.file.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.file, seal(value), mode=0o600)
            return str(self.file)
        kr = keyring_module()
        if kr is not None:
            try:
                kr.set_password(SERVICE, self.account, value)
                self.file.unlink(missing_ok=True)
                return "keyring"
            except Exception as exc:
                log.warning("keyring write of the %s failed (%s); using its file",
                            self.what, type(exc).__name__)
        self.file.parent.mkdir(parents=True, exist_ok=True)
        if os.name != "nt":
            os.chmod(self.file.parent, 0o700)
        write_atomically(self.file, value, mode=0o600)
        return str(self.file)

    def _read_sealed(self) -> tuple[str, str]:
        from desktop_app.machine_station import unseal

        try:
            text = self.file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return "", ""
        if not text:
            return "", ""
        try:
            return unseal(text), "file"
        except (OSError, ValueError) as exc:  # copied from another PC, or damaged
            log.error("the %s file cannot be unsealed on this PC (%s)", self.what,
                      type(exc).__name__)
            return "", ""
