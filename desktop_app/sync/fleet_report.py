"""Once per sync run, tell the province how this counter is (`wire.StationHeartbeat`):
app and schema version, queue size and the age of its oldest unsynced item, free disk of
the data directory, the last doctor verdict (status and check ids), the clock offset last
measured, the OS, this PC's install id, the agency and station digit. The province sees
its fleet with `motcua gateway fleet`.

No personal data: counts, sizes, versions and fixed check ids; no host or user name, no
dossier, no path. (Not `heartbeat.py`: that file tells other processes of this PC that
the sync service is alive.)

Sent only to a gateway whose /health (already fetched at the start of the run) lists
the feature, so an older gateway hears nothing; a 404 all the same (a proxy in front of
an older gateway) is expected and quiet. It can never fail or hold up the sync: short
timeouts, and every error is logged and ignored."""

from __future__ import annotations

import logging
import platform
import shutil
from typing import Any

from pydantic import ValidationError

from desktop_app import __version__
from desktop_app.context import AppContext
from desktop_app.doctor_verdict import load_verdict
from desktop_app.station import StationService
from desktop_app.sync.client import GatewayClient, SyncError, Timeout
from desktop_app.sync.clock_offset import last_offset
from local_db import outbox
from local_db import repositories as repo
from local_db.migrate import current_revision
from sync_contract import text_rules, wire

log = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT: Timeout = (5.0, 10.0)  # connect, read: a small POST, not a transfer
_NOT_SERVED = (404, 405)  # a gateway (or a proxy in front of one) without the route


def platform_text() -> str:
    """``Windows-10-10.0.19045-SP0; Python 3.11.9``: the OS build, not the machine's
    name."""
    text = f"{platform.platform(terse=False)}; Python {platform.python_version()}"
    return text_rules.fit_text("platform", text)[:200]


def build_heartbeat(ctx: AppContext) -> dict[str, Any]:
    """What this PC says about itself now (the station's database, this PC's files)."""
    station = StationService(ctx).get()
    now = ctx.clock.now()
    with ctx.db.read() as s:
        counts = outbox.counts(s)
        oldest = repo.oldest_pending_outbox(s)
    try:
        revision = current_revision(ctx.db) or ""
    except Exception as exc:  # the schema's name is nice to have, never worth a failure
        log.info("schema revision not read: %s", type(exc).__name__)
        revision = ""
    try:
        free: int | None = shutil.disk_usage(ctx.paths.root).free
    except OSError:
        free = None
    doctor = load_verdict(ctx.paths.root)
    offset = last_offset(ctx)
    return {
        "agency_code": station.agency_code if station else "",
        "station_digit": station.station_digit if station else None,
        "app_version": __version__,
        "schema_revision": revision,
        "queue_size": counts.get(outbox.PENDING, 0),
        "queue_refused": counts.get(outbox.REFUSED, 0),
        "oldest_unsynced_s": (max(0, int((now - oldest).total_seconds()))
                              if oldest is not None else None),
        "free_disk_bytes": free,
        "doctor_status": doctor.status if doctor else "",
        "doctor_failing": list(doctor.failing) if doctor else [],
        "doctor_warnings": list(doctor.warnings) if doctor else [],
        "doctor_at": doctor.at[:32] if doctor else "",
        "clock_offset_s": offset.offset_s if offset else None,
        "platform": platform_text(),
        "install_id": ctx.paths.install_id(create=False),
        **_update_fields(ctx),
    }


def _update_fields(ctx: AppContext) -> dict[str, str]:
    """The update channel's state (desktop_app.sync.update_store), never a failure."""
    from desktop_app.sync.update_store import update_status

    try:
        st = update_status(ctx.paths.root)
    except Exception as exc:  # a damaged state file must not cost the heartbeat
        log.info("update state not read: %s", type(exc).__name__)
        return {}
    return {"update_state": st.state, "update_version": st.version,
            "update_refused_version": st.refused_version,
            "update_refused_reason": st.refused_reason}


def report_to_fleet(ctx: AppContext, client: GatewayClient, health: wire.Health) -> bool:
    """Send this run's heartbeat if the gateway takes heartbeats; True when it took it.
    Never raises."""
    if wire.FEATURE_HEARTBEAT not in health.features:
        return False
    try:
        body = build_heartbeat(ctx)
        resp = client.request("POST", wire.STATION_HEARTBEAT, json=body,
                              timeout=HEARTBEAT_TIMEOUT)
    except SyncError as exc:  # the link dropped: the next run sends a fresh one
        log.warning("heartbeat not sent: %s", exc.detail)
        return False
    except Exception as exc:  # the database, a file, anything: the sync goes on
        # The type only: a database error's text may quote a statement.
        log.warning("heartbeat not sent: %s", type(exc).__name__)
        return False
    if resp.status_code in _NOT_SERVED:
        log.info("the gateway does not take heartbeats (HTTP %d)", resp.status_code)
        return False
    body_json: Any = None
    if resp.headers.get("Content-Type", "").startswith("application/json"):
        try:
            body_json = resp.json()
        except ValueError:
            body_json = None
    if resp.status_code == 200:
        # Only the gateway's acknowledgement counts (a captive portal answers 200 too).
        try:
            wire.HeartbeatAck.model_validate(body_json)
            return True
        except ValidationError:
            pass
    code = str(body_json.get("code", "")) if isinstance(body_json, dict) else ""
    log.warning("heartbeat not taken: HTTP %d %s %s", resp.status_code,
                resp.headers.get("Content-Type", "-")[:40], code[:40])
    return False
