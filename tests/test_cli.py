"""The technicians' command line: demo, deadline, calendar, id-qr (run as real processes)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from desktop_app.scanning.barcodes import make_qr_image

CARD = ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|"
        "Thôn Bản Mòng, Xã Chiềng Cơi, Sơn La|15082021")


def motcua(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MOTCUA_DATA_DIR=str(data_dir), PYTHONIOENCODING="utf-8")
    env.pop("MOTCUA_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "desktop_app.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, encoding="utf-8")


def test_demo_writes_receipts_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "desktop_app.cli", "demo", "--out",
                             str(out)], capture_output=True, text=True, env=env, timeout=120,
                            encoding="utf-8")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    kinds = [d["kind"] for d in summary["dossiers"]]
    assert kinds.count("received") >= 3
    assert "supplement_requested" in kinds and "refused" in kinds
    codes = [d["code"] for d in summary["dossiers"] if d["code"]]
    assert len(codes) == len(set(codes)) == kinds.count("received")
    for d in summary["dossiers"]:
        pdf = Path(d["file"]).read_bytes()
        reader = PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) >= 2
        assert (d["code"] or d["slip_number"]) in reader.pages[0].extract_text()
    refused = next(d for d in summary["dossiers"] if d["kind"] == "refused")
    assert refused["code"] is None


def test_deadline(tmp_path: Path) -> None:
    r = motcua("deadline", "--from", "2023-10-27 09:32", "--amount", "5", "--unit",
               "working_days", "--json", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["appointment"] == "2023-11-03 09:32:00"
    r = motcua("deadline", "--from", "27/10/2023", data_dir=tmp_path)
    assert r.returncode == 2 and "không hợp lệ" in r.stderr


def test_calendar_year(tmp_path: Path) -> None:
    r = motcua("calendar", "2024", "--json", data_dir=tmp_path)
    data = json.loads(r.stdout)
    assert data["working_days"] == 251
    days = {e["day"]: e for e in data["exceptions"]}
    assert days["2024-05-04"]["working"] is True
    assert days["2024-02-12"]["working"] is False
    human = motcua("calendar", "2024", data_dir=tmp_path).stdout
    assert "251 ngày làm việc" in human and "Tết" in human


def test_id_qr_from_text_and_image(tmp_path: Path) -> None:
    r = motcua("id-qr", CARD, "--json", data_dir=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["full_name"] == "Nguyễn Văn An"
    image = tmp_path / "card.png"
    make_qr_image(CARD).save(image)
    r = motcua("id-qr", str(image), data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Họ và tên:       Nguyễn Văn An" in r.stdout


@pytest.mark.parametrize(("source", "message"), [
    ("001099012345|123456789|Nguyễn Văn An|31021990|Nam|Sơn La|15082021", "không tồn tại"),
    ("blank.png", "Không tìm thấy mã QR"),
])
def test_id_qr_errors(tmp_path: Path, source: str, message: str) -> None:
    if source.endswith(".png"):
        from PIL import Image

        Image.new("L", (400, 400), 255).save(tmp_path / source)
        source = str(tmp_path / source)
    r = motcua("id-qr", source, data_dir=tmp_path)
    assert r.returncode == 2 and message in r.stderr


def test_unreachable_database_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    """A LAN PostgreSQL server that is off: every command says so in Vietnamese, exit 5."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, MOTCUA_DATA_DIR=str(tmp_path / "data"), PYTHONIOENCODING="utf-8",
               MOTCUA_DB_URL=f"postgresql+psycopg://motcua@127.0.0.1:{port}/motcua")
    for args in (["sync", "--once"], ["retention", "--dry-run"]):
        result = subprocess.run([sys.executable, "-m", "desktop_app.cli", *args], env=env,
                                capture_output=True, text=True, timeout=120, encoding="utf-8")
        assert result.returncode == 5, result.stderr
        assert f"Không mở được cơ sở dữ liệu (máy chủ 127.0.0.1:{port})" in result.stderr
        assert "Traceback" not in result.stderr


