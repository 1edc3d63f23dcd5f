"""The province's view of its counters: each active station with its latest heartbeat,
and the flags a technician acts on — behind (an older version than the newest in the
fleet or than a required one), silent (no heartbeat for N days, or never), failing the
doctor, short of disk. Read by `motcua gateway fleet` and the admin page's fleet view."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from provincial_gateway.db import Station, StationHeartbeat, utcnow
from provincial_gateway.state import GatewayState
from provincial_gateway.timeutil import VN

BEHIND, SILENT, DOCTOR, DISK = "behind", "silent", "doctor", "disk"
UPDATE_REFUSED = "update_refused"  # it refused a published installer (signature or hash)
FLAG_ORDER = (BEHIND, SILENT, DOCTOR, DISK, UPDATE_REFUSED)
DEFAULT_SILENT_DAYS = 3.0
DEFAULT_MIN_FREE_GB = 2.0
GB = 1000**3  # as Windows Explorer and disk vendors print "GB" on the label

_RELEASE = re.compile(
    r"^v?(\d+(?:\.\d+)*)"
    r"(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
    r"(?:[-_.]?post[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[0-9A-Za-z.]*)?$",
    re.IGNORECASE)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}

VersionKey = tuple[tuple[int, ...], tuple[int, int, int], tuple[int, int], tuple[int, int]]


def version_key(version: str) -> VersionKey | None:
    """A sortable key for a PEP 440 version as stations write them: 1.5.0.dev1 <
    1.5.0a1 < 1.5.0rc1 < 1.5.0 == 1.5 < 1.5.0.post1 (a local part, "+source", is
    ignored). None for anything else, which is never judged "behind"."""
    m = _RELEASE.match(version.strip())
    if m is None:
        return None
    release = [int(p) for p in m.group(1).split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()  # 1.4 == 1.4.0
    pre, pre_n, post_n, dev_n = m.group(2), m.group(3), m.group(4), m.group(5)
    if pre:
        phase = (0, _PRE_RANK[pre.lower()], int(pre_n or 0))
    elif dev_n is not None and post_n is None:
        phase = (-1, 0, 0)  # 1.5.0.dev1 comes before 1.5.0a1
    else:
        phase = (1, 0, 0)
    post = (1, int(post_n or 0)) if post_n is not None else (0, 0)
    dev = (0, int(dev_n or 0)) if dev_n is not None else (1, 0)
    return (tuple(release), phase, post, dev)


@dataclass(frozen=True)
class FleetPolicy:
    min_version: str = ""  # "" : only the newest version seen in the fleet counts
    silent_days: float = DEFAULT_SILENT_DAYS
    min_free_gb: float = DEFAULT_MIN_FREE_GB


@dataclass
class FleetRow:
    agency_code: str
    station_digit: int
    name: str
    app_version: str = ""
    schema_revision: str = ""
    last_seen: datetime | None = None  # UTC, naive
    queue_size: int | None = None
    queue_refused: int | None = None
    oldest_unsynced_s: int | None = None
    free_disk_bytes: int | None = None
    doctor_status: str = ""
    doctor_failing: list[str] = field(default_factory=list)
    doctor_warnings: list[str] = field(default_factory=list)
    clock_offset_s: float | None = None
    platform: str = ""
    install_id: str = ""
    beats: int = 0
    update_state: str = ""
    update_version: str = ""
    update_refused_version: str = ""
    update_refused_reason: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def reported(self) -> bool:
        return self.last_seen is not None

    def last_seen_vn(self) -> str:
        if self.last_seen is None:
            return ""
        return self.last_seen.replace(tzinfo=UTC).astimezone(VN).isoformat(timespec="seconds")

    def to_dict(self, now: datetime) -> dict[str, Any]:
        age = (now - self.last_seen).total_seconds() if self.last_seen else None
        return {"agency_code": self.agency_code, "station_digit": self.station_digit,
                "name": self.name, "app_version": self.app_version,
                "schema_revision": self.schema_revision, "last_seen": self.last_seen_vn(),
                "last_seen_age_s": None if age is None else round(age),
                "queue_size": self.queue_size, "queue_refused": self.queue_refused,
                "oldest_unsynced_s": self.oldest_unsynced_s,
                "free_disk_bytes": self.free_disk_bytes, "doctor_status": self.doctor_status,
                "doctor_failing": self.doctor_failing,
                "doctor_warnings": self.doctor_warnings,
                "clock_offset_s": self.clock_offset_s, "platform": self.platform,
                "install_id": self.install_id, "heartbeats": self.beats,
                "update_state": self.update_state, "update_version": self.update_version,
                "update_refused_version": self.update_refused_version,
                "update_refused_reason": self.update_refused_reason,
                "flags": self.flags}


@dataclass
class Fleet:
    rows: list[FleetRow]
    newest_version: str  # the newest any station reported
    wanted_version: str  # older than this is "behind": the newest, or --min-version above it
    policy: FleetPolicy
    now: datetime  # UTC, naive

    @property
    def flagged(self) -> list[FleetRow]:
        return [r for r in self.rows if r.flags]

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1,
                "generated_at": self.now.replace(tzinfo=UTC).astimezone(VN).isoformat(
                    timespec="seconds"),
                "newest_version": self.newest_version,
                "wanted_version": self.wanted_version,
                "policy": {"min_version": self.policy.min_version,
                           "silent_days": self.policy.silent_days,
                           "min_free_gb": self.policy.min_free_gb},
                "stations": len(self.rows), "flagged": len(self.flagged),
                "counts": {f: sum(1 for r in self.rows if f in r.flags) for f in FLAG_ORDER},
                "rows": [r.to_dict(self.now) for r in self.rows]}


def _split(text: str) -> list[str]:
    return [p for p in text.split(",") if p]


def load_rows(state: GatewayState, agency: str | None = None) -> list[FleetRow]:
    """Active stations, each with its latest heartbeat when it ever sent one."""
    query = (select(Station, StationHeartbeat)
             .outerjoin(StationHeartbeat, StationHeartbeat.station_id == Station.id)
             .where(Station.active.is_(True))
             .order_by(Station.agency_code, Station.station_digit))
    if agency:
        query = query.where(Station.agency_code == agency.strip().upper())
    rows: list[FleetRow] = []
    with state.sessions() as s:
        for station, beat in s.execute(query):
            row = FleetRow(station.agency_code, station.station_digit, station.name)
            if beat is not None:
                row.app_version = beat.app_version
                row.schema_revision = beat.schema_revision
                row.last_seen = beat.last_seen
                row.queue_size = beat.queue_size
                row.queue_refused = beat.queue_refused
                row.oldest_unsynced_s = beat.oldest_unsynced_s
                row.free_disk_bytes = beat.free_disk_bytes
                row.doctor_status = beat.doctor_status
                row.doctor_failing = _split(beat.doctor_failing)
                row.doctor_warnings = _split(beat.doctor_warnings)
                row.clock_offset_s = beat.clock_offset_s
                row.platform = beat.platform
                row.install_id = beat.install_id
                row.beats = beat.beats
                row.update_state = beat.update_state
                row.update_version = beat.update_version
                row.update_refused_version = beat.update_refused_version
                row.update_refused_reason = beat.update_refused_reason
            rows.append(row)
    return rows


def judge(rows: list[FleetRow], policy: FleetPolicy, now: datetime) -> Fleet:
    """Set each row's flags. "Behind" compares with the newest version any station
    reported and with ``policy.min_version``, whichever is higher."""
    keyed = [(version_key(r.app_version), r.app_version) for r in rows if r.app_version]
    known = [(k, v) for k, v in keyed if k is not None]
    newest = max(known)[1] if known else ""
    bar, bar_text = (version_key(newest), newest) if newest else (None, "")
    wanted = version_key(policy.min_version) if policy.min_version else None
    if wanted is not None and (bar is None or wanted > bar):
        bar, bar_text = wanted, policy.min_version
    silent_s = policy.silent_days * 86400
    for r in rows:
        r.flags = []
        key = version_key(r.app_version) if r.app_version else None
        if key is not None and bar is not None and key < bar:
            r.flags.append(BEHIND)
        if r.last_seen is None or (now - r.last_seen).total_seconds() > silent_s:
            r.flags.append(SILENT)
        if r.doctor_status == "fail":
            r.flags.append(DOCTOR)
        if r.free_disk_bytes is not None and r.free_disk_bytes < policy.min_free_gb * GB:
            r.flags.append(DISK)
        if r.update_refused_version:
            r.flags.append(UPDATE_REFUSED)
    return Fleet(rows, newest, bar_text, policy, now)


def fleet(state: GatewayState, policy: FleetPolicy | None = None,
          now: datetime | None = None, agency: str | None = None) -> Fleet:
    return judge(load_rows(state, agency), policy or FleetPolicy(), now or utcnow())


# --- words for people (the CLI table and the admin page) -----------------------------------

FLAG_VI = {BEHIND: "phiên bản cũ", SILENT: "im lặng", DOCTOR: "kiểm tra máy lỗi",
           DISK: "sắp hết đĩa", UPDATE_REFUSED: "từ chối bản cập nhật"}


def duration_vi(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = abs(seconds)
    if s < 60:
        return f"{s:.0f} giây"
    if s < 7200:
        return f"{s / 60:.0f} phút"
    if s < 172800:
        return f"{s / 3600:.0f} giờ"
    return f"{s / 86400:.0f} ngày"


def offset_vi(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if abs(seconds) < 1:
        return "khớp"
    return f"{'nhanh' if seconds > 0 else 'chậm'} {duration_vi(seconds)}"


def disk_vi(free: int | None) -> str:
    return "" if free is None else f"{free / GB:.1f} GB"


def doctor_vi(row: FleetRow) -> str:
    if not row.doctor_status:
        return "chưa chạy" if row.reported else ""
    word = {"ok": "đạt", "warn": "cảnh báo", "fail": "lỗi"}.get(row.doctor_status,
                                                             row.doctor_status)
    return f"{word}: {', '.join(row.doctor_failing)}" if row.doctor_failing else word


def last_seen_vi(row: FleetRow, now: datetime) -> str:
    if row.last_seen is None:
        return "chưa từng báo"
    local = row.last_seen.replace(tzinfo=UTC).astimezone(VN)
    return f"{local:%H:%M %d/%m/%Y} ({duration_vi((now - row.last_seen).total_seconds())} trước)"


def flags_vi(row: FleetRow) -> str:
    return ", ".join(FLAG_VI[f] for f in row.flags)


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _cell(text: str, width: int = 0) -> str:
    """One table cell for a terminal: no control or direction characters (a station name
    is typed by a person and could carry an escape sequence), cut to ``width``."""
    text = _UNPRINTABLE.sub("?", text)
    return text if not width or len(text) <= width else text[:width - 1] + "…"


HEADERS_VI = ("Đơn vị", "Quầy", "Tên", "Phiên bản", "Lược đồ CSDL", "Lần cuối", "Hàng chờ",
              "Chờ lâu nhất", "Đĩa trống", "Kiểm tra máy", "Lệch giờ", "Cần xem")


def cells_vi(row: FleetRow, now: datetime) -> tuple[str, ...]:
    queue = "" if row.queue_size is None else str(row.queue_size)
    if row.queue_refused:
        queue += f" (+{row.queue_refused} bị từ chối)"
    return (row.agency_code, str(row.station_digit), row.name, row.app_version,
            row.schema_revision, last_seen_vi(row, now), queue,
            duration_vi(row.oldest_unsynced_s), disk_vi(row.free_disk_bytes), doctor_vi(row),
            offset_vi(row.clock_offset_s), flags_vi(row))


def summary_vi(result: Fleet) -> str:
    p = result.policy
    if not result.rows:
        return "Chưa có máy trạm nào."
    counts = {f: sum(1 for r in result.rows if f in r.flags) for f in FLAG_ORDER}
    if not result.flagged:
        return f"{len(result.rows)} quầy, không quầy nào cần xem."
    parts = [f"{counts[BEHIND]} phiên bản cũ hơn {result.wanted_version}" if counts[BEHIND]
             else "",
             f"{counts[SILENT]} im lặng quá {p.silent_days:g} ngày" if counts[SILENT] else "",
             f"{counts[DOCTOR]} kiểm tra máy (doctor) lỗi" if counts[DOCTOR] else "",
             f"{counts[DISK]} còn dưới {p.min_free_gb:g} GB đĩa trống" if counts[DISK] else "",
             f"{counts[UPDATE_REFUSED]} từ chối bản cập nhật (chữ ký hoặc mã băm sai)"
             if counts[UPDATE_REFUSED] else ""]
    return (f"{len(result.rows)} quầy, {len(result.flagged)} quầy cần xem: "
            + "; ".join(x for x in parts if x) + ".")


def table_vi(result: Fleet) -> str:
    """The fleet as a plain-text table for a technician's terminal."""
    widths = (13, 4, 24, 14, 36, 36, 24, 12, 10, 40, 16, 60)
    rows = [tuple(_cell(c, w) for c, w in zip(cells_vi(r, result.now), widths, strict=True))
            for r in result.rows]
    cols = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(HEADERS_VI)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, cols, strict=True)).rstrip()  # noqa: E731
    out = [line(HEADERS_VI), line(tuple("-" * w for w in cols))]
    out += [line(r) for r in rows]
    return "\n".join([*out, "", summary_vi(result)])
