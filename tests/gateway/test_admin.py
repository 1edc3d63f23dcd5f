"""The admin command line and the trainer's admin page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from provincial_gateway import admin_cli
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, auth_headers, sample_document


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = admin_cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_provisions_and_moves_dossiers(gateway: GatewayServer,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data", str(gateway.config.data_dir)]
    code, out, _ = run(capsys, "add-station", *data, "--agency", AGENCY, "--digit", "2",
                       "--name", "Quầy 2")
    assert code == 0 and "chỉ hiển thị một lần" in out
    token = out.strip().splitlines()[-1]
    doc = sample_document(ma_ho_so=f"{AGENCY}-231027-2001")  # station 2's code space
    resp = requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                        headers=auth_headers(token), timeout=5)
    assert resp.json()["result"] == "created"

    code, out, _ = run(capsys, "list", *data)
    assert code == 0 and doc["MaHoSo"] in out and "Đã tiếp nhận" in out
    code, out, _ = run(capsys, "set-status", *data, doc["MaHoSo"], "9", "--note",
                       "Đã ký giấy khai sinh", "--by", "Lò Văn Minh",
                       "--new-appointment", "2023-11-03 09:32")
    assert code == 0 and "Đã xử lý xong" in out
    feed = requests.get(gateway.url + wire.CHANGES, headers=auth_headers(token), timeout=5)
    last = feed.json()["changes"][-1]
    assert (last["TrangThaiHoSo"], last["NoiDungXuLy"], last["NgayHenTraMoi"]) == (
        9, "Đã ký giấy khai sinh", "20231103093200")

    code, _, err = run(capsys, "set-status", *data, doc["MaHoSo"], "11")
    assert code == 1 and "từ 1 đến 10" in err
    code, _, err = run(capsys, "set-status", *data, doc["MaHoSo"], "chín")
    assert code == 1 and "từ 1 đến 10" in err
    code, _, err = run(capsys, "set-status", *data, f"{AGENCY}-231027-9999", "4")
    assert code == 1 and "Không tìm thấy hồ sơ" in err
    code, _, err = run(capsys, "add-station", *data, "--agency", "H12", "--digit", "1")
    assert code == 1 and "QCVN 102:2016" in err
    code, _, err = run(capsys, "add-station", *data, "--agency", AGENCY, "--digit", "0")
    assert code == 1 and "từ 1 đến 9" in err
    code, out, _ = run(capsys, "revoke-station", *data, "--agency", AGENCY, "--digit", "2")
    assert code == 0
    assert requests.get(gateway.url + wire.CHANGES, headers=auth_headers(token),
                        timeout=5).status_code == 401


def test_cli_reference_data(gateway: GatewayServer, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data", str(gateway.config.data_dir)]
    token = gateway.add_station(AGENCY, 1)
    h = auth_headers(token)
    assert run(capsys, "calendar", "add", *data, "2026-04-27", "off", "--note",
               "Nghỉ bù Giỗ Tổ Hùng Vương")[0] == 0
    assert run(capsys, "calendar", "add", *data, "2026-05-09", "work")[0] == 0
    code, _, err = run(capsys, "calendar", "add", *data, "27/04/2026", "off")
    assert code == 1 and "YYYY-MM-DD" in err
    days = requests.get(gateway.url + wire.CALENDAR, headers=h, timeout=5).json()["overrides"]
    assert [(d["day"], d["kind"]) for d in days] == [("2026-04-27", "off"), ("2026-05-09", "work")]
    assert run(capsys, "calendar", "remove", *data, "2026-05-09")[0] == 0
    assert "2026-04-27" in run(capsys, "calendar", "list", *data)[1]

    code, _, err = run(capsys, "add-clerk", *data, "--agency", AGENCY, "--username", "huong",
                       "--full-name", "Triệu Thị Hương", "--password", "1234567")
    assert code == 1 and "ít nhất 8 ký tự" in err
    assert run(capsys, "add-clerk", *data, "--agency", AGENCY, "--username", "huong",
               "--full-name", "Triệu Thị Hương", "--password", "mat-khau-1")[0] == 0
    clerks = requests.get(gateway.url + wire.CLERKS, headers=h, timeout=5).json()["clerks"]
    assert [(c["username"], c["role"]) for c in clerks] == [("huong", "clerk")]

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"catalog_version": "2027.01", "province": "Tỉnh thử",
                                   "procedures": [{"code": "1.000894",
                                                   "name": "Đăng ký kết hôn"}]},
                                  ensure_ascii=False), encoding="utf-8")
    code, out, _ = run(capsys, "import-catalog", *data, str(catalog))
    assert code == 0 and "2027.01" in out
    got = requests.get(gateway.url + wire.CATALOG, headers=h, timeout=5).json()
    assert got["catalog_version"] == "2027.01"
    catalog.write_text('{"procedures": []}', encoding="utf-8")
    code, _, err = run(capsys, "import-catalog", *data, str(catalog))
    assert code == 1 and "catalog_version" in err


def test_admin_page_lists_and_moves_dossiers(gateway: GatewayServer, station_token: str) -> None:
    doc = sample_document(TenTTHC="<script>alert('x')</script> Chứng thực")
    requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                 headers=auth_headers(station_token), timeout=5)
    page = gateway.url + "/admin"
    anonymous = requests.get(page, timeout=5)
    assert anonymous.status_code == 401 and "Mã quản trị" in anonymous.text
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")

    admin = requests.Session()
    admin.auth = ("admin", gateway.admin_token)
    listing = admin.get(page, timeout=5)
    assert listing.status_code == 200
    assert doc["MaHoSo"] in listing.text and "Đã tiếp nhận" in listing.text
    assert "<script>alert" not in listing.text and "&lt;script&gt;" in listing.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', listing.text)
    assert csrf is not None

    forged = admin.post(page + "/status", data={"key": doc["MaHoSo"], "status": "4"},
                        timeout=5, allow_redirects=False)
    assert forged.status_code == 403
    moved = admin.post(page + "/status", timeout=5, data={
        "csrf": csrf.group(1), "key": doc["MaHoSo"], "status": "4",
        "note": "Chuyển phòng Tư pháp", "by": "Cán bộ tỉnh"})
    assert moved.status_code == 200 and "Đang xử lý" in moved.text
    feed = requests.get(gateway.url + wire.CHANGES, headers=auth_headers(station_token),
                        timeout=5).json()
    assert feed["changes"][-1]["TrangThaiHoSo"] == 4

    browser = requests.Session()
    assert browser.post(page + "/login", data={"token": "sai"}, timeout=5).status_code == 401
    logged = browser.post(page + "/login", data={"token": gateway.admin_token}, timeout=5)
    assert logged.status_code == 200 and doc["MaHoSo"] in logged.text
    wrong = browser.post(page + "/status", timeout=5, data={
        "csrf": csrf.group(1), "key": doc["MaHoSo"], "status": "12"})
    assert "từ 1 đến 10" in wrong.text
