"""The station's SQLite file is encrypted at rest (SQLCipher): no citizen's name, ID
number, address or phone can be read from the file, its WAL or its backups; an old
plaintext file is encrypted in place at start-up, surviving a power cut at any step; a
wrong or missing key is a clear message; the recovery code brings the key back."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app import db_encryption, key_escrow
from desktop_app.clock import FixedClock
from desktop_app.commands import provision_cmd, recover_key_cmd, recovery_code_cmd
from desktop_app.context import DatabaseUnavailable, open_context
from desktop_app.data_key import PURPOSE_DATABASE, DataKeyStore, subkey
from desktop_app.demo import DEMO_CARDS, run_demo
from desktop_app.dossiers import DossierQueries
from desktop_app.key_escrow import MAX_FAILURES, escrow_file, make_escrow
from desktop_app.paths import DataPaths
from desktop_app.startup import open_station
from local_db.engine import (
    Database,
    WrongDatabaseKey,
    connect_sqlite,
    is_plaintext_sqlite,
    postgresql_connect_args,
)
from provincial_gateway import admin_ops
from provincial_gateway.server import GatewayServer
from tests.conftest import RECEIVED_AT
from tests.support.gateway_fixtures import AGENCY, gateway, gateway_factory  # noqa: F401

pytestmark = pytest.mark.sqlite


def personal_terms() -> list[str]:
    """What the demo stores about its citizens (and its clerk and the signer): their ID
    numbers, names, addresses (whole and the first part) and phones, 24 terms."""
    terms: list[str] = []
    for card in DEMO_CARDS:
        number, _old, name, _birth, _sex, address, _issued = card.split("|")
        terms += [number, name, address, address.split(",")[0]]
    terms += [f"09{i}8123456" for i in range(4)] + ["0978111222", "0912000111"]
    return [*terms, "Triệu Thị Hương", "Hoàng Văn Thụ"]


def _folded(term: str) -> str:
    """The form the search index keeps: no diacritics, lower case."""
    text = unicodedata.normalize("NFD", term.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def found_in(files: list[Path]) -> dict[str, list[str]]:
    """Which personal terms appear in which file, as UTF-8 (as written and folded) or
    UTF-16 bytes."""
    hits: dict[str, list[str]] = {}
    for f in files:
        data = f.read_bytes()
        for term in personal_terms():
            forms = {term, _folded(term)}
            if any(form.encode("utf-8") in data or form.encode("utf-16-le") in data
                   for form in forms):
                hits.setdefault(term, []).append(f.name)
    return hits


def database_files(data: Path) -> list[Path]:
    names = ("*.sqlite3", "*.sqlite3-wal", "*.sqlite3-shm", "*.sqlite3-journal")
    return [p for pattern in names for where in (data, data / "backups")
            for p in where.glob(pattern)]


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    if "gateway" not in request.fixturenames:
        # A cheaper scrypt for the tests of the recovery logic (the envelope records its
        # cost); the test through the gateway keeps the real one.
        monkeypatch.setattr(key_escrow, "SCRYPT_N", 2**14)
    for name in ("MOTCUA_STATION_TOKEN", "MOTCUA_DB_URL", "MOTCUA_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory after `motcua demo`: six dossiers of four citizens."""
    root = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTCUA_NO_KEYRING", "1")
        mp.delenv("MOTCUA_DB_URL", raising=False)
        run_demo(root / "out", root / "data", FixedClock(RECEIVED_AT))
    return root / "data"


@pytest.fixture
def demo_data(_demo_template: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(_demo_template, data)
    return data


def open_demo(data: Path) -> Iterator[DossierQueries]:
    ctx = open_station(data, db_url=f"sqlite:///{data / 'motcua.sqlite3'}",
                       sample_catalog=False)
    try:
        yield DossierQueries(ctx)
    finally:
        ctx.close()


def _decrypt_to_plaintext(data: Path) -> None:
    """Turn the demo's data directory into what a version without encryption left: the
    same database as a plaintext file, a plaintext migration backup, no data key."""
    db = data / "motcua.sqlite3"
    key = subkey(DataKeyStore(data).get(), PURPOSE_DATABASE)
    plain = data / "plain.tmp"
    conn = connect_sqlite(db, key)
    try:
        conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(plain),))
        conn.execute("SELECT sqlcipher_export('plain')").fetchone()
        conn.execute("DETACH DATABASE plain")
    finally:
        conn.close()
    os.replace(plain, db)
    shutil.copyfile(db, data / "backups" / "motcua-20260101-000000-000000-before-0017.sqlite3")
    os.chmod(db, 0o644)
    (data / "secrets" / "data.key").unlink()
    assert is_plaintext_sqlite(db) and found_in([db])


