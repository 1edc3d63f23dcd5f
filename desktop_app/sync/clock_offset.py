"""How far off this PC's clock was the last time it talked to the gateway.

Receipt times, dossier codes and appointments are printed from this PC's clock, which may
be days off (a flat CMOS battery, a wrong time zone). Every answer of the gateway carries
its time (the HTTP ``Date`` header); each one the sync client gets is compared with this
PC's clock and the difference is kept in ``sync_state`` under this PC's install id (PCs
sharing one database each have their own clock). The intake screen and the doctor read
the last one, so the clerk is warned even while the link is down.

The intake warns and does not block Receive: the figure is the last measurement (the
clock may have been corrected since; the next contact with the gateway updates it), a
counter must keep working offline, and the clerk cannot check it. The technician is
called, and every dossier received meanwhile is logged with the offset."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from desktop_app.context import AppContext
from local_db import outbox

log = logging.getLogger(__name__)

INTAKE_WARN_S = 300  # the clerk is warned before Receive past 5 minutes
_KEY_PREFIX = "clk:"  # + the 36-character install id: sync_state.key is String(40)
# The offset is stored again only when it moved by this much, or after this long: the
# worker probes the gateway every few seconds, the database need not hear of each one.
_STORE_CHANGE_S = 5.0
_STORE_EVERY_S = 600.0


@dataclass(frozen=True)
class KnownOffset:
    offset_s: float  # this PC minus the gateway: positive when this PC is ahead
    measured_at: datetime  # this PC's time when measured (naive, Vietnamese time)

    @property
    def off(self) -> bool:
        return abs(self.offset_s) > INTAKE_WARN_S


def _key(ctx: AppContext, create: bool = True) -> str:
    return _KEY_PREFIX + ctx.paths.install_id(create)


def last_offset(ctx: AppContext) -> KnownOffset | None:
    """The last offset this PC measured; None when it never reached a gateway."""
    with ctx.db.read() as s:
        raw = outbox.get_state(s, _key(ctx, create=False))  # the doctor creates nothing
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return KnownOffset(float(data["offset_s"]), datetime.fromisoformat(data["measured_at"]))
    except (ValueError, KeyError, TypeError):
        log.warning("stored clock offset unreadable; ignored")
        return None


def store_offset(ctx: AppContext, offset_s: float, measured_at: datetime) -> None:
    value = json.dumps({"offset_s": round(offset_s, 1),
                        "measured_at": measured_at.isoformat(timespec="seconds")})
    with ctx.db.write() as s:
        outbox.set_state(s, _key(ctx), value, measured_at)


def duration_vi(seconds: float) -> str:
    """``3 ngày 2 giờ 5 phút`` (to the nearest minute; seconds only under a minute: the
    Date header itself is to the second)."""
    total = round(abs(seconds))
    if total < 60:
        return f"{total} giây"
    days, rest = divmod(round(total / 60), 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} ngày" if days else "", f"{hours} giờ" if hours else "",
             f"{minutes} phút" if minutes else ""]
    return " ".join(p for p in parts if p)


def warning_vi(known: KnownOffset | None) -> str:
    """What the clerk reads before Receive ("" when the clock is within 5 minutes)."""
    if known is None or not known.off:
        return ""
    way = "nhanh" if known.offset_s > 0 else "chậm"
    return (f"Đồng hồ máy này {way} {duration_vi(known.offset_s)} so với giờ của hệ thống "
            f"tỉnh (đo lúc {known.measured_at:%H:%M ngày %d/%m/%Y} theo đồng hồ máy). Giờ "
            "tiếp nhận và ngày hẹn trả in trên phiếu có thể sai: hãy gọi kỹ thuật viên chỉnh "
            "giờ máy.")


class OffsetRecorder:
    """Given to `GatewayClient.on_server_date`: called with the gateway's time of each
    answer; stores this PC's offset (rarely: see _STORE_*). Never raises: a database
    fault here must not turn a good answer of the gateway into a failed request."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._stored: tuple[float, float] | None = None  # (offset, monotonic time)

    def __call__(self, server_time: datetime) -> None:
        local = self.ctx.clock.now()
        offset = (local - server_time).total_seconds()
        now = time.monotonic()
        with self._lock:
            if self._stored is not None:
                last, when = self._stored
                if abs(offset - last) < _STORE_CHANGE_S and now - when < _STORE_EVERY_S:
                    return
            self._stored = (offset, now)
        if abs(offset) > INTAKE_WARN_S:
            log.warning("station clock is %+.0f s off the gateway's", offset)
        try:
            store_offset(self.ctx, offset, local)
        except Exception as exc:  # the database's fault shows on the next real write
            with self._lock:
                self._stored = None
            log.warning("clock offset not stored: %s", type(exc).__name__)
