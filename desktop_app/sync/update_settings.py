"""The update channel's settings from provisioning, kept in `sync_state` (no schema
change): the province's release public key and an optional download rate cap. Both are
the agency's, so several counters on one LAN database share them."""

from __future__ import annotations

from desktop_app.context import AppContext
from local_db import outbox

RELEASE_KEY_STATE = "release_public_key"
MAX_KBPS_STATE = "update_max_kbps"


def remember_update_settings(ctx: AppContext, public_key: str, max_kbps: int | None) -> None:
    now = ctx.clock.now()
    with ctx.db.write() as s:
        if public_key:
            outbox.set_state(s, RELEASE_KEY_STATE, public_key, now)
        if max_kbps is not None:
            outbox.set_state(s, MAX_KBPS_STATE, str(max_kbps) if max_kbps else "", now)


def release_public_key(ctx: AppContext) -> str:
    """``ed25519:<hex>``; "" when the station was provisioned without one."""
    with ctx.db.read() as s:
        return outbox.get_state(s, RELEASE_KEY_STATE)


def max_kbps(ctx: AppContext) -> int | None:
    with ctx.db.read() as s:
        value = outbox.get_state(s, MAX_KBPS_STATE)
    return int(value) if value.isdigit() and int(value) > 0 else None