def test_no_personal_term_in_the_database_files_after_a_demo(demo_data: Path) -> None:
    files = database_files(demo_data)
    assert demo_data / "motcua.sqlite3" in files
    assert found_in(files) == {}
    # …and the clerk's search (the FTS index, inside the encrypted file) still works.
    for queries in open_demo(demo_data):
        assert [r.owner_name for r in queries.search("hoang thi mai")] == ["Hoàng Thị Mai"]
        assert len(queries.search("019195007788")) == 2  # received, then the supplement


def test_a_plaintext_database_is_encrypted_in_place(demo_data: Path) -> None:
    _decrypt_to_plaintext(demo_data)
    before = found_in(database_files(demo_data))
    assert len(before) == len(personal_terms()), set(personal_terms()) - set(before)
    for queries in open_demo(demo_data):
        assert len(queries.search("019195007788")) == 2
        assert [r.owner_name for r in queries.search("nong van")] == ["Nông Văn Thắng"]
    db = demo_data / "motcua.sqlite3"
    assert not is_plaintext_sqlite(db)
    assert found_in(database_files(demo_data)) == {}
    # No plaintext copy is left: the old backup is gone, no work file remains.
    backups = list((demo_data / "backups").iterdir())
    assert all(not is_plaintext_sqlite(b) for b in backups)
    assert not db_encryption.work_file(db).exists()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.mark.parametrize("step", ["export", "replace", "after_replace"])
