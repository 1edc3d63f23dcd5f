"""Password hashes (argon2id; scrypt ones upgraded at the next login), the 8-character
minimum, changing one's password: local accounts here, province accounts at the province;
a one-time password from provisioning must be replaced at the first login."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from desktop_app import passwords
from desktop_app.accounts import AccountError, AccountService, ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.passwords import hash_password, needs_rehash, scrypt_hash, verify_password
from desktop_app.setup.apply import _technician
from desktop_app.setup.plan import TechnicianSpec
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.service import SyncService
from local_db.models import AuditEntry, Clerk
from provincial_gateway import admin_ops, refdata
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, add_station, gateway, gateway_factory  # noqa: F401
from ui.login import LoginDialog
from ui.password_dialog import ChangePasswordDialog


def test_argon2id_at_the_real_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one test without the suite's cheap setting: what a counter PC writes."""
    cheap = hash_password("mat-khau-1")
    monkeypatch.delenv(passwords.CHEAP_FOR_TESTS_ENV)
    stored = hash_password("mat-khau-1")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password("mat-khau-1", stored)
    assert not verify_password("mat-khau-2", stored)
    assert not needs_rehash(stored)
    assert needs_rehash(cheap) and verify_password("mat-khau-1", cheap)
    assert needs_rehash(scrypt_hash("mat-khau-1"))
    for broken in ("", "$argon2id$v=19$m=65536,t=3,p=4$xx", "scrypt$1$2", "plain"):
        assert not verify_password("mat-khau-1", broken)


def test_a_scrypt_hash_logs_in_and_becomes_argon2id(ctx: AppContext, clerk: ClerkInfo) -> None:
    with ctx.db.write() as s:
        row = s.get(Clerk, clerk.id)
        assert row is not None
        row.password_hash = scrypt_hash("mat-khau-1")
    accounts = AccountService(ctx)
    with pytest.raises(AccountError):
        accounts.authenticate("huong", "mat-khau-2")
    with ctx.db.read() as s:
        assert s.get(Clerk, clerk.id).password_hash.startswith("scrypt$")  # type: ignore[union-attr]
    accounts.authenticate("huong", "mat-khau-1")
    with ctx.db.read() as s:
        stored = s.get(Clerk, clerk.id).password_hash  # type: ignore[union-attr]
        logins = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "login")).all()
    assert stored.startswith("$argon2id$") and verify_password("mat-khau-1", stored)
    assert logins == [{"rehashed": True}]
    accounts.authenticate("huong", "mat-khau-1")
    with ctx.db.read() as s:
        assert s.get(Clerk, clerk.id).password_hash == stored  # type: ignore[union-attr]


def test_new_passwords_have_at_least_8_characters(ctx: AppContext, clerk: ClerkInfo) -> None:
    accounts = AccountService(ctx)
    with pytest.raises(AccountError, match="Mật khẩu phải có ít nhất 8 ký tự"):
        accounts.create_clerk("lan", "Lò Thị Lan", "1234567", Role.CLERK)
    with pytest.raises(AccountError, match="Mật khẩu mới phải có ít nhất 8 ký tự"):
        accounts.change_password(clerk.id, "mat-khau-1", "1234567")
    assert accounts.create_clerk("lan", "Lò Thị Lan", "12345678", Role.CLERK).username == "lan"


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
    with ctx.db.read() as s:  # the province's argon2id hash, as it sent it
        assert s.get(Clerk, clerk.id).password_hash.startswith(  # type: ignore[union-attr]
            "$argon2id$v=19$m=65536,t=3,p=4$")
    with pytest.raises(AccountError, match="do hệ thống của tỉnh quản lý"):
        accounts.change_password(pulled.id, "mat-khau-tinh-1", "mat-khau-moi-1")


def test_the_province_sends_only_its_own_agency_what_login_needs(
        ctx: AppContext, station: StationInfo, clerk: ClerkInfo,
        gateway: GatewayServer) -> None:  # noqa: F811
    """Another agency is refused; an inactive account comes without its hash, and the
    station disables it and drops the hash it had; a scrypt hash from the province still
    logs in and is left as the province sent it."""
    refdata.upsert_clerk(gateway.state, AGENCY, "huong", "Triệu Thị Hương", "clerk",
                         scrypt_hash("mat-khau-tinh-1"))
    refdata.upsert_clerk(gateway.state, AGENCY, "lan", "Lò Thị Lan", "clerk",
                         admin_ops.hash_password("mat-khau-lan-1"))
    token = add_station(gateway)
    headers = {"Authorization": f"Bearer {token}"}
    other = requests.get(gateway.url + wire.CLERKS, params={"agency": "000.00.13.H12"},
                         headers=headers, timeout=5)
    assert other.status_code == 403 and other.json()["code"] == wire.E_AGENCY
    own = requests.get(gateway.url + wire.CLERKS, params={"agency": AGENCY.lower()},
                       headers=headers, timeout=5)
    assert own.status_code == 200
    assert set(own.json()["clerks"][0]) == {"username", "full_name", "role",
                                            "password_hash", "active"}

    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    sync = SyncService(ctx)
    sync.set_token(token)
    assert sync.engine().run_once().clerks_updated == 2
    accounts = AccountService(ctx)
    assert accounts.authenticate("lan", "mat-khau-lan-1").from_province
    assert accounts.authenticate("huong", "mat-khau-tinh-1").from_province
    with ctx.db.read() as s:  # the pull would undo a rehash here
        assert s.get(Clerk, clerk.id).password_hash.startswith("scrypt$")  # type: ignore[union-attr]

    refdata.upsert_clerk(gateway.state, AGENCY, "lan", "Lò Thị Lan", "clerk",
                         admin_ops.hash_password("mat-khau-lan-1"), active=False)
    body = requests.get(gateway.url + wire.CLERKS, headers=headers, timeout=5).json()
    assert [(c["username"], c["password_hash"]) for c in body["clerks"]
            if not c["active"]] == [("lan", "")]
    assert sync.engine().run_once().clerks_updated == 1
    with ctx.db.read() as s:
        lan = s.scalar(select(Clerk).where(Clerk.username == "lan"))
        assert lan is not None and (lan.active, lan.password_hash) == (False, "")
    with pytest.raises(AccountError):
        accounts.authenticate("lan", "mat-khau-lan-1")


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
