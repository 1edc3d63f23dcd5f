"""Wrong passwords at the login: free up to 4, then a wait that doubles, a lock at the
10th that a supervisor or technician lifts; counted in the database (every counter sharing
it sees the same count), each failure, lock and unlock in the audit trail, never the
password or the name typed for an unknown account."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from desktop_app.accounts import AccountError, AccountService, ClerkInfo, LoginRefused, Role
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.station import StationInfo
from local_db.engine import Database
from local_db.models import AuditEntry, Clerk
from tests.conftest import RECEIVED_AT
from ui.login import LoginDialog
from ui.unlock_dialog import UnlockDialog

WRONG = "sai-mat-khau-123"


def _audit(ctx: AppContext, *actions: str) -> list[AuditEntry]:
    with ctx.db.read() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.in_(actions))
                         .order_by(AuditEntry.id)).all()
        s.expunge_all()
        return list(rows)


def _row(ctx: AppContext, clerk_id: int) -> Clerk:
    with ctx.db.read() as s:
        row = s.get(Clerk, clerk_id)
        assert row is not None
        s.expunge(row)
        return row


def _fail(accounts: AccountService, times: int) -> AccountError:
    error: AccountError | None = None
    for _ in range(times):
        with pytest.raises(AccountError) as caught:
            accounts.authenticate("huong", WRONG)
        error = caught.value
    assert error is not None
    return error


def test_waits_double_from_the_fifth_failure_then_the_account_locks(
        ctx: AppContext, clock: FixedClock, clerk: ClerkInfo,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    accounts = AccountService(ctx)
    for n in range(1, 5):
        error = _fail(accounts, 1)
        assert not isinstance(error, LoginRefused), n
        assert error.message_vi.startswith("Sai tên đăng nhập hoặc mật khẩu.")
    assert "Nhập sai thêm 1 lần nữa" in error.message_vi

    fifth = _fail(accounts, 1)
    assert isinstance(fifth, LoginRefused) and not fifth.locked
    assert fifth.until == RECEIVED_AT + timedelta(seconds=30)
    assert fifth.message_vi == ("Đã nhập sai mật khẩu 5 lần liên tiếp. Vui lòng thử lại sau "
                                "09:32:30 (còn 30 giây).")

    # While it waits even the right password is refused, unchecked and uncounted.
    clock.set(RECEIVED_AT + timedelta(seconds=12))
    with pytest.raises(LoginRefused, match=r"thử lại sau 09:32:30 \(còn 18 giây\)"):
        accounts.authenticate("huong", "mat-khau-1")
    assert _row(ctx, clerk.id).failed_logins == 5

    waits = []
    for _ in range(6, 10):  # 1, 2, 4, 8 minutes
        clock.set(clock.current + timedelta(hours=1))
        refused = _fail(accounts, 1)
        assert isinstance(refused, LoginRefused) and refused.until is not None
        waits.append(refused.until - clock.current)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert "còn 8 phút" in refused.message_vi

    clock.set(clock.current + timedelta(hours=1))
    locked = _fail(accounts, 1)
    assert isinstance(locked, LoginRefused) and locked.locked
    assert "đã bị khóa sau 10 lần" in locked.message_vi
    assert "lãnh đạo hoặc kỹ thuật viên mở khóa" in locked.message_vi
    clock.set(clock.current + timedelta(days=30))  # a lock does not wear off
    with pytest.raises(LoginRefused, match="đã bị khóa"):
        accounts.authenticate("huong", "mat-khau-1")

    row = _row(ctx, clerk.id)
    assert row.failed_logins == 10 and row.locked_at is not None
    failed = _audit(ctx, "login_failed")
    assert [a.detail["failures"] for a in failed] == list(range(1, 11))
    assert all(a.entity_id == str(clerk.id) for a in failed)
    assert [a.detail for a in _audit(ctx, "login_locked")] == [{"failures": 10}]
    logged = caplog.text + repr([a.detail for a in _audit(ctx, "login_failed",
                                                          "login_locked")])
    assert WRONG not in logged and "mat-khau-1" not in logged


def test_a_burst_of_enters_cannot_lock_the_account(ctx: AppContext, clerk: ClerkInfo) -> None:
    """A scanner's Enter or a held key repeating a wrong password: the attempts after the
    fifth are refused while the account waits and are not counted."""
    accounts = AccountService(ctx)
    _fail(accounts, 40)
    row = _row(ctx, clerk.id)
    assert row.failed_logins == 5 and row.locked_at is None
    assert len(_audit(ctx, "login_failed")) == 5


def test_a_good_login_resets_the_count(ctx: AppContext, clock: FixedClock,
                                       clerk: ClerkInfo) -> None:
    accounts = AccountService(ctx)
    _fail(accounts, 4)
    assert accounts.authenticate("huong", "mat-khau-1").id == clerk.id
    assert _row(ctx, clerk.id).failed_logins == 0
    error = _fail(accounts, 4)
    assert not isinstance(error, LoginRefused)


def test_counters_sharing_the_database_share_the_count(ctx: AppContext, clock: FixedClock,
                                                       clerk: ClerkInfo) -> None:
    other_db = Database(str(ctx.db.url.render_as_string(hide_password=False)),
                        sqlite_key=ctx.db.sqlite_key)
    other = replace(ctx, db=other_db)
    try:
        _fail(AccountService(ctx), 3)
        _fail(AccountService(other), 1)
        refused = _fail(AccountService(ctx), 1)
        assert isinstance(refused, LoginRefused)
        with pytest.raises(LoginRefused):
            AccountService(other).authenticate("huong", "mat-khau-1")
    finally:
        other_db.dispose()


def test_a_supervisor_or_technician_unlocks(ctx: AppContext, clock: FixedClock,
                                            clerk: ClerkInfo) -> None:
    accounts = AccountService(ctx)
    tech = accounts.create_clerk("kythuat", "Lò Văn Kỹ", "mat-khau-kt-1", Role.TECHNICIAN)
    accounts.create_clerk("lan", "Lò Thị Lan", "mat-khau-lan-1", Role.CLERK)
    for _ in range(10):
        _fail(accounts, 1)
        clock.set(clock.current + timedelta(hours=1))
    with pytest.raises(AccountError, match="Chỉ lãnh đạo hoặc kỹ thuật viên"):
        accounts.unlock("huong", "lan", "mat-khau-lan-1")
    with pytest.raises(AccountError, match="Sai tên đăng nhập"):
        accounts.unlock("huong", "kythuat", WRONG)
    assert _row(ctx, tech.id).failed_logins == 1  # the technician's own try counts

    assert accounts.unlock("HUONG ", "kythuat", "mat-khau-kt-1").id == clerk.id
    assert _row(ctx, tech.id).failed_logins == 0
    row = _row(ctx, clerk.id)
    assert (row.failed_logins, row.locked_at, row.login_blocked_until) == (0, None, None)
    [unlocked] = _audit(ctx, "login_unlocked")
    assert unlocked.clerk_id == tech.id and unlocked.entity_id == str(clerk.id)
    assert unlocked.detail == {"failures": 10, "was_locked": True}
    assert accounts.authenticate("huong", "mat-khau-1").id == clerk.id


def test_an_unknown_username_is_audited_without_the_name(
        ctx: AppContext, clerk: ClerkInfo, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    typed = "mat-khau-1-go-nham-o"  # a password typed into the username field
    with pytest.raises(AccountError, match="Sai tên đăng nhập hoặc mật khẩu"):
        AccountService(ctx).authenticate(typed, "x")
    [entry] = _audit(ctx, "login_failed")
    assert entry.entity_id == "" and entry.detail == {"reason": "unknown_or_inactive"}
    assert typed not in caplog.text


@pytest.mark.gui
def test_login_screen_shows_the_wait_and_unlocks(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                 clock: FixedClock, station: StationInfo,
                                                 clerk: ClerkInfo) -> None:
    AccountService(ctx).create_clerk("giamsat", "Hoàng Văn Thụ", "mat-khau-gs-1",
                                     Role.SUPERVISOR)
    login = LoginDialog(ctx, station.agency_name)
    qtbot.addWidget(login)
    login.show()
    login.username.setText("huong")
    for _ in range(5):
        login.password.setText(WRONG)
        qtbot.keyClick(login.password, Qt.Key.Key_Return)
    assert login.clerk is None
    assert "Vui lòng thử lại sau 09:32:30 (còn 30 giây)" in login.error.text()

    def unlock() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, UnlockDialog) and w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(20, unlock)
            return
        assert dialog.username.text() == "huong"
        dialog.by_username.setText("giamsat")
        dialog.by_password.setText("mat-khau-gs-1")
        qtbot.keyClick(dialog.by_password, Qt.Key.Key_Return)

    QTimer.singleShot(0, unlock)
    qtbot.mouseClick(login.unlock_button, Qt.MouseButton.LeftButton)
    assert "Đã mở khóa tài khoản “huong”" in login.error.text()
    login.password.setText("mat-khau-1")
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    assert login.clerk is not None and login.clerk.id == clerk.id