def test_failed_upgrade_tells_the_technician(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import command

    from desktop_app.context import DatabaseUnavailable
    from local_db import migrate
    from tests.test_upgrades import build_old_database

    data = tmp_path / "data"
    data.mkdir()
    build_old_database(data / "motcua.sqlite3", "0005").dispose()
    real_upgrade = command.upgrade

    def fails_halfway(cfg: object, to: str) -> None:
        real_upgrade(cfg, "0007")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(migrate.command, "upgrade", fails_halfway)
    with pytest.raises(DatabaseUnavailable) as failed:
        from desktop_app.startup import open_station

        open_station(data, db_url=f"sqlite:///{data / 'motcua.sqlite3'}")
    message = failed.value.message_vi
    assert "Không nâng cấp được dữ liệu" in message and "khôi phục nguyên trạng" in message
    assert str(data / "backups") in message and "motcua support-bundle" in message


def test_commands_open_a_provisioned_postgresql_station(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LAN counter set up by `motcua provision` keeps its database URL in the data
    directory, not in the environment: every command finds the dossiers there, as the GUI
    does."""
    monkeypatch.delenv("MOTCUA_DB_URL", raising=False)  # as on the counter PC
    from datetime import datetime

    from desktop_app.accounts import AccountService, Role
    from desktop_app.catalog import CatalogService
    from desktop_app.clock import FixedClock
    from desktop_app.context import open_context
    from desktop_app.intake.service import IntakeService
    from desktop_app.paths import DB_URL_FILE
    from desktop_app.station import StationService
    from tests.conftest import TEST_STATION
    from tests.test_intake import TEST_CATALOG, complete_draft

    data = tmp_path / "pc1"
    plan = tmp_path / "provision.json"
    plan.write_text(json.dumps({"agency_code": TEST_STATION.agency_code,
                                "agency_name": TEST_STATION.agency_name,
                                "parent_name": TEST_STATION.parent_name,
                                "place_name": TEST_STATION.place_name,
                                "station_digit": 1, "db_url": pg_url}, ensure_ascii=False),
                    encoding="utf-8")
    r = motcua("provision", str(plan), "--data-dir", str(data), data_dir=data)
    assert r.returncode == 0, r.stderr
    assert (data / DB_URL_FILE).is_file() and not (data / "motcua.sqlite3").exists()

    ctx = open_context(data, clock=FixedClock(datetime(2023, 10, 27, 9, 32)))
    try:
        assert StationService(ctx).require().station_digit == 1
        CatalogService(ctx).import_data(TEST_CATALOG)
        clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                                 Role.CLERK)
        intake = IntakeService(ctx)
        code = str(intake.receive(complete_draft(intake), clerk).code)
    finally:
        ctx.close()

    period = ("--from", "2023-10-01", "--to", "2023-10-31", "--data-dir", str(data))
    r = motcua("report", "dashboard", *period, "--json", data_dir=data)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["received"] == 1
    book = tmp_path / "so-theo-doi.pdf"
    r = motcua("report", "tracking-book", *period, "--out", str(book), data_dir=data)
    assert r.returncode == 0, r.stderr
    text = "".join(p.extract_text() for p in PdfReader(book).pages)
    assert "Tổng số: 1 hồ sơ." in text and code.rsplit("-", 1)[1] in text
    assert not (data / "motcua.sqlite3").exists()  # nothing answered from an empty file

    for args in (["retention", "--dry-run"], ["doctor", "--json"],
                 ["support-bundle", "--out", str(tmp_path / "bundle.zip")],
                 ["sync", "--once", "--json"]):
        r = motcua(*args, "--data-dir", str(data), data_dir=data)
        assert "Traceback" not in r.stderr, (args, r.stderr)
        assert "Không có dữ liệu" not in r.stderr + r.stdout, args
    assert not (data / "motcua.sqlite3").exists()
