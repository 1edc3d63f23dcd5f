"""Redacting logs, `motcua doctor` against real SQLite files and the real gateway (plain
HTTP, HTTPS with a provincial CA, nothing listening), and the support bundle that must
carry no personal data and no secret."""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

import desktop_app.setup.doctor as doctor_module
from desktop_app.accounts import ClerkInfo
from desktop_app.clock import FixedClock
from desktop_app.commands import doctor_cmd, support_cmd
from desktop_app.context import AppContext
from desktop_app.intake.service import IntakeService
from desktop_app.logging_setup import LOG_FILE, RedactingFilter, redact, setup_logging
from desktop_app.setup.doctor import run_doctor
from desktop_app.setup.doctor_report import FAIL, OK, WARN, Check, DoctorReport
from desktop_app.setup.support_bundle import bundle_texts, support_bundle
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.clock_offset import store_offset
from desktop_app.sync.service import SyncService
from local_db.engine import Database
from local_db.migrate import head_revision, upgrade
from local_db.models import OutboxEntry
from provincial_gateway.server import GatewayServer, free_port
from tests.gateway.test_tls import make_pki
from tests.support.gateway_fixtures import (  # noqa: F401
    add_station,
    gateway,
    gateway_factory,
    station_token,
)

from .test_intake import OWNER, complete_draft, intake  # noqa: F401

TOKEN = "st-" + "Qw7Er9Ty" * 5


# --- redaction ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("lookup id_number=001099012345 ok", "lookup id_number=[ID] ok"),
    ("CMND 123456789.", "CMND [ID]."),
    ("phone 0912345678, alt 0912 345 678 / 0912.345.678", "phone [phone], alt [phone] / [phone]"),
    ("call +84 912 345 678 or 84912345678", "call [phone] or [phone]"),
    ("landline 0243 8251 234", "landline [phone]"),
    ("mail Nguyen.An+hs@thainguyen.gov.vn now", "mail [email] now"),
    ("Authorization: Bearer abc.DEF-123_xyz", "Authorization: Bearer ***"),
    ("header bearer abcdefghijkl", "header bearer ***"),
    ("GET /x?token=s3cr3t&since=5", "GET /x?token=***&since=5"),
    ('{"station_token": "s3cr3t-value", "n": 1}', '{"station_token": "***", "n": 1}'),
    ("password=hunter22 user=an", "password=*** user=an"),
    ("postgresql+psycopg://motcua:bi-mat@10.0.0.2/db", "postgresql+psycopg://motcua:***@10.0.0.2/db"),
    ("qr 001099012345|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15082021 end",
     "qr [QR-CCCD]"),
    # Not personal data: left alone.
    ("dossier 000.00.12.H12-231027-1001 rev 2", "dossier 000.00.12.H12-231027-1001 rev 2"),
    ("blob 3f2a9c001099012345aa77b1d0e9c8f1", "blob 3f2a9c001099012345aa77b1d0e9c8f1"),
    ("at 20231027093200 took 0.123456789 s", "at 20231027093200 took 0.123456789 s"),
    ("127.0.0.1:8080 HTTP 200, 5 tokens", "127.0.0.1:8080 HTTP 200, 5 tokens"),
])
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def test_log_file_is_rotated_and_redacted(tmp_path: Path, root_logger: logging.Logger
                                          ) -> None:
    logs = tmp_path / "logs"
    path = setup_logging(logs, console=False)
    assert setup_logging(logs, console=False) == path == logs / LOG_FILE  # idempotent
    ours = [h for h in root_logger.handlers
            if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert len(ours) == 1
    assert (ours[0].maxBytes, ours[0].backupCount) == (2 * 1024 * 1024, 5)
    log = logging.getLogger("desktop_app.test")
    log.info("applicant %s phone %s", "001099012345", "0912 345 678")
    log.info("sent with Authorization: Bearer %s", TOKEN)
    try:
        raise ValueError(f"token={TOKEN} for 019190001234")
    except ValueError:
        log.exception("upload failed")
    for h in root_logger.handlers:
        h.flush()
    text = path.read_text(encoding="utf-8") if path else ""
    assert "applicant [ID] phone [phone]" in text
    assert "ValueError: token=*** for [ID]" in text  # the traceback too
    for secret in ("001099012345", "0912 345 678", TOKEN, "019190001234"):
        assert secret not in text


def test_filter_survives_a_bad_format_string() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "id %s %s", ("001099012345",),
                               None)
    assert RedactingFilter().filter(record)
    assert "001099012345" not in record.getMessage()


