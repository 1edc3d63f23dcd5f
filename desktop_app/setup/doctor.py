"""`motcua doctor`: what a technician or the province's helpdesk needs to know about a
counter PC, without reading anyone's personal data.

The doctor changes nothing but its own verdict file (`doctor_verdict`: status and check ids,
in a data directory that exists): it does not create the data directory, does not
migrate the database (it opens it without Alembic and checks SQLite through a read-only
connection) and only reads the station token to say whether it exists. Slow probes (the
gateway, scanner discovery, the OCR engine) run in parallel threads with short deadlines,
so an offline PC gets its answer in a few seconds."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import sqlalchemy.exc

from desktop_app.clock import Clock, SystemClock
from desktop_app.context import AppContext, open_existing_context
from desktop_app.digitization import DigitizationService
from desktop_app.doctor_verdict import save_verdict
from desktop_app.domain.errors import DomainError
from desktop_app.logging_setup import redact
from desktop_app.paths import DataPaths, default_data_dir, provisioned_db_url
from desktop_app.scanning.sources.registry import configured_hot_folders
from desktop_app.setup.doctor_checks import (
    Answer,
    LinkLook,
    check_audit_chain,
    check_data_dir,
    check_database,
    check_known_clock,
    check_migrations,
    check_ocr,
    check_outbox,
    check_printers,
    check_scanners,
    check_signers,
    check_station,
    check_sync_service,
    check_versions,
    check_writable,
    gateway_checks,
    list_scanner_drivers,
    look_at_link,
    ocr_status,
)
from desktop_app.setup.doctor_report import FAIL, OK, WARN, Check, DoctorReport
from desktop_app.setup.doctor_settings import check_province_settings
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.client import Timeout

log = logging.getLogger(__name__)

GATEWAY_TIMEOUT: Timeout = (2.0, 2.5)  # connect, read: a quick look, not a sync
PROBE_DEADLINE_S = 4.0
DEVICE_DEADLINE_S = 3.0

T = TypeVar("T")


class _Probe(Generic[T]):
    """``fn`` running in a daemon thread. A probe that hangs (a scanner driver, a keyring
    prompt, a blackholed link) is abandoned at its deadline, never waited for."""

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), name=f"doctor-{name}",
                                        daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._result = fn()
        except BaseException as exc:
            self._error = exc

    def wait(self, until: float) -> Answer[T]:
        """What the probe gave by ``until`` (time.monotonic())."""
        self._thread.join(max(0.0, until - time.monotonic()))
        if self._thread.is_alive():
            return Answer(False)
        return Answer(True, self._result, self._error)


def run_doctor(data_dir: Path | None = None, db_url: str | None = None, *,
               clock: Clock | None = None,
               gateway_timeout: Timeout = GATEWAY_TIMEOUT,
               device_deadline_s: float = DEVICE_DEADLINE_S,
               probe_deadline_s: float = PROBE_DEADLINE_S) -> DoctorReport:
    """Every check, the slow ones in parallel: done in about ``probe_deadline_s`` at
    worst."""
    started = time.monotonic()
    clock = clock or SystemClock()
    paths = DataPaths(data_dir or default_data_dir())
    # Slow probes first, so they run while everything else is checked.
    scanners = _Probe(list_scanner_drivers, "scanners")
    ocr = _Probe(ocr_status, "ocr")
    checks: list[Check] = [check_versions(), check_data_dir(paths)]
    station: StationInfo | None = None
    ctx: AppContext | None = None
    db_checks: list[Check] = []
    profiles_use_ocr = False
    try:
        if paths.root.is_dir() or db_url or provisioned_db_url(paths.root):
            try:
                ctx = open_existing_context(paths.root, db_url, clock)
            except Exception as exc:
                # The context's own words where it has them (a missing driver, a key)
                said = (exc.message_vi if isinstance(exc, DomainError)
                        else f"không mở được CSDL ({type(exc).__name__}).")
                db_checks.append(Check("database", "Cơ sở dữ liệu", FAIL, said,
                                       {"error": redact(str(exc))[:300]}))
        if ctx is None and not db_checks:
            db_checks.append(Check("database", "Cơ sở dữ liệu", WARN, "chưa có CSDL trên máy "
                                   "này (sẽ được tạo khi mở ứng dụng).", {}))
        if ctx is not None:
            with contextlib.suppress(Exception):  # a schema behind head
                station = StationService(ctx).get()
        gateway: _Probe[LinkLook] | None = None
        if station is not None:
            info = station
            gateway = _Probe(lambda: look_at_link(paths.root, info, gateway_timeout),
                             "gateway")
        if ctx is not None:
            with contextlib.suppress(Exception):
                profiles_use_ocr = any(p.ocr for p in DigitizationService(ctx).profiles())
            db_checks.append(check_database(ctx))
            db_checks.append(check_writable(ctx))
            db_checks.append(check_migrations(ctx))
            db_checks.append(check_audit_chain(ctx))
        checks += db_checks
        checks.append(check_station(station))
        if ctx is not None and station is not None:
            # A schema behind head has no signers table yet (the migrations check says
            # so); any other failure is a bug and must show.
            with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
                checks.append(check_signers(ctx, station))
                checks.append(check_province_settings(ctx))
        if ctx is not None:
            checks.append(check_outbox(ctx, station.unsynced_warn_days if station else 3,
                                       clock.now()))
        checks.append(check_sync_service(paths.root))
        checks.append(check_printers(station.printer if station else ""))
        hot = [Path(f) for f in station.hot_folders] if station else []
        hot += [f for f in configured_hot_folders() if f not in hot]
        checks += gateway_checks(station, gateway.wait(started + probe_deadline_s)
                                 if gateway is not None else None)
        if ctx is not None and not any(c.id == "clock" for c in checks):
            # The gateway does not answer now: the clock as sync last measured it.
            known_clock = check_known_clock(ctx)
            if known_clock is not None:
                checks.append(known_clock)
        checks.append(check_scanners(scanners.wait(started + device_deadline_s), hot))
        checks.append(check_ocr(ocr.wait(started + probe_deadline_s), profiles_use_ocr))
    finally:
        if ctx is not None:
            ctx.close()
    report = DoctorReport(clock.now().isoformat(sep=" ", timespec="seconds"), str(paths.root),
                          checks, time.monotonic() - started)
    log.info("doctor: status=%s checks=%d (%s) in %.2f s", report.status, len(checks),
             ", ".join(f"{c.id}={c.status}" for c in checks if c.status != OK) or "all ok",
             report.elapsed_s)
    # Kept for the sync, which tells the province (its fleet view).
    save_verdict(paths.root, report.status, [c.id for c in checks if c.status == FAIL],
                 [c.id for c in checks if c.status == WARN], report.generated_at)
    return report

