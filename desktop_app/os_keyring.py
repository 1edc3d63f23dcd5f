"""The OS key store (Windows Credential Manager, Secret Service) when one is usable."""

from __future__ import annotations

import os

SERVICE = "motcua-offline"


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
