"""The first-run wizard: a new station step by step (offline, or with the real gateway
and a one-time enrolment code), a provisioning file, and a new counter joining a
shared database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from desktop_app.accounts import AccountService, Role
from desktop_app.context import AppContext, open_context
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from provincial_gateway import admin_ops
from provincial_gateway.server import GatewayServer
from tests.conftest import TEST_STATION
from tests.support.gateway_fixtures import AGENCY, gateway, gateway_factory  # noqa: F401
from tests.support.shared_file import second_pc
from ui.first_run import (
    P_ACCOUNTS,
    P_CONNECTION,
    P_DONE,
    P_PRINTING,
    P_STATION,
    FirstRunWizard,
)

pytestmark = pytest.mark.gui

PRINTERS = ["Canon LBP2900 (quầy)", "Brother HL-L2321D"]


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    monkeypatch.delenv("MOTCUA_STATION_TOKEN", raising=False)


def _next(qtbot, wizard: FirstRunWizard) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)


def _fill_station(qtbot, wizard: FirstRunWizard, digit: int = 2) -> None:  # type: ignore[no-untyped-def]
    # keyClicks types Latin-1 only: Vietnamese text is set as an input method would.
    qtbot.keyClicks(wizard.agency_code, AGENCY)
    wizard.agency_name.setText("UBND XÃ NÀ PHẶC")
    wizard.parent_name.setText("UBND TỈNH THÁI NGUYÊN")
    wizard.place_name.setText("Nà Phặc")
    wizard.station_digit.setCurrentIndex(wizard.station_digit.findData(digit))


def _fill_accounts(qtbot, wizard: FirstRunWizard) -> None:  # type: ignore[no-untyped-def]
    wizard.tech_name.setText("Lò Văn Kỹ")
    qtbot.keyClicks(wizard.tech_pass, "mat-khau-kt-1")
    qtbot.keyClicks(wizard.tech_pass2, "mat-khau-kt-1")
    qtbot.keyClicks(wizard.clerk_user, "huong")
    wizard.clerk_name.setText("Triệu Thị Hương")
    qtbot.keyClicks(wizard.clerk_pass, "mat-khau-1")
    qtbot.keyClicks(wizard.clerk_pass2, "mat-khau-1")


def test_new_station_with_an_enrolment_code(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                            gateway: GatewayServer) -> None:  # noqa: F811
    code, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2, "Quầy 2")
    wizard = FirstRunWizard(ctx, printers=PRINTERS)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.needs_accounts and wizard.join is None
    _next(qtbot, wizard)
    assert wizard.currentId() == P_STATION

    # A malformed agency code stops on the page with the reason.
    qtbot.keyClicks(wizard.agency_code, "H12")
    _next(qtbot, wizard)
    assert wizard.currentId() == P_STATION and "QCVN 102:2016" in wizard.station_error.text()
    wizard.agency_code.clear()
    _fill_station(qtbot, wizard)
    # The problem goes away as soon as the field is right (nothing else is wrong).
    assert wizard.station_error.text() == ""
    _next(qtbot, wizard)
    assert wizard.currentId() == P_CONNECTION

    qtbot.keyClicks(wizard.gateway_url, gateway.url)
    qtbot.keyClicks(wizard.secret, code.lower())
    # Testing the connection does not spend the single-use code.
    qtbot.mouseClick(wizard.test_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Kết nối được" in wizard.connection_status.text(), timeout=15000)
    assert "chỉ dùng được một lần" in wizard.connection_status.text()
    assert admin_ops.list_stations(gateway.state) == []
    _next(qtbot, wizard)
    assert wizard.currentId() == P_PRINTING

    wizard.printer.setCurrentIndex(wizard.printer.findData(PRINTERS[0]))
    wizard.page_size.setCurrentText("A5")
    wizard.retention.setValue(400)
    _next(qtbot, wizard)
    assert wizard.currentId() == P_ACCOUNTS

    _fill_accounts(qtbot, wizard)
    wizard.clerk_user.setText("kythuat")  # the same username twice
    wizard.clerk_pass2.setText("mat-khau-2")  # and a mistyped repeat
    _next(qtbot, wizard)
    assert wizard.currentId() == P_ACCOUNTS and "khác nhau" in wizard.accounts_error.text()
    assert "Mật khẩu nhập lại của cán bộ tiếp nhận không khớp" in wizard.accounts_error.text()
    wizard.clerk_user.setText("huong")
    assert "khác nhau" not in wizard.accounts_error.text()
    assert "không khớp" in wizard.accounts_error.text()  # still wrong: still said
    wizard.clerk_pass2.setText("mat-khau-1")
    assert wizard.accounts_error.text() == ""
    _next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.currentId() == P_DONE, timeout=20000)
    assert "quầy số 2" in wizard.done_text.text()
    assert "huong" in wizard.done_text.text()
    assert code not in wizard.done_text.text()

    station = StationService(ctx).require()
    assert (station.station_digit, station.receipt_page_size, station.retention_days,
            station.printer, station.gateway_url) == (2, "A5", 400, PRINTERS[0], gateway.url)
    token = SyncService(ctx).tokens().get()
    assert token and admin_ops.list_stations(gateway.state)[0].name == "Quầy 2"
    accounts = AccountService(ctx)
    assert accounts.authenticate("kythuat", "mat-khau-kt-1").role is Role.TECHNICIAN
    assert accounts.authenticate("huong", "mat-khau-1").role is Role.CLERK
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton),
                     Qt.MouseButton.LeftButton)
    assert wizard.result() == QWizard.DialogCode.Accepted


def test_offline_station_and_a_refused_code(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                            gateway: GatewayServer) -> None:  # noqa: F811
    """A wrong enrolment code keeps the wizard on the last page and writes nothing; with
    the connection left empty the station works offline."""
    wizard = FirstRunWizard(ctx, printers=[])
    qtbot.addWidget(wizard)
    wizard.show()
    _next(qtbot, wizard)
    _fill_station(qtbot, wizard, digit=1)
    _next(qtbot, wizard)
    qtbot.keyClicks(wizard.gateway_url, gateway.url)
    qtbot.keyClicks(wizard.secret, "AAAAA-BBBBB-CCCCC")
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _fill_accounts(qtbot, wizard)
    _next(qtbot, wizard)
    qtbot.waitUntil(lambda: "từ chối mã đăng ký" in wizard.accounts_error.text(),
                    timeout=20000)
    assert wizard.currentId() == P_ACCOUNTS
    assert StationService(ctx).get() is None and not AccountService(ctx).has_clerks()

    # Back to the connection page: no province yet.
    for _ in range(2):
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton),
                         Qt.MouseButton.LeftButton)
    assert wizard.currentId() == P_CONNECTION
    wizard.gateway_url.clear()
    wizard.secret.clear()
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.currentId() == P_DONE, timeout=20000)
    assert "Chưa kết nối hệ thống tỉnh" in wizard.done_text.text()
    station = StationService(ctx).require()
    assert station.gateway_url == "" and station.printer == ""


def test_provisioning_file_from_the_wizard(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                           tmp_path: Path) -> None:
    path = tmp_path / "quay-3.json"
    path.write_text(json.dumps({
        "agency_code": AGENCY, "agency_name": "UBND XÃ NÀ PHẶC", "place_name": "Nà Phặc",
        "station_digit": 3, "retention_days": 200,
        "technician": {"username": "kythuat", "full_name": "Lò Văn Kỹ"}},
        ensure_ascii=False), encoding="utf-8")
    wizard = FirstRunWizard(ctx, printers=[])
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_path.setText(str(tmp_path / "khong-co.json"))
    wizard.from_file.setChecked(True)
    _next(qtbot, wizard)
    qtbot.waitUntil(lambda: "Không tìm thấy tệp" in wizard.intro_error.text(), timeout=10000)
    wizard.file_path.setText(str(path))
    _next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.currentId() == P_DONE, timeout=20000)
    text = wizard.done_text.text()
    assert "quầy số 3" in text and "Mật khẩu dùng một lần của “kythuat”" in text
    otp = text.split("Mật khẩu dùng một lần của “kythuat”: ", 1)[1].split(" ", 1)[0]
    assert AccountService(ctx).authenticate("kythuat", otp).role is Role.TECHNICIAN
    assert StationService(ctx).require().retention_days == 200


def test_a_new_counter_joins_a_shared_database(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                               tmp_path: Path) -> None:
    """The second PC on the same database: agency fields read-only, only free digits,
    no account page; its own digit and printer."""
    StationService(ctx).save(TEST_STATION)
    AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1", Role.CLERK)
    other = open_context(second_pc(ctx, tmp_path / "pc2"), db_url=str(ctx.db.url),
                         clock=ctx.clock)
    try:
        assert StationService(other).get() is None
        wizard = FirstRunWizard(other, printers=PRINTERS)
        qtbot.addWidget(wizard)
        wizard.show()
        assert wizard.join is not None and not wizard.needs_accounts
        assert not wizard.from_file.isEnabled()
        _next(qtbot, wizard)
        assert not wizard.agency_code.isEnabled() and wizard.agency_code.text() == AGENCY
        digits = [wizard.station_digit.itemData(i) for i in range(wizard.station_digit.count())]
        assert digits == [2, 3, 4, 5, 6, 7, 8, 9]
        wizard.station_digit.setCurrentIndex(wizard.station_digit.findData(4))
        _next(qtbot, wizard)
        _next(qtbot, wizard)
        wizard.printer.setCurrentIndex(wizard.printer.findData(PRINTERS[1]))
        assert not wizard.retention.isEnabled()
        _next(qtbot, wizard)
        qtbot.waitUntil(lambda: wizard.currentId() == P_DONE, timeout=20000)
        mine = StationService(other).require()
        assert (mine.station_digit, mine.printer) == (4, PRINTERS[1])
        first = StationService(ctx).require()
        assert (first.station_digit, first.printer) == (1, "")
    finally:
        other.close()


def test_plain_http_to_another_machine_stops_on_the_connection_page(  # type: ignore[no-untyped-def]
        qtbot, ctx: AppContext) -> None:
    wizard = FirstRunWizard(ctx, printers=[])
    qtbot.addWidget(wizard)
    wizard.show()
    _next(qtbot, wizard)
    _fill_station(qtbot, wizard, digit=1)
    _next(qtbot, wizard)
    qtbot.keyClicks(wizard.gateway_url, "http://10.0.0.5:8080")
    qtbot.mouseClick(wizard.test_btn, Qt.MouseButton.LeftButton)  # nothing is sent
    assert "phải dùng https://" in wizard.connection_error.text()
    _next(qtbot, wizard)
    assert wizard.currentId() == P_CONNECTION
    assert "phải dùng https://" in wizard.connection_error.text()
    wizard.gateway_url.setText("http://127.0.0.1:8080")  # a training gateway on this PC
    assert "https://" not in wizard.connection_error.text()
    assert StationService(ctx).get() is None
