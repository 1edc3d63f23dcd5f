"""Changing one's password: local accounts here, province accounts at the province; a
one-time password from provisioning must be replaced at the first login."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop_app.accounts import AccountError, AccountService, ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.setup.apply import _technician
from desktop_app.setup.plan import TechnicianSpec
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.service import SyncService
from provincial_gateway import admin_ops, refdata
from provincial_gateway.server import GatewayServer
from tests.support.gateway_fixtures import AGENCY, add_station, gateway, gateway_factory  # noqa: F401
from ui.login import LoginDialog
from ui.password_dialog import ChangePasswordDialog


def test_change_own_password(ctx: AppContext, clerk: ClerkInfo) -> None:
    accounts = AccountService(ctx)
    with pytest.raises(AccountError, match="hiện tại không đúng"):
        accounts.change_password(clerk.id, "sai-mat-khau", "mat-khau-moi-1")
    with pytest.raises(AccountError, match="ít nhất"):
        accounts.change_password(clerk.id, "mat-khau-1", "ngan")
    with pytest.raises(AccountError, match="phải khác"):
        accounts.change_password(clerk.id, "mat-khau-1", "mat-khau-1")
    accounts.change_password(clerk.id, "mat-khau-1", "mat-khau-moi-1")
    assert accounts.authenticate("huong", "mat-khau-moi-1").id == clerk.id
    with pytest.raises(AccountError):
        accounts.authenticate("huong", "mat-khau-1")


def test_province_accounts_change_their_password_at_the_province(
        ctx: AppContext, station: StationInfo, clerk: ClerkInfo,
        gateway: GatewayServer) -> None:  # noqa: F811
    """A pulled account (even one that existed here first) follows the province: its
    password cannot be changed here, where the next pull would undo it."""
    refdata.upsert_clerk(gateway.state, AGENCY, "huong", "Triệu Thị Hương", "clerk",
                         admin_ops.hash_password("mat-khau-tinh-1"))
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    sync = SyncService(ctx)
    sync.set_token(add_station(gateway))
    report = sync.engine().run_once()
    assert report.clerks_updated == 1
    accounts = AccountService(ctx)
    pulled = accounts.authenticate("huong", "mat-khau-tinh-1")
    assert pulled.from_province and pulled.id == clerk.id
    with pytest.raises(AccountError, match="do hệ thống của tỉnh quản lý"):
        accounts.change_password(pulled.id, "mat-khau-tinh-1", "mat-khau-moi-1")


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")


@pytest.mark.gui
def test_one_time_password_must_be_replaced_at_first_login(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                            station: StationInfo) -> None:
    tech, action, otp = _technician(ctx, TechnicianSpec("kythuat", "Lò Văn Kỹ"))
    assert action == "created" and otp
    accounts = AccountService(ctx)
    assert accounts.authenticate("kythuat", otp).must_change_password

    def answer(new: str | None) -> None:
        """Fill the change dialog when it opens (it runs its own event loop)."""
        def step() -> None:
            dialog = next((w for w in QApplication.topLevelWidgets()
                           if isinstance(w, ChangePasswordDialog) and w.isVisible()), None)
            if dialog is None:
                QTimer.singleShot(20, step)
                return
            if new is None:
                dialog.reject()
                return
            dialog.new.setText(new)
            dialog.confirm.setText(new)
            qtbot.keyClick(dialog.confirm, Qt.Key.Key_Return)
        QTimer.singleShot(0, step)

    login = LoginDialog(ctx, station.agency_name)
    qtbot.addWidget(login)
    login.show()
    login.username.setText("kythuat")
    login.password.setText(otp)
    answer(None)  # the technician closes the dialog: not logged in
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    assert login.clerk is None and "Cần đặt mật khẩu mới" in login.error.text()

    login.password.setText(otp)
    answer("mat-khau-kt-rieng")
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    assert login.clerk is not None and not login.clerk.must_change_password
    assert login.clerk.role is Role.TECHNICIAN and login.clerk.id == tech.id
    assert not accounts.authenticate("kythuat", "mat-khau-kt-rieng").must_change_password