# --- doctor --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _quiet_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scanner discovery answers at once (one test below runs the real one)."""
    monkeypatch.setattr(doctor_module, "list_scanner_drivers",
                        lambda: [{"source": "sane", "label": "SANE", "devices": ["test:0"]}])
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    for name in ("MOTCUA_STATION_TOKEN", "MOTCUA_DB_URL", "MOTCUA_HOT_FOLDERS"):
        monkeypatch.delenv(name, raising=False)


def doctor(ctx: AppContext, clock: FixedClock | None = None) -> DoctorReport:
    return run_doctor(ctx.paths.root, str(ctx.db.url), clock=clock)


def test_exit_codes() -> None:
    def report(*states: str) -> DoctorReport:
        return DoctorReport("", "", [Check(str(i), "t", s, "m") for i, s in enumerate(states)])

    assert report(OK, OK).exit_code == 0
    assert report(OK, WARN).exit_code == 1
    assert report(WARN, FAIL, OK).exit_code == 2


@pytest.fixture
def hung() -> Iterator[threading.Event]:
    """Released only after the test: a probe waiting on it hangs until the report is back."""
    release = threading.Event()
    yield release
    release.set()


def test_fresh_machine_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       hung: threading.Event) -> None:
    data_dir = tmp_path / "chua-co"
    monkeypatch.setattr(doctor_module, "ocr_status", hung.wait)  # tesseract never answers
    report = run_doctor(data_dir, probe_deadline_s=0.5)
    assert not hung.is_set() and report.check("ocr").message_vi == "không kiểm tra được tesseract."
    assert not data_dir.exists()
    assert report.check("data_dir").status == WARN
    assert report.check("database").status == WARN
    assert report.check("station").status == FAIL and report.exit_code == 2
    assert report.check("versions").detail["qt"].startswith("6.")
    assert "Máy trạm có lỗi cần kỹ thuật viên xử lý" in report.text_vi()


def test_configured_station_with_the_real_gateway(
        ctx: AppContext, station: StationInfo, clerk: ClerkInfo, clock: FixedClock,
        intake: IntakeService, gateway: GatewayServer, station_token: str) -> None:  # noqa: F811
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    SyncService(ctx).set_token(station_token)
    intake.receive(complete_draft(intake), clerk)
    report = doctor(ctx, clock)
    assert report.check("database").status == OK
    assert report.check("database_writable").status == OK
    assert report.check("migrations").detail == {"current": head_revision(),
                                                  "head": head_revision()}
    assert report.check("station").status == OK
    assert report.check("outbox").status == OK
    assert report.check("outbox").detail["pending"] == 1  # the dossier (it has no files)
    gw = report.check("gateway")
    assert gw.status == WARN and "KHÔNG mã hóa" in gw.message_vi  # plain HTTP on loopback
    assert report.check("clock").status == OK
    token = report.check("token")
    assert token.status == OK and token.detail["accepted"] is True
    assert "(đúng quầy 1)" in token.message_vi
    assert station_token not in json.dumps(report.to_dict(), ensure_ascii=False)
    assert report.check("scanners").message_vi.startswith("test:0 (SANE)")

    clock.set(clock.now() + timedelta(days=4))  # older than unsynced_warn_days = 3
    assert doctor(ctx, clock).check("outbox").status == WARN
    clock.set(clock.now() + timedelta(days=3))
    outbox = doctor(ctx, clock).check("outbox")
    assert outbox.status == FAIL and "motcua sync --export-bundle" in outbox.message_vi
    with ctx.db.write() as s:
        s.execute(update(OutboxEntry).values(state="refused", last_error="xung đột"))
    outbox = doctor(ctx, clock).check("outbox")
    assert outbox.status == WARN and "bị tỉnh từ chối" in outbox.message_vi

    # A PC cloned from another counter: its token belongs to digit 2, not this digit 1.
    SyncService(ctx).set_token(add_station(gateway, digit=2))
    token = doctor(ctx, clock).check("token")
    assert token.status == FAIL and "tỉnh cấp mã này cho quầy 2" in token.message_vi

    revoked = replace(station, gateway_url=gateway.url)
    StationService(ctx).save(revoked)
    SyncService(ctx).set_token("thu-hoi-" + station_token)
    report = doctor(ctx, clock)
    assert report.check("token").status == FAIL and report.exit_code == 2


