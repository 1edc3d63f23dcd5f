"""`motcua provision`: every problem of a file at once, nothing written for an invalid
file, everything applied for a valid one (offline, and against the real gateway over
loopback HTTP), secrets never printed or logged."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from desktop_app.accounts import AccountService, Role
from desktop_app.commands import provision_cmd
from desktop_app.context import open_context
from desktop_app.digitization import DigitizationService
from desktop_app.paths import DB_URL_FILE
from desktop_app.setup.apply import CA_FILE
from desktop_app.setup.legacy import EXTRA_FILE
from desktop_app.setup.plan import KNOWN_KEYS, ProvisioningInvalid
from desktop_app.setup.plan_file import read_plan
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from local_db.models import AuditEntry
from provincial_gateway import admin_ops
from provincial_gateway.server import GatewayServer, free_port
from sync_contract import wire
from tests.gateway.test_tls import make_pki
from tests.support.gateway_fixtures import (  # noqa: F401
    AGENCY,
    add_station,
    auth_headers,
    gateway,
    gateway_factory,
    station_token,
)

TOKEN = "tk-" + "Zq8Lm2Vx" * 5  # long enough; searched for in every output

BASE: dict[str, Any] = {
    "agency_code": AGENCY,
    "agency_name": "UBND XÃ NÀ PHẶC",
    "parent_name": "UBND TỈNH THÁI NGUYÊN",
    "place_name": "Nà Phặc",
    "station_digit": 2,
}


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token goes to the 0600 file here; a developer's keyring stays untouched."""
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    for name in ("MOTCUA_STATION_TOKEN", "MOTCUA_DB_URL", "MOTCUA_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "provision.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else
                    json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def provision(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(file: Path, data_dir: Path, *flags: str) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser()
        provision_cmd.add_parsers(parser.add_subparsers())
        args = parser.parse_args(["provision", str(file), "--data-dir", str(data_dir),
                                  *flags])
        code = args.func(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_the_example_file_uses_only_known_keys() -> None:
    example = Path(__file__).resolve().parent.parent / "packaging" / "provision.example.json"
    with pytest.raises(ProvisioningInvalid) as err:
        read_plan(example, check_printer=False)
    # Only what cannot exist on a test machine: the CA file next to it, and (off Windows)
    # the Windows hot folder path.
    expected = {"ca_bundle"} | ({"hot_folders"} if os.name != "nt" else set())
    assert {p.key for p in err.value.problems} == expected
    raw = json.loads(example.read_text(encoding="utf-8"))
    assert {k for k in raw if not k.startswith("_")} <= set(KNOWN_KEYS)


def test_every_problem_is_reported_at_once_and_nothing_is_written(
        tmp_path: Path, provision: Run) -> None:
    bad = {
        "agency_code": "H12-000", "agency_name": "UBND XÃ NÀ PHẶC", "place_name": "Nà Phặc",
        "station_digit": 12, "gateway_url": "ftp://motcua.tinh.gov.vn",
        "ca_bundle": "khong-co.pem", "agency_nmae": "x", "staton_token": TOKEN,
        "retention_days": 5, "receipt_page_size": "A3",
        "scan_profiles": [{"name": "A0 Map", "label_vi": "", "mode": "rainbow", "dpii": 300}],
        "technician": {"username": "kỹ thuật", "password": "123456"},
    }
    data_dir = tmp_path / "data"
    code, out, err = provision(write(tmp_path, bad), data_dir)
    assert code == 2 and out == ""
    for needle in ("agency_code: mã cơ quan “H12-000” không đúng định dạng QCVN 102:2016",
                   "station_digit: phải từ 1 đến 9 (đang là 12)",
                   "gateway_url: địa chỉ phải bắt đầu bằng https://",
                   "ca_bundle: không tìm thấy tệp chứng chỉ",
                   "agency_nmae: khóa không được hỗ trợ. Có phải ý bạn là “agency_name”?",
                   "staton_token: khóa không được hỗ trợ. Có phải ý bạn là “station_token”?",
                   "retention_days: phải từ 30 đến 3650",
                   "receipt_page_size: khổ giấy biên nhận phải là A4 hoặc A5",
                   "scan_profiles[1].name:", "scan_profiles[1].label_vi:",
                   "scan_profiles[1].mode:",
                   "scan_profiles[1].dpii: khóa không được hỗ trợ. Có phải ý bạn là “dpi”?",
                   "technician.username:", "technician.password:",
                   "Chưa thay đổi gì trên máy này."):
        assert needle in err, needle
    assert "Tệp cấu hình có 14 lỗi" in err
    assert TOKEN not in err
    assert not data_dir.exists()


def test_plain_http_to_another_machine_is_refused(tmp_path: Path, provision: Run) -> None:
    code, _, err = provision(write(tmp_path, {**BASE, "gateway_url": "http://10.0.0.5:8080"}),
                             tmp_path / "data")
    assert code == 2 and "phải dùng https://" in err


def test_syntax_errors_point_at_the_line(tmp_path: Path, provision: Run) -> None:
    code, _, err = provision(write(tmp_path, '{\n  "agency_code": "000.00.12.H12",\n'
                                             '  "station_digit": 2,,\n}'), tmp_path / "d")
    assert code == 2 and "sai cú pháp ở dòng 3" in err
    code, _, err = provision(write(tmp_path, "agency_code = [", "p.toml"), tmp_path / "d")
    assert code == 2 and "Tệp TOML sai cú pháp" in err


def test_toml_and_dry_run_write_nothing(tmp_path: Path, provision: Run) -> None:
    toml = "\n".join(f'{k} = {json.dumps(v, ensure_ascii=False)}' for k, v in BASE.items())
    toml += '\nretention_days = 400\n[[scan_profiles]]\nname = "a3-so-do"\n' \
            'label_vi = "Sơ đồ A3"\npage_size = "A3"\n'
    data_dir = tmp_path / "data"
    code, out, _ = provision(write(tmp_path, toml, "quay2.toml"), data_dir, "--dry-run",
                             "--json")
    assert code == 0
    result = json.loads(out)
    assert result["ok"] and result["dry_run"]
    assert result["plan"]["retention_days"] == 400
    assert result["plan"]["scan_profiles"] == ["a3-so-do"]
    assert not data_dir.exists()


def test_offline_provisioning_applies_everything_and_never_shows_the_token(
        tmp_path: Path, provision: Run, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ca, _, _ = make_pki(tmp_path)
    pem = ca.read_text()
    data = {**BASE, "gateway_url": f"http://127.0.0.1:{free_port()}/",  # nothing listens
            "ca_bundle": pem, "station_token": TOKEN, "printer": "Máy in không có",
            "retention_days": 400, "unsynced_warn_days": 5, "upload_limit_mb": 20,
            "hot_folders": [str(tmp_path)], "receipt_page_size": "A5",
            "technician": {"username": "kythuat", "full_name": "Lò Văn Kỹ"},
            "scan_profiles": [{"name": "a0-ban-do", "label_vi": "Bản đồ A0 màu",
                               "dpi": 300, "mode": "colour", "page_size": "A0",
                               "deskew": False, "locked": False}]}
    data_dir = tmp_path / "data"
    file = write(tmp_path, data)
    code, out, err = provision(file, data_dir)
    assert code == 0, err
    assert "CẢNH BÁO: Không kết nối được hệ thống một cửa của tỉnh" in out
    assert "Máy in “Máy in không có” chưa có trên máy này" in out
    assert "Hồ sơ quét (đã khóa): a0-ban-do" in out
    otp_line = next(line for line in out.splitlines() if "Mật khẩu dùng một lần" in line)
    otp = otp_line.rsplit(" ", 1)[1]
    assert len(otp) == 14 and otp.count("-") == 2
    assert TOKEN not in out + err
    assert not any(TOKEN in r.getMessage() for r in caplog.records)

    ctx = open_context(data_dir)
    try:
        station = StationService(ctx).require()
        assert (station.agency_code, station.station_digit) == (AGENCY, 2)
        assert station.gateway_url.startswith("http://127.0.0.1:")
        assert station.receipt_page_size == "A5" and station.upload_limit_mb == 20
        assert station.unsynced_warn_days == 5 and station.hot_folders == (str(tmp_path),)
        assert station.ca_bundle == str(data_dir / CA_FILE)
        assert Path(station.ca_bundle).read_text() == pem
        assert SyncService(ctx).tokens().get() == TOKEN
        token_file = data_dir / "secrets" / f"{AGENCY}-2.token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        profile = DigitizationService(ctx).profile("a0-ban-do")
        assert profile.locked and not profile.deskew and profile.page_size == "A0"
        tech = AccountService(ctx).authenticate("kythuat", otp)
        assert tech.role is Role.TECHNICIAN and tech.full_name == "Lò Văn Kỹ"
        assert (station.retention_days, station.printer) == (400, "Máy in không có")
        assert not (data_dir / EXTRA_FILE).exists()
        with ctx.db.read() as s:
            audits = [(a.action, json.dumps(a.detail, ensure_ascii=False))
                      for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert "station_provisioned" in [a for a, _ in audits]
        assert not any(TOKEN in detail or otp in detail for _, detail in audits)
    finally:
        ctx.close()

    # The same file again: same result, the technician keeps the password.
    code, out, _ = provision(file, data_dir)
    assert code == 0 and "đã có, giữ nguyên mật khẩu" in out
    assert "Mật khẩu dùng một lần" not in out
    ctx = open_context(data_dir)
    try:
        assert AccountService(ctx).authenticate("kythuat", otp).role is Role.TECHNICIAN
    finally:
        ctx.close()


def test_against_the_real_gateway(tmp_path: Path, provision: Run, gateway: GatewayServer,  # noqa: F811
                                  station_token: str) -> None:  # noqa: F811
    data = {**BASE, "station_digit": 1, "gateway_url": gateway.url,
            "station_token": station_token}
    code, out, _ = provision(write(tmp_path, data), tmp_path / "data", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["gateway"]["reachable"] and result["gateway"]["token_accepted"]
    assert abs(result["gateway"]["clock_skew_s"]) < 60
    assert result["applied"]["token_stored"].endswith(".token")
    # The gateway said whose token it is: quầy 1 of this agency, as the file says.
    assert result["gateway"]["identity_checked"]
    assert not any("không cho biết mã xác thực thuộc quầy nào" in n for n in result["notes"])
    assert station_token not in out

    # A revoked or mistyped token is an error while the gateway can say so.
    wrong = {**data, "station_token": "sai-" + station_token[4:]}
    code, _, err = provision(write(tmp_path, wrong, "sai.json"), tmp_path / "data2")
    assert code == 2 and "không chấp nhận mã xác thực" in err
    assert not (tmp_path / "data2").exists()


def test_station_identity_from_the_gateway_catches_a_duplicate_digit(
        tmp_path: Path, provision: Run, gateway: GatewayServer) -> None:  # noqa: F811
    """GET /api/v1/station says whose token it is: a token issued for another station
    digit is refused (two PCs with one digit would issue the same dossier codes)."""
    token_1 = add_station(gateway, digit=1)
    data = {**BASE, "station_digit": 2, "gateway_url": gateway.url, "station_token": token_1}
    code, _, err = provision(write(tmp_path, data), tmp_path / "data")
    assert code == 2
    assert f"tỉnh cấp cho quầy 1 của cơ quan {AGENCY}, không phải quầy 2" in err
    code, out, _ = provision(write(tmp_path, {**data, "station_digit": 1}), tmp_path / "data",
                             "--json")
    assert code == 0 and json.loads(out)["gateway"]["identity_checked"]


def test_enrolment_code_is_exchanged_for_a_token_once(tmp_path: Path, provision: Run,
                                                      gateway: GatewayServer) -> None:  # noqa: F811
    """A technician carries a one-time code instead of the token: provisioning exchanges
    it, stores the token, and the code cannot be used again."""
    code_text, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2, "Quầy 2")
    data = {**BASE, "gateway_url": gateway.url, "enrolment_code": code_text.lower()}
    # A dry run does not spend the single-use code.
    code, out, _ = provision(write(tmp_path, data), tmp_path / "data", "--dry-run", "--json")
    assert code == 0 and any("chỉ dùng được một lần" in n for n in json.loads(out)["notes"])
    assert admin_ops.list_stations(gateway.state) == []
    code, out, _ = provision(write(tmp_path, data), tmp_path / "data", "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["gateway"]["token_accepted"] and result["gateway"]["identity_checked"]
    token_file = Path(result["applied"]["token_stored"])
    token = token_file.read_text(encoding="utf-8").strip()
    assert len(token) >= 32 and token not in out and code_text not in out
    rows = [r for r in admin_ops.list_stations(gateway.state) if r.station_digit == 2]
    assert [(r.agency_code, r.name, r.active) for r in rows] == [(AGENCY, "Quầy 2", True)]
    # The token works for syncing.
    resp = requests.get(gateway.url + wire.STATION, headers=auth_headers(token), timeout=10)
    assert resp.json() == {"agency_code": AGENCY, "station_digit": 2, "name": "Quầy 2"}

    # The same code a second time (another PC copying the file) is refused.
    code, _, err = provision(write(tmp_path, data, "again.json"), tmp_path / "data2")
    assert code == 2 and "từ chối mã đăng ký" in err
    assert not (tmp_path / "data2").exists()


def test_enrolment_code_for_another_digit_or_expired_is_refused(
        tmp_path: Path, provision: Run, gateway: GatewayServer) -> None:  # noqa: F811
    from datetime import timedelta

    from provincial_gateway.db import utcnow

    for_digit_3, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 3)
    data = {**BASE, "gateway_url": gateway.url, "enrolment_code": for_digit_3}
    code, _, err = provision(write(tmp_path, data), tmp_path / "data")
    assert code == 2 and "từ chối mã đăng ký" in err
    expired, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2,
                                                now=utcnow() - timedelta(days=8))
    code, _, err = provision(write(tmp_path, {**data, "enrolment_code": expired}),
                             tmp_path / "data")
    assert code == 2 and "từ chối mã đăng ký" in err
    assert admin_ops.list_stations(gateway.state) == []


def test_enrolment_code_needs_gateway_support(tmp_path: Path, provision: Run) -> None:
    """A gateway older than the enrolment endpoint (it answers 404 there): a warning,
    nothing stored, the rest of the file applied."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from provincial_gateway.timeutil import iso_now

    class OldGateway(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if self.path == wire.HEALTH:
                status, body = 200, {"status": "ok", "api_version": 1, "server_time": iso_now()}
            else:
                status, body = 404, {"code": "not_found", "message": "Không có."}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), OldGateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        data = {**BASE, "gateway_url": f"http://127.0.0.1:{server.server_port}",
                "enrolment_code": "123-456-789"}
        code, out, _ = provision(write(tmp_path, data), tmp_path / "data", "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0
    result = json.loads(out)
    assert any("chưa hỗ trợ mã đăng ký" in w for w in result["warnings"])
    assert result["applied"]["token_stored"] == ""
    assert "123-456-789" not in out


def test_reprovisioning_another_digit_on_a_station_db_warns(tmp_path: Path,
                                                            provision: Run) -> None:
    data_dir = tmp_path / "data"
    assert provision(write(tmp_path, BASE), data_dir)[0] == 0
    code, out, _ = provision(write(tmp_path, {**BASE, "station_digit": 3}), data_dir)
    assert code == 0
    assert f"Máy này trước đây là quầy 2 của cơ quan {AGENCY}" in out
    # A technician account may not take over a clerk's username.
    ctx = open_context(data_dir)
    try:
        AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1", Role.CLERK)
    finally:
        ctx.close()
    data = {**BASE, "technician": {"username": "huong", "full_name": "Kỹ thuật viên"}}
    code, _, err = provision(write(tmp_path, data), data_dir)
    assert code == 2 and "đã là tài khoản của một cán bộ" in err


def test_counters_sharing_postgresql_each_keep_their_own_digit(
        tmp_path: Path, provision: Run, pg_url: str) -> None:
    """Several PCs on one LAN database: each gets its own digit and its own copy of the
    provincial CA; a digit another PC holds is refused."""
    ca, _, _ = make_pki(tmp_path)
    first = {**BASE, "station_digit": 1, "db_url": pg_url, "ca_bundle": str(ca),
             "gateway_url": "https://motcua.example.gov.vn"}
    code, _, err = provision(write(tmp_path, first, "q1.json"), tmp_path / "pc1")
    assert code == 0, err
    url_file = tmp_path / "pc1" / DB_URL_FILE
    assert url_file.read_text().strip() == pg_url
    assert stat.S_IMODE(url_file.stat().st_mode) == 0o600
    same_digit = write(tmp_path, first, "q1b.json")
    code, _, err = provision(same_digit, tmp_path / "pc2")
    assert code == 2 and "quầy 1 đã được máy" in err
    # A PC whose data directory is already there is checked against the shared database
    # before anything is written: the refusal names the PC that holds the digit.
    (tmp_path / "pc3").mkdir()
    code, _, err = provision(same_digit, tmp_path / "pc3")
    host = socket.gethostname()
    assert code == 2 and f"station_digit: số hiệu quầy 1 đã được máy “{host}”" in err
    second = write(tmp_path, {**first, "station_digit": 2}, "q2.json")
    code, _, err = provision(second, tmp_path / "pc2")
    assert code == 0, err
    code, _, err = provision(second, tmp_path / "pc2")  # again: idempotent
    assert code == 0, err
    for pc in ("pc1", "pc2"):
        ctx = open_context(tmp_path / pc)
        try:
            assert StationService(ctx).require().ca_bundle == str(tmp_path / pc / CA_FILE)
        finally:
            ctx.close()


def test_unreachable_shared_database_is_an_error(tmp_path: Path, provision: Run) -> None:
    data = {**BASE, "db_url": f"postgresql+psycopg://motcua:bi-mat@127.0.0.1:{free_port()}/m"}
    code, _, err = provision(write(tmp_path, data), tmp_path / "data")
    assert code == 2 and "không kết nối được máy chủ CSDL" in err
    assert "bi-mat" not in err


def test_scanner_prefix_and_suffix_are_applied_and_bad_ones_named(
        tmp_path: Path, provision: Run) -> None:
    # JSON writes STX/ETX as \u0002/\u0003, as a scanner's manual names them.
    data = {**BASE, "scanner_prefix": "\u0002]Q1", "scanner_suffix": "\u0003"}
    data_dir = tmp_path / "data"
    code, out, err = provision(write(tmp_path, data), data_dir)
    assert code == 0, err
    assert "Máy quét mã QR: tiền tố \\x02]Q1, hậu tố \\x03" in out
    ctx = open_context(data_dir)
    try:
        station = StationService(ctx).require()
        assert (station.scanner_prefix, station.scanner_suffix) == ("\x02]Q1", "\x03")
    finally:
        ctx.close()

    bad = {**BASE, "scanner_prefix": "Q1", "scanner_suffix": "|", "scanner_sufix": "~"}
    code, _, err = provision(write(tmp_path, bad, "bad.json"), tmp_path / "other")
    assert code == 2
    assert "scanner_prefix: Tiền tố của máy quét không được bắt đầu bằng chữ" in err
    assert "scanner_suffix: Hậu tố của máy quét không được chứa chữ, chữ số hay" in err
    assert "scanner_sufix: khóa không được hỗ trợ. Có phải ý bạn là “scanner_suffix”?" in err
    code, _, err = provision(write(tmp_path, {**BASE, "scanner_suffix": 3}, "n.json"),
                             tmp_path / "other")
    assert code == 2 and "scanner_suffix: phải là chuỗi ký tự (đang là số 3)" in err


def test_signers_are_applied_and_bad_ones_named(tmp_path: Path, provision: Run) -> None:
    from desktop_app.signers import SignedKind, SignerService

    data = {**BASE, "signers": {
        "04": {"authority": "TM. Ủy ban nhân dân", "delegation": "KT. Chủ tịch",
               "title": "Phó Chủ tịch", "name": "Hoàng Văn Thụ"}}}
    data_dir = tmp_path / "data"
    code, out, err = provision(write(tmp_path, data), data_dir)
    assert code == 0, err
    assert "Người ký thay mặt cơ quan: Mẫu 04" in out
    ctx = open_context(data_dir)
    try:
        signers = SignerService(ctx, BASE["agency_code"])
        assert signers.get(SignedKind.APOLOGY).block.title_lines() == [
            "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
        assert signers.missing() == [SignedKind.STOP_NOTICE]
    finally:
        ctx.close()

    bad = {**BASE, "signers": {"06": {"title": "CHỦ TỊCH", "name": "A"},
                               "05": {"title": "CHỦ TỊCH", "nam": "A"},
                               "04": {"authority": "TM. UBND", "title": "", "name": "B"}}}
    code, _, err = provision(write(tmp_path, bad, "bad.json"), tmp_path / "other")
    assert code == 2
    assert 'signers.06: không có mẫu này; chỉ có "04", "05".' in err
    assert "signers.05.nam: khóa không được hỗ trợ. Có phải ý bạn là “name”?" in err
    assert "signers.04: Vui lòng ghi chức vụ người ký" in err


def _tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def test_a_refused_provisioning_leaves_the_data_directory_as_it_was(
        tmp_path: Path, provision: Run, pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """The shared database refuses the digit (another PC holds it) only once the data
    directory is being made: what was made goes, what was there stays."""
    first = {**BASE, "station_digit": 1, "db_url": pg_url}
    code, _, err = provision(write(tmp_path, first, "q1.json"), tmp_path / "pc1")
    assert code == 0, err
    same_digit = write(tmp_path, first, "q1b.json")

    fresh = tmp_path / "new" / "pc2"  # neither it nor its parent exists
    with caplog.at_level(logging.INFO):
        code, _, err = provision(same_digit, fresh)
    assert code == 2 and "quầy 1 đã được máy" in err
    assert not (tmp_path / "new").exists()
    assert "provision failed: station digit 1 taken" in caplog.text  # the log's English
    assert "ERROR" not in err and "Traceback" not in err

    kept = tmp_path / "pc3"
    (kept / "scan-work").mkdir(parents=True)
    (kept / "scan-work" / "page-0001.jpg").write_bytes(b"\xff\xd8 a page in progress")
    (kept / "ghi-chu.txt").write_text("của kỹ thuật viên", encoding="utf-8")
    before = _tree(kept)
    code, _, err = provision(same_digit, kept)
    assert code == 2 and "quầy 1 đã được máy" in err
    assert _tree(kept) == before
