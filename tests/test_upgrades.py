"""Installing a newer version over an older one keeps every record: real databases built at
earlier schema revisions are upgraded to head (with a backup first); a failing upgrade
puts the backup back and says so."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from desktop_app.dossiers import DossierQueries
from desktop_app.intake.returns import ReturnService
from desktop_app.startup import open_station
from local_db import migrate
from local_db.engine import Database, is_plaintext_sqlite
from local_db.migrate import MigrationFailed, current_revision, head_revision, upgrade

pytestmark = pytest.mark.migrations

CODE = "000.00.12.H12-231027-1001"
NOW = datetime(2023, 10, 27, 9, 32)

# Meaningful values; every other required column gets a neutral one by its type.
VALUES: dict[str, dict[str, Any]] = {
    "station_settings": {"id": 1, "agency_code": "000.00.12.H12", "agency_name": "UBND XÃ NÀ PHẶC",
                         "place_name": "Nà Phặc", "station_digit": 1},
    "clerks": {"id": 1, "username": "huong", "full_name": "Triệu Thị Hương", "role": "clerk",
               "password_hash": "scrypt$1$1$1$AA==$AA==", "active": True},
    "procedures": {"code": "9.000005", "name": "Cấp Giấy xác nhận thử nghiệm",
                   "name_folded": "cap giay xac nhan thu nghiem",
                   "time_limit_unit": "working_days", "time_limit_amount": 5, "active": True},
    "applicants": {"id": 1, "full_name": "Nguyễn Thị Ánh Tuyết", "id_number": "019190001234",
                   "phone": "0912345678", "address": "Xã Nà Phặc"},
    "dossiers": {"id": 1, "uuid": "6f1c2a9e-0000-4000-8000-000000000001", "code": CODE,
                 "status": 2, "procedure_code": "9.000005",
                 "procedure_name": "Cấp Giấy xác nhận thử nghiệm", "owner_id": 1,
                 "clerk_id": 1, "received_at": NOW, "appointment_at": datetime(2023, 11, 3, 9, 32),
                 "search_text": f"nguyen thi anh tuyet 019190001234 0912345678 {CODE.lower()}",
                 "sequence_number": 1, "time_limit_unit": "working_days"},
    "dossier_components": {"id": 1, "dossier_id": 1, "name": "Tờ khai", "provided": True},
    "outbox": {"id": 1, "entity_type": "dossier", "entity_id":
               "6f1c2a9e-0000-4000-8000-000000000001", "operation": "received",
               "payload": '{"MaHoSo": "' + CODE + '"}', "state": "pending"},
}
ORDER = ["station_settings", "clerks", "procedures", "applicants", "dossiers",
         "dossier_components", "outbox"]


def _neutral(column: sa.Column[Any]) -> Any:
    t = column.type
    if isinstance(t, sa.Boolean):
        return False
    if isinstance(t, sa.Integer | sa.Float | sa.Numeric):
        return 0
    if isinstance(t, sa.DateTime):
        return NOW
    if isinstance(t, sa.Date):
        return NOW.date()
    if isinstance(t, sa.JSON):
        return "{}"
    return ""


def build_old_database(path: Path | str, revision: str) -> Database:
    """A station database as an earlier version left it, with one received dossier
    (``path``: a SQLite file, or a database URL)."""
    db = Database(path if isinstance(path, str) else f"sqlite:///{path}")
    upgrade(db, to=revision)
    meta = sa.MetaData()
    meta.reflect(db.engine)
    with db.engine.begin() as conn:
        for name in ORDER:
            table = meta.tables[name]
            row = {c.name: _neutral(c) for c in table.columns
                   if not c.nullable and c.server_default is None and c.name != "id"}
            row.update({k: v for k, v in VALUES[name].items() if k in table.columns})
            conn.execute(table.insert().values(**row))
    return db


@pytest.mark.parametrize("revision", ["0001", "0002", "0003", "0004", "0005", "0008"])
def test_upgrade_keeps_the_records_and_the_app_works_on_them(tmp_path: Path,
                                                             revision: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = build_old_database(data / "motcua.sqlite3", revision)
    db.dispose()
    ctx = open_station(data, db_url=f"sqlite:///{data / 'motcua.sqlite3'}", sample_catalog=False)
    try:
        report = ctx.migration
        assert (report.from_revision, report.to_revision) == (revision, head_revision())
        assert report.backup is not None and report.backup.exists()
        # The backup is encrypted like the database it copies.
        assert not is_plaintext_sqlite(report.backup)
        backup = Database(f"sqlite:///{report.backup}", sqlite_key=ctx.db.sqlite_key)
        with backup.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")
                                ).scalar() == revision
        backup.dispose()
        # The old dossier is found by name (search index kept in step), opens at the
        # return counter, and its queued sync entry is still there.
        [row] = DossierQueries(ctx).search("nguyen thi anh")
        assert row.code == CODE
        view = ReturnService(ctx).find(CODE)
        assert view.owner_name == "Nguyễn Thị Ánh Tuyết" and view.status == 2
        with ctx.db.read() as s:
            assert s.execute(sa.text("SELECT count(*) FROM outbox WHERE state='pending'")
                             ).scalar() == 1
            assert s.execute(sa.text("SELECT revision FROM dossiers")).scalar() == 1
    finally:
        ctx.close()


@pytest.mark.parametrize("revision", ["0001", "0005", "0008"])
def test_upgrade_on_a_shared_postgresql_database(tmp_path: Path, pg_url: str,
                                                 revision: str) -> None:
    """The LAN database of several counters: PostgreSQL runs each migration in the
    upgrade's transaction, so the records survive and nothing is half-applied."""
    build_old_database(pg_url, revision).dispose()
    ctx = open_station(tmp_path / "data", db_url=pg_url, sample_catalog=False)
    try:
        report = ctx.migration
        assert (report.from_revision, report.to_revision) == (revision, head_revision())
        assert report.backup is None  # no file to copy: the transaction is the safety
        [row] = DossierQueries(ctx).search("nguyen thi anh")
        assert row.code == CODE
        assert ReturnService(ctx).find(CODE).owner_name == "Nguyễn Thị Ánh Tuyết"
        with ctx.db.read() as s:
            assert s.execute(sa.text("SELECT count(*) FROM outbox WHERE state='pending'")
                             ).scalar() == 1
    finally:
        ctx.close()