def test_offline_gateway_is_a_quick_warning(ctx: AppContext, station: StationInfo) -> None:
    StationService(ctx).save(replace(station, gateway_url=f"http://127.0.0.1:{free_port()}"))
    SyncService(ctx).set_token(TOKEN)
    # Nothing listens there: refused at once, the probe answers by itself (a generous
    # deadline, so a busy machine cannot turn this into "did not answer in time").
    report = run_doctor(ctx.paths.root, str(ctx.db.url), probe_deadline_s=60)
    assert report.check("gateway").status == WARN
    assert "Hồ sơ vẫn lưu an toàn trên máy" in report.check("gateway").message_vi
    token = report.check("token")
    assert token.status == OK and token.detail["accepted"] is None
    assert not any(c.id == "clock" for c in report.checks)  # never measured: nothing to say

    # Sync last measured this PC three days ahead of the gateway: said while it is away.
    store_offset(ctx, 3 * 86400 + 125, ctx.clock.now())
    clock = run_doctor(ctx.paths.root, str(ctx.db.url), probe_deadline_s=60).check("clock")
    assert clock.status == FAIL and clock.detail["source"] == "last sync"
    assert clock.message_vi.startswith("nhanh 3 ngày 2 phút so với hệ thống tỉnh (lần đo gần")


def test_tls_needs_the_provincial_ca(ctx: AppContext, station: StationInfo, tmp_path: Path,
                                     gateway_factory: Callable[..., GatewayServer]  # noqa: F811
                                     ) -> None:
    ca, cert, key = make_pki(tmp_path)
    gw = gateway_factory(ssl_certfile=cert, ssl_keyfile=key)
    token = gw.add_station(station.agency_code, station.station_digit)
    StationService(ctx).save(replace(station, gateway_url=gw.url))
    SyncService(ctx).set_token(token)
    failed = doctor(ctx).check("gateway")
    assert failed.status == FAIL and "chứng chỉ" in failed.message_vi
    StationService(ctx).save(replace(station, gateway_url=gw.url, ca_bundle=str(ca)))
    report = doctor(ctx)
    assert report.check("gateway").status == OK
    assert "CA của tỉnh" in report.check("gateway").message_vi
    assert report.check("token").detail["accepted"] is True


def test_corrupt_database_fails(tmp_path: Path, clock: FixedClock) -> None:
    from desktop_app.startup import open_station

    ctx = open_station(tmp_path / "data", clock=clock)
    StationService(ctx).save(StationInfo("000.00.12.H12", "UBND XÃ A", "A", 1))
    path = ctx.db.sqlite_path
    ctx.close()
    assert path is not None
    with path.open("r+b") as f:  # scribble over a few pages in the middle
        f.seek(4096 * 3)
        f.write(b"\xde\xad\xbe\xef" * 4096)
    report = run_doctor(tmp_path / "data")
    assert report.check("database").status == FAIL and report.exit_code == 2


def test_schema_behind_the_application(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = Database(f"sqlite:///{data / 'motcua.sqlite3'}")
    upgrade(db, to="0005")
    db.dispose()
    check = run_doctor(data).check("migrations")
    assert check.status == WARN and check.detail["current"] == "0005"
    assert "sẽ tự nâng cấp" in check.message_vi


def test_real_scanner_discovery_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           hung: threading.Event) -> None:
    monkeypatch.undo()
    monkeypatch.setenv("MOTCUA_HOT_FOLDERS", str(tmp_path))
    real = doctor_module.list_scanner_drivers

    def held_back() -> list[dict[str, Any]]:  # the real discovery, once the report is back
        hung.wait()
        return real()

    monkeypatch.setattr(doctor_module, "list_scanner_drivers", held_back)
    check = run_doctor(tmp_path / "none").check("scanners")
    assert not hung.is_set() and "chưa liệt kê được máy quét" in check.message_vi
    assert check.status in (OK, WARN)
    assert str(tmp_path) in check.detail["hot_folders"]


def test_doctor_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = doctor_cmd.run(argparse.Namespace(json=True, data_dir=tmp_path / "none"))
    out = json.loads(capsys.readouterr().out)
    assert code == out["exit_code"] == 2
    assert {c["id"] for c in out["checks"]} >= {"versions", "data_dir", "station", "printers",
                                                "scanners", "ocr", "gateway", "token"}


# --- support bundle ------------------------------------------------------------------------


