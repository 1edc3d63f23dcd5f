"""Random tokens the gateway issues (station tokens, the admin token)."""

from __future__ import annotations

import secrets


def new_token(nbytes: int = 32) -> str:
    """A random URL-safe token that never begins with "-": a technician types it after
    an option (`motcua sync --set-token TOKEN`), where a leading "-" reads as an option
    and the command refuses it (1 token in 64 did)."""
    while True:
        token = secrets.token_urlsafe(nbytes)
        if not token.startswith("-"):
            return token
