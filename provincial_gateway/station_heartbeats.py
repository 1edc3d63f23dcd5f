"""A station's heartbeat (`wire.StationHeartbeat`): checked against the token that sent
it and kept as the latest per station, with the gateway's time as ``last_seen``."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from provincial_gateway.auth import StationAuth
from provincial_gateway.db import StationHeartbeat, utcnow
from provincial_gateway.errors import WireError
from provincial_gateway.state import GatewayState
from sync_contract import wire

log = logging.getLogger("provincial_gateway")


def check_owner(station: StationAuth, beat: wire.StationHeartbeat) -> None:
    """A station reports only for itself: an agency or digit in the body that is not the
    token's is refused (403), never stored under either station."""
    agency = beat.agency_code.strip().upper()
    if (agency and agency != station.agency_code) or (
            beat.station_digit is not None and beat.station_digit != station.station_digit):
        log.warning("heartbeat refused: station %s reported as %s/%s", station.label,
                    agency[:40] or "-", beat.station_digit or "-")
        raise WireError(403, wire.E_NOT_OWNER,
                        "Máy trạm chỉ được báo tình trạng của chính mình (mã thông báo của "
                        "quầy này không khớp đơn vị hoặc số hiệu quầy gửi lên).")


def _apply(row: StationHeartbeat, beat: wire.StationHeartbeat, now: datetime) -> None:
    row.last_seen = now
    row.beats = (row.beats or 0) + 1
    row.app_version = beat.app_version
    row.schema_revision = beat.schema_revision
    row.queue_size = beat.queue_size
    row.queue_refused = beat.queue_refused
    row.oldest_unsynced_s = beat.oldest_unsynced_s
    row.free_disk_bytes = beat.free_disk_bytes
    row.doctor_status = beat.doctor_status
    row.doctor_failing = ",".join(beat.doctor_failing)
    row.doctor_warnings = ",".join(beat.doctor_warnings)
    row.doctor_at = beat.doctor_at
    row.clock_offset_s = beat.clock_offset_s
    row.platform = beat.platform
    row.install_id = beat.install_id
    row.update_state = beat.update_state
    row.update_version = beat.update_version
    row.update_refused_version = beat.update_refused_version
    row.update_refused_reason = beat.update_refused_reason


def record(state: GatewayState, station: StationAuth, beat: wire.StationHeartbeat,
           now: datetime | None = None) -> datetime:
    """Replace the station's latest heartbeat; returns ``last_seen`` (UTC, naive)."""
    check_owner(station, beat)
    when = now or utcnow()
    for attempt in (1, 2):
        try:
            with state.sessions.begin() as s:
                row = s.get(StationHeartbeat, station.id)
                if row is None:
                    row = StationHeartbeat(station_id=station.id, beats=0)
                    s.add(row)
                _apply(row, beat, when)
            break
        except IntegrityError:
            # Two first heartbeats of one station at once (PostgreSQL): the other one
            # inserted the row; update it.
            if attempt == 2:
                raise
    return when