def test_support_bundle_has_no_personal_data_and_no_secret(
        ctx: AppContext, station: StationInfo, clerk: ClerkInfo, intake: IntakeService,  # noqa: F811
        root_logger: logging.Logger, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    StationService(ctx).save(replace(station, gateway_url=f"http://127.0.0.1:{free_port()}"))
    SyncService(ctx).set_token(TOKEN)
    intake.receive(complete_draft(intake), clerk)
    with ctx.db.write() as s:  # a refusal whose message quotes the citizen
        s.execute(update(OutboxEntry).where(OutboxEntry.entity_type == "dossier").values(
            state="refused", last_error=f"Hồ sơ của {OWNER.full_name} ({OWNER.id_number}, "
                                        f"{OWNER.phone}) đã có trên hệ thống tỉnh"))
    setup_logging(ctx.paths.logs, console=False)
    log = logging.getLogger("desktop_app.careless")
    # Code must not log these; if some does, the bundle still must not carry them.
    log.warning("careless line: %s %s %s token=%s", OWNER.full_name, OWNER.id_number,
                OWNER.phone, TOKEN)
    log.warning("upper-case: %s / clerk %s", OWNER.full_name.upper(), clerk.full_name)
    for h in root_logger.handlers:
        h.flush()
    # The raw log already lacks the patterns; only the name is still there.
    raw = (ctx.paths.logs / LOG_FILE).read_text(encoding="utf-8")
    assert OWNER.id_number not in raw and TOKEN not in raw and OWNER.full_name in raw

    # A native crash's traceback (faulthandler) goes along with the logs.
    (ctx.paths.logs / "crash.log").write_text("Fatal Python error: Segmentation fault\n",
                                              encoding="utf-8")

    monkeypatch.setenv("MOTCUA_DB_URL", str(ctx.db.url))
    out = tmp_path / "ho-tro.zip"
    code = support_cmd.run(argparse.Namespace(out=out, data_dir=ctx.paths.root))
    assert code == 0 and "Đã tạo gói hỗ trợ" in capsys.readouterr().out
    files = bundle_texts(out)
    names = {n.removeprefix("motcua-support/") for n in files}
    assert names >= {"README.txt", "doctor.json", "doctor.txt", "versions.json", "config.json",
                     "database/schema.json", "outbox.json", f"logs/{LOG_FILE}",
                     "logs/crash.log"}
    forbidden = [OWNER.full_name, OWNER.full_name.upper(), OWNER.id_number, "0912345678",
                 "0912 345 678", OWNER.address, TOKEN, clerk.full_name, "mat-khau-1"]
    for name, text in files.items():
        for value in forbidden:
            assert value not in text, (name, value)
    schema: dict[str, Any] = json.loads(files["motcua-support/database/schema.json"])
    assert schema["tables"]["dossiers"]["rows"] == 1
    assert schema["tables"]["applicants"]["rows"] == 1
    assert any(c["name"] == "id_number" for c in schema["tables"]["applicants"]["columns"])
    outbox = json.loads(files["motcua-support/outbox.json"])
    assert {(r["entity_type"], r["state"]) for r in outbox["by_state"]} == {
        ("dossier", "refused")}
    assert "[name]" in outbox["errors"][0]["error"] and "[ID]" in outbox["errors"][0]["error"]
    log_text = files[f"motcua-support/logs/{LOG_FILE}"]
    assert "careless line: [name] [ID] [phone] token=***" in log_text
    config = json.loads(files["motcua-support/config.json"])
    assert config["station"]["agency_code"] == station.agency_code
    assert json.loads(files["motcua-support/doctor.json"])["checks"]


def test_shared_postgresql_database(pg_ctx: AppContext, tmp_path: Path) -> None:
    from tests.conftest import TEST_STATION

    StationService(pg_ctx).save(TEST_STATION)
    report = doctor(pg_ctx)
    database = report.check("database")
    assert database.status == OK and database.message_vi.startswith("PostgreSQL")
    assert report.check("migrations").status == OK
    assert report.check("station").status == OK
    files = bundle_texts(support_bundle(tmp_path / "pg.zip", pg_ctx.paths.root,
                                        str(pg_ctx.db.url), doctor=report))
    schema = json.loads(files["motcua-support/database/schema.json"])
    assert schema["backend"] == "postgresql" and schema["tables"]["station_settings"]["rows"] == 1


def test_a_form_without_its_signer_is_a_warning(ctx: AppContext, station: StationInfo) -> None:
    from desktop_app.signers import SignedKind, SignerBlock, SignerService

    report = run_doctor(ctx.paths.root, str(ctx.db.url), probe_deadline_s=60)
    check = report.check("signers")
    assert check.status == WARN and check.detail == {"04": False, "05": False}
    assert "chưa cấu hình người ký cho Mẫu 04" in check.message_vi
    signers = SignerService(ctx, station.agency_code)
    for kind in SignedKind:
        signers.save(kind, SignerBlock("TM. ỦY BAN NHÂN DÂN", "", "CHỦ TỊCH", "Lường Thị Hoa"),
                     by="kythuat")
    report = run_doctor(ctx.paths.root, str(ctx.db.url), probe_deadline_s=60)
    assert report.check("signers").status == OK