def test_a_power_cut_during_the_encryption_loses_nothing(
        demo_data: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """Cut at each step of the in-place encryption: the next start finds either the
    plaintext file (and redoes the work) or the complete encrypted one."""
    _decrypt_to_plaintext(demo_data)

    class PowerCut(BaseException):
        pass

    def cut(*_a: object, **_k: object) -> None:
        raise PowerCut

    if step == "export":  # the encrypted copy half built
        real = db_encryption.fsync_file

        def half(path: Path) -> None:
            real(path)
            with path.open("r+b") as f:
                f.truncate(path.stat().st_size // 2)
            raise PowerCut

        monkeypatch.setattr(db_encryption, "fsync_file", half)
    elif step == "replace":  # the copy complete, the rename not done
        monkeypatch.setattr(db_encryption.os, "replace", cut)
    else:  # renamed, the directory not yet synced
        monkeypatch.setattr(db_encryption, "fsync_dir", cut)
    with pytest.raises(PowerCut):
        open_context(demo_data, f"sqlite:///{demo_data / 'motcua.sqlite3'}")
    monkeypatch.undo()
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    for queries in open_demo(demo_data):
        assert len(queries.search("019195007788")) == 2
        assert len(queries.search("")) == 6
    assert found_in(database_files(demo_data)) == {}
    assert not db_encryption.work_file(demo_data / "motcua.sqlite3").exists()


def test_a_wrong_or_missing_key_is_a_clear_message(demo_data: Path) -> None:
    db = demo_data / "motcua.sqlite3"
    with pytest.raises(WrongDatabaseKey):
        connect_sqlite(db, bytes(32))
    with pytest.raises(sqlite3.DatabaseError):  # plain SQLite sees no database at all
        sqlite3.connect(db).execute("SELECT count(*) FROM sqlite_master").fetchone()
    DataKeyStore(demo_data).store(bytes(32))  # another data directory's key
    for missing in (False, True):
        if missing:
            (demo_data / "secrets" / "data.key").unlink()
        with pytest.raises(DatabaseUnavailable) as err:
            open_context(demo_data, f"sqlite:///{db}")
        assert "motcua recover-key" in err.value.message_vi
        assert "mã khôi phục" in err.value.message_vi
    assert not db_encryption.work_file(db).exists() and not is_plaintext_sqlite(db)


def test_data_files_are_owner_only(demo_data: Path) -> None:
    for _ in open_demo(demo_data):
        data = DataPaths(demo_data)
        assert stat.S_IMODE(data.root.stat().st_mode) == 0o700
        for d in (data.backups, data.root / "secrets"):
            assert stat.S_IMODE(d.stat().st_mode) == 0o700
        for f in [*database_files(demo_data), demo_data / "secrets" / "data.key"]:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def _recover(data: Path, code: str, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch, *flags: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    recover_key_cmd.add_parsers(parser.add_subparsers())
    args = parser.parse_args(["recover-key", "--data-dir", str(data), *flags])
    monkeypatch.setattr(sys, "stdin", io.StringIO(code + "\n"))
    result = args.func(args)
    out, err = capsys.readouterr()
    return result, out + err


def test_recovery_code_restores_the_key_from_the_local_copy(
        demo_data: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    escrow = make_escrow(demo_data, DataKeyStore(demo_data).get())
    assert escrow.code not in escrow_file(demo_data).read_text()
    (demo_data / "secrets" / "data.key").unlink()  # a new Windows profile
    wrong = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF"
    code, out = _recover(demo_data, wrong, capsys, monkeypatch)
    assert code == 2 and "Mã khôi phục không đúng" in out
    assert f"còn {MAX_FAILURES - 1} lần thử" in out
    # Typed in lower case, without dashes, with a 0 for an O: still the code.
    typed = escrow.code.lower().replace("-", " ").replace("o", "0")
    code, out = _recover(demo_data, typed, capsys, monkeypatch)
    assert code == 0, out
    for queries in open_demo(demo_data):
        assert len(queries.search("")) == 6


def test_too_many_wrong_codes_lock_recovery(demo_data: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    escrow = make_escrow(demo_data, DataKeyStore(demo_data).get())
    (demo_data / "secrets" / "data.key").unlink()
    import time

    # Four wrong codes typed earlier (each costs a second of scrypt: not redone here).
    (demo_data / "secrets" / "recover-key.attempts").write_text(
        f"{MAX_FAILURES - 1} {time.time()}\n")
    code, out = _recover(demo_data, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF", capsys,
                         monkeypatch)
    assert code == 2 and "còn 0 lần thử" in out
    code, out = _recover(demo_data, escrow.code, capsys, monkeypatch)  # even the right one
    assert code == 2 and "Hãy chờ" in out and not (demo_data / "secrets" / "data.key").exists()


def test_recovery_through_the_gateway_after_re_enrolment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        gateway: GatewayServer) -> None:  # noqa: F811
    """Enrolment makes the recovery code and leaves the wrapped key at the province; the
    PC dies, its data directory comes back from a backup without its secrets; the
    technician re-enrols and types the code."""
    enrol_code, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2, "Quầy 2")
    plan = tmp_path / "provision.json"
    plan.write_text(json.dumps({
        "agency_code": AGENCY, "agency_name": "UBND XÃ NÀ PHẶC",
        "parent_name": "UBND TỈNH THÁI NGUYÊN", "place_name": "Nà Phặc",
        "station_digit": 2, "gateway_url": gateway.url, "enrolment_code": enrol_code}),
        encoding="utf-8")
    data = tmp_path / "data"
    parser = argparse.ArgumentParser()
    provision_cmd.add_parsers(parser.add_subparsers())
    args = parser.parse_args(["provision", str(plan), "--data-dir", str(data), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    recovery = out["recovery_code"]
    assert out["applied"]["escrow_sent"] and "recovery_code" not in out["applied"]
    for log_file in (data / "logs").glob("*"):
        assert recovery not in log_file.read_text(encoding="utf-8", errors="replace")

    shutil.rmtree(data / "secrets")  # the replacement PC: no key, no local copy
    with pytest.raises(DatabaseUnavailable):
        open_context(data, f"sqlite:///{data / 'motcua.sqlite3'}")
    code, text = _recover(data, recovery, capsys, monkeypatch)
    assert code == 2 and "Không có bản khóa dự phòng" in text

    again, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2, "Quầy 2")
    code, text = _recover(data, recovery, capsys, monkeypatch, "--gateway", gateway.url,
                          "--agency", AGENCY, "--digit", "2", "--enrolment-code", again)
    assert code == 0, text
    ctx = open_context(data, f"sqlite:///{data / 'motcua.sqlite3'}")
    try:
        assert ctx.db.sqlite_key is not None
    finally:
        ctx.close()
    # The new token is kept: the station syncs again without provisioning.
    assert (data / "secrets" / f"{AGENCY}-2.token").is_file()


def test_lan_postgresql_needs_tls_except_on_this_pc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_PG_SSLROOTCERT", raising=False)
    for host in ("127.0.0.1", "localhost", "::1", None, "/var/run/postgresql"):
        assert "sslmode" not in postgresql_connect_args(host)
    assert postgresql_connect_args("192.168.1.10")["sslmode"] == "require"
    monkeypatch.setenv("MOTCUA_PG_SSLROOTCERT", "/etc/motcua/ca.pem")
    args = postgresql_connect_args("may-chu-xa.lan")
    assert (args["sslmode"], args["sslrootcert"]) == ("verify-full", "/etc/motcua/ca.pem")
    db = Database("postgresql+psycopg://u@10.0.0.5/motcua")
    assert db.sqlite_key is None
    db.dispose()


CODE_SHAPE = r"[0-9A-Z]{5}(-[0-9A-Z]{5}){5}"


def test_provision_logged_to_a_file_leaves_no_code_and_recovery_code_makes_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        gateway: GatewayServer) -> None:  # noqa: F811
    """The installer runs provisioning into provision.log (not a terminal): the code must
    not lie there beside the escrow copy it opens. `motcua recovery-code` makes a new one
    at a terminal, and that code recovers the key, here and through the province."""
    enrol_code, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 3, "Quầy 3")
    plan = tmp_path / "provision.json"
    plan.write_text(json.dumps({
        "agency_code": AGENCY, "agency_name": "UBND XÃ NÀ PHẶC",
        "parent_name": "UBND TỈNH THÁI NGUYÊN", "place_name": "Nà Phặc",
        "station_digit": 3, "gateway_url": gateway.url, "enrolment_code": enrol_code}),
        encoding="utf-8")
    data = tmp_path / "data"
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    provision_cmd.add_parsers(sub)
    recovery_code_cmd.add_parsers(sub)
    args = parser.parse_args(["provision", str(plan), "--data-dir", str(data)])
    assert args.func(args) == 0
    logged = capsys.readouterr().out
    assert "motcua recovery-code" in logged
    assert not re.search(CODE_SHAPE, logged)
    first_escrow = escrow_file(data).read_text()

    args = parser.parse_args(["recovery-code", "--data-dir", str(data)])
    assert args.func(args) == 0
    shown = capsys.readouterr().out
    match = re.search(r"MÃ KHÔI PHỤC DỮ LIỆU: (\S+)", shown)
    assert match and re.fullmatch(CODE_SHAPE, match.group(1)) and "đã gửi lên tỉnh" in shown
    assert escrow_file(data).read_text() != first_escrow  # wrapped afresh
    for log_file in (data / "logs").glob("*"):
        assert match.group(1) not in log_file.read_text(encoding="utf-8", errors="replace")

    shutil.rmtree(data / "secrets")  # a replacement PC: only the province's copy is left
    again, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 3, "Quầy 3")
    code, text = _recover(data, match.group(1), capsys, monkeypatch, "--gateway",
                          gateway.url, "--agency", AGENCY, "--digit", "3",
                          "--enrolment-code", again)
    assert code == 0, text
    open_context(data, f"sqlite:///{data / 'motcua.sqlite3'}").close()


def test_recovery_code_needs_a_configured_station(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    recovery_code_cmd.add_parsers(parser.add_subparsers())
    args = parser.parse_args(["recovery-code", "--data-dir", str(tmp_path / "new")])
    assert args.func(args) == 2
    out, err = capsys.readouterr()
    assert "chưa được cấu hình quầy" in err and "MÃ KHÔI PHỤC" not in out