def test_failed_upgrade_on_postgresql_changes_nothing(pg_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = build_old_database(pg_url, "0005")
    real_upgrade = command.upgrade

    def fails_halfway(cfg: Any, to: str) -> None:
        real_upgrade(cfg, "0008")  # some steps applied inside the transaction…
        raise RuntimeError("network cut in the middle of the upgrade")

    monkeypatch.setattr(migrate.command, "upgrade", fails_halfway)
    with pytest.raises(MigrationFailed):
        upgrade(db)
    assert current_revision(db) == "0005"
    with db.engine.connect() as conn:
        assert sa.inspect(conn).has_table("stations") is False  # 0008's table rolled back
        assert conn.execute(sa.text("SELECT code FROM dossiers")).scalar() == CODE
    db.dispose()


def test_settings_file_of_an_earlier_version_moves_into_the_database(tmp_path: Path) -> None:
    """Before 0009 the retention period and the printer lived in station-extra.json."""
    from desktop_app.station import StationService

    data = tmp_path / "data"
    data.mkdir()
    build_old_database(data / "motcua.sqlite3", "0008").dispose()
    (data / "station-extra.json").write_text(
        json.dumps({"retention_days": 400, "printer": "Canon LBP2900"}), encoding="utf-8")
    url = f"sqlite:///{data / 'motcua.sqlite3'}"
    ctx = open_station(data, db_url=url, sample_catalog=False)
    try:
        station = StationService(ctx).require()
        assert (station.retention_days, station.printer) == (400, "Canon LBP2900")
    finally:
        ctx.close()
    assert not (data / "station-extra.json").exists()
    assert (data / "station-extra.json.imported").is_file()
    again = open_station(data, db_url=url, sample_catalog=False)  # imported once only
    try:
        assert StationService(again).require().retention_days == 400
    finally:
        again.close()


def test_failed_upgrade_restores_the_backup(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "motcua.sqlite3"
    db = build_old_database(path, "0002")
    real_upgrade = command.upgrade

    def fails_halfway(cfg: Any, to: str) -> None:
        real_upgrade(cfg, "0004")  # some steps applied…
        raise RuntimeError("disk error in the middle of the upgrade")

    monkeypatch.setattr(migrate.command, "upgrade", fails_halfway)
    with pytest.raises(MigrationFailed) as failed:
        upgrade(db, backup_dir=tmp_path / "backups")
    assert failed.value.backup is not None and failed.value.backup.exists()
    db = Database(f"sqlite:///{path}")
    assert current_revision(db) == "0002"  # exactly as before
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT code FROM dossiers")).scalar() == CODE
    monkeypatch.undo()
    assert upgrade(db, backup_dir=tmp_path / "backups").to_revision == head_revision()
