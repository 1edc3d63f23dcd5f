"""What wrong passwords cost: from the 5th in a row a wait that doubles (30 s, 1, 2, 4,
8 min), at the 10th a lock that only a supervisor or technician lifts.

While an account waits or is locked, an attempt is refused before its password is
checked and is not counted, so a burst of Enters (a handheld scanner's suffix reaching the
login, a key held down) adds at most the few failures that were free; reaching the lock
takes five deliberate tries spread over a quarter of an hour. The counters live on the
account's row, so every counter sharing the database sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from desktop_app.domain.errors import DomainError
from local_db.models import Clerk

WAIT_FROM = 5  # the failure that first earns a wait
LOCK_AT = 10
FIRST_WAIT = timedelta(seconds=30)

WRONG_PASSWORD = "Sai tên đăng nhập hoặc mật khẩu."


class AccountError(DomainError):
    pass


class LoginRefused(AccountError):
    """The account waits until ``until`` or is locked (``until`` is None)."""

    def __init__(self, message_vi: str, detail: str, until: datetime | None) -> None:
        super().__init__(message_vi, detail)
        self.until = until

    @property
    def locked(self) -> bool:
        return self.until is None


def wait_after(failures: int) -> timedelta:
    """The wait earned by this many failures in a row (zero before WAIT_FROM)."""
    if failures < WAIT_FROM:
        return timedelta(0)
    return FIRST_WAIT * 2 ** (failures - WAIT_FROM)


def spoken(delta: timedelta) -> str:
    """“1 phút 5 giây”: a remaining wait, rounded up to the second."""
    seconds = max(1, -(-int(delta.total_seconds() * 1000) // 1000))
    minutes, seconds = divmod(seconds, 60)
    parts = ([f"{minutes} phút"] if minutes else []) + ([f"{seconds} giây"] if seconds else [])
    return " ".join(parts)


def _locked(username: str, failures: int) -> LoginRefused:
    return LoginRefused(
        f"Tài khoản “{username}” đã bị khóa sau {failures} lần nhập sai mật khẩu liên tiếp. "
        "Hãy nhờ lãnh đạo hoặc kỹ thuật viên mở khóa (nút “Mở khóa tài khoản…” ở màn hình "
        "đăng nhập).", f"login refused: account locked after {failures} failures", None)


def _waiting(failures: int, until: datetime, now: datetime) -> LoginRefused:
    return LoginRefused(
        f"Đã nhập sai mật khẩu {failures} lần liên tiếp. Vui lòng thử lại sau "
        f"{until:%H:%M:%S} (còn {spoken(until - now)}).",
        f"login refused: {failures} failures, waiting until {until:%H:%M:%S}", until)


def refuse_if_blocked(username: str, failures: int, blocked_until: datetime | None,
                      locked_at: datetime | None, now: datetime) -> None:
    """LoginRefused while the account is locked or still waiting."""
    if locked_at is not None:
        raise _locked(username, failures)
    if blocked_until is not None and now < blocked_until:
        raise _waiting(failures, blocked_until, now)


@dataclass(frozen=True)
class Failure:
    failures: int
    until: datetime | None
    locked: bool

    def error(self, username: str, now: datetime) -> AccountError:
        if self.locked:
            return _locked(username, self.failures)
        if self.until is not None:
            return _waiting(self.failures, self.until, now)
        left = WAIT_FROM - self.failures
        if left <= 2:
            return AccountError(f"{WRONG_PASSWORD} Nhập sai thêm {left} lần nữa sẽ phải chờ "
                                "một lúc mới được thử lại.", "login failed: wrong password")
        return AccountError(WRONG_PASSWORD, "login failed: wrong password")


def count_failure(row: Clerk, now: datetime) -> Failure:
    """One more wrong password on ``row`` (locked for update by the caller)."""
    row.failed_logins = (row.failed_logins or 0) + 1
    failures = row.failed_logins
    if failures >= LOCK_AT:
        row.locked_at = row.locked_at or now
        row.login_blocked_until = None
        return Failure(failures, None, True)
    wait = wait_after(failures)
    row.login_blocked_until = now + wait if wait else None
    return Failure(failures, row.login_blocked_until, False)


def reset(row: Clerk) -> None:
    row.failed_logins = 0
    row.login_blocked_until = None
    row.locked_at = None
