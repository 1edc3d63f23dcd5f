"""The support bundle (`motcua support-bundle`): a zip for the province's helpdesk with
the doctor's results, redacted logs, the schema and row counts, a summary of the queue
and the configuration without secrets. Personal data never goes in: patterns (ID
numbers, phones, e-mails, tokens) are redacted, and so are the people's names found in
the database, which have no pattern."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import logging
import os
import platform
import re
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, text

from desktop_app.clock import Clock, SystemClock
from desktop_app.context import AppContext, open_existing_context
from desktop_app.crash_hooks import CRASH_LOG
from desktop_app.domain.text import nfc
from desktop_app.files import replacing
from desktop_app.logging_setup import LOG_GLOB, redact
from desktop_app.paths import DataPaths, default_data_dir
from desktop_app.setup.doctor import GATEWAY_TIMEOUT, run_doctor
from desktop_app.setup.doctor_report import DoctorReport
from desktop_app.station import StationService
from desktop_app.sync.client import Timeout
from local_db.engine import redacted_url
from local_db.models import Applicant, Clerk, OutboxEntry

log = logging.getLogger(__name__)


class _Scrubber:
    """Pattern redaction (``logging_setup.redact``) plus the people's names found in the
    database: a name has no pattern, so runs of words are looked up in that set."""

    MAX_WORDS = 7

    def __init__(self, names: set[str]) -> None:
        self.names = {" ".join(n.split()).casefold() for n in names if len(n.split()) >= 2}
        self.first_words = {n.split()[0] for n in self.names}

    def names_out(self, text: str) -> str:
        if not self.names:
            return text
        words = list(_WORD.finditer(text))
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            step = 1
            if words[i].group(0).casefold() in self.first_words:
                for n in range(min(self.MAX_WORDS, len(words) - i), 1, -1):
                    seq = words[i:i + n]
                    if any(a.end() == b.start() or text[a.end():b.start()].strip()
                           for a, b in itertools.pairwise(seq)):
                        continue
                    if " ".join(w.group(0) for w in seq).casefold() in self.names:
                        spans.append((seq[0].start(), seq[-1].end()))
                        step = n
                        break
            i += step
        if not spans:
            return text
        parts: list[str] = []
        last = 0
        for a, b in spans:
            parts += [text[last:a], "[name]"]
            last = b
        parts.append(text[last:])
        return "".join(parts)

    def __call__(self, text: str) -> str:
        return redact(self.names_out(nfc(text)))


_WORD = re.compile(r"[^\W\d_]+")


def _scrub_json(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` with ``scrub`` applied to every string (keys included), so the result
    stays valid JSON."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): _scrub_json(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_json(v, scrub) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(str(value))


def _scrubber(ctx: AppContext) -> _Scrubber:
    names: set[str] = set()
    with contextlib.suppress(Exception), ctx.db.read() as s:
        names.update(nfc(n) for n in s.scalars(select(Applicant.full_name)))
        names.update(nfc(n) for n in s.scalars(select(Clerk.full_name)))
    return _Scrubber(names)


def _schema_and_counts(ctx: AppContext) -> dict[str, Any]:
    engine = ctx.db.engine
    out: dict[str, Any] = {"backend": engine.dialect.name, "tables": {}}
    insp = inspect(engine)
    with engine.connect() as conn:
        for table in sorted(insp.get_table_names()):
            info: dict[str, Any] = {
                "columns": [{"name": c["name"], "type": str(c["type"]),
                             "nullable": bool(c.get("nullable", True))}
                            for c in insp.get_columns(table)],
                "indexes": [{"name": i["name"], "columns": i["column_names"],
                             "unique": bool(i.get("unique"))} for i in insp.get_indexes(table)],
            }
            try:
                quoted = engine.dialect.identifier_preparer.quote(table)
                info["rows"] = int(conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar()
                                   or 0)
            except Exception as exc:
                info["rows"] = None
                info["count_error"] = type(exc).__name__
            out["tables"][table] = info
        if engine.dialect.name == "sqlite":
            out["sql"] = [r[0] for r in conn.execute(text(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"))]
    return out


def _outbox_summary(ctx: AppContext) -> dict[str, Any]:
    with ctx.db.read() as s:
        by_state = [{"entity_type": t, "state": st, "count": int(n),
                     "max_attempts": int(a or 0),
                     "oldest": o.isoformat() if o else None}
                    for t, st, n, a, o in s.execute(
                        select(OutboxEntry.entity_type, OutboxEntry.state, func.count(),
                               func.max(OutboxEntry.attempts), func.min(OutboxEntry.created_at))
                        .group_by(OutboxEntry.entity_type, OutboxEntry.state))]
        errors = [{"error": (e or "")[:300], "state": st, "count": int(n)}
                  for e, st, n in s.execute(
                      select(OutboxEntry.last_error, OutboxEntry.state, func.count())
                      .where(OutboxEntry.last_error != "")
                      .group_by(OutboxEntry.last_error, OutboxEntry.state)
                      .order_by(func.count().desc()).limit(50))]
        leases = int(s.scalar(select(func.count()).select_from(OutboxEntry)
                              .where(OutboxEntry.lease_until.is_not(None))) or 0)
    return {"by_state": by_state, "errors": errors, "leased": leases}


def _config_without_secrets(ctx: AppContext) -> dict[str, Any]:
    out: dict[str, Any] = {"station": None}
    with contextlib.suppress(Exception):
        station = StationService(ctx).get()
        if station is not None:
            out["station"] = {**asdict(station), "hot_folders": list(station.hot_folders)}
    out["database_url"] = redacted_url(str(ctx.db.url)) if not ctx.db.is_sqlite else "sqlite"
    out["environment"] = {k: ("***" if "TOKEN" in k or "URL" in k else v)
                          for k, v in os.environ.items() if k.startswith("MOTCUA_")}
    return out


def support_bundle(out: Path, data_dir: Path | None = None, db_url: str | None = None,
                   *, clock: Clock | None = None, doctor: DoctorReport | None = None,
                   gateway_timeout: Timeout = GATEWAY_TIMEOUT) -> Path:
    """Write the helpdesk's zip; returns its path. Personal data never goes in: the zip
    holds counts, the schema, redacted logs and the configuration without secrets."""
    clock = clock or SystemClock()
    paths = DataPaths(data_dir or default_data_dir())
    report = doctor or run_doctor(paths.root, db_url, clock=clock,
                                  gateway_timeout=gateway_timeout)
    texts: dict[str, str] = {}  # scrubbed as text
    docs: dict[str, Any] = {}  # JSON documents: every string in them is scrubbed
    ctx = None
    scrub: Callable[[str], str] = redact
    try:
        with contextlib.suppress(Exception):
            ctx = open_existing_context(paths.root, db_url, clock)
        if ctx is not None:
            scrub = _scrubber(ctx)
            sections: list[tuple[str, Callable[[], Any]]] = [
                ("config.json", lambda: _config_without_secrets(ctx)),
                ("database/schema.json", lambda: _schema_and_counts(ctx)),
                ("outbox.json", lambda: _outbox_summary(ctx))]
            for name, make in sections:
                try:
                    docs[name] = make()
                except Exception as exc:
                    docs[name] = {"error": type(exc).__name__}
                    log.warning("support bundle: %s failed: %s", name, type(exc).__name__)
        docs["doctor.json"] = report.to_dict()
        docs["versions.json"] = report.check("versions").detail
        texts["doctor.txt"] = report.text_vi()
        if paths.logs.is_dir():
            # Every process kind's log and backups, and the native crash tracebacks.
            for log_file in sorted([*paths.logs.glob(LOG_GLOB), paths.logs / CRASH_LOG]):
                with contextlib.suppress(OSError):
                    texts[f"logs/{log_file.name}"] = log_file.read_text(encoding="utf-8",
                                                                        errors="replace")
    finally:
        if ctx is not None:
            ctx.close()
    texts["README.txt"] = (
        "Gói hỗ trợ của Một Cửa Offline cho bộ phận hỗ trợ của tỉnh.\n"
        "Không chứa dữ liệu cá nhân, tệp hồ sơ, mã xác thực hay mật khẩu: chỉ có kết quả "
        "kiểm tra máy (doctor), cấu hình đã bỏ thông tin bí mật, cấu trúc CSDL và số dòng, "
        "tóm tắt hàng đợi gửi tỉnh, nhật ký đã che số định danh, số điện thoại, thư điện tử "
        "và họ tên.\n"
        f"Tạo lúc {clock.now():%d/%m/%Y %H:%M} trên máy {platform.node() or '?'}.\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    with replacing(out) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED
                                                ) as zf:
        for name, doc in docs.items():
            zf.writestr(f"motcua-support/{name}", json.dumps(
                _scrub_json(doc, scrub), ensure_ascii=False, indent=2, default=str))
        for name, text in texts.items():
            zf.writestr(f"motcua-support/{name}", scrub(text))
    log.info("support bundle written: %s (%d files, %d bytes)", out, len(docs) + len(texts),
             out.stat().st_size)
    return out


def bundle_texts(path: Path) -> dict[str, str]:
    """Every file of a support bundle as text (for tests and the helpdesk's tools)."""
    with zipfile.ZipFile(path) as zf:
        return {n: io.TextIOWrapper(zf.open(n), encoding="utf-8").read() for n in zf.namelist()}


def default_bundle_name(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"motcua-ho-tro-{now:%Y%m%d-%H%M%S}.zip"
