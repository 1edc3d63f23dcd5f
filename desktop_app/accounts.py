"""Clerk accounts and offline login."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app import login_policy
from desktop_app.context import AppContext
from desktop_app.domain.text import nfc
from desktop_app.login_policy import WRONG_PASSWORD, AccountError, LoginRefused
from desktop_app.passwords import hash_password, needs_rehash, verify_password
from local_db import repositories as repo
from local_db.models import Clerk

log = logging.getLogger(__name__)

__all__ = ["MIN_PASSWORD", "AccountError", "AccountService", "ClerkInfo", "LoginRefused",
           "Role"]

MIN_PASSWORD = 8


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username matches no active account, so that answer takes as long
    as a wrong password (the name's existence does not show in the time)."""
    return hash_password("không có tài khoản này")


class Role(StrEnum):
    CLERK = "clerk"
    SCANNER = "scanner"
    SUPERVISOR = "supervisor"
    TECHNICIAN = "technician"

    @property
    def label_vi(self) -> str:
        return {
            Role.CLERK: "Cán bộ tiếp nhận",
            Role.SCANNER: "Cán bộ số hóa",
            Role.SUPERVISOR: "Lãnh đạo / giám sát",
            Role.TECHNICIAN: "Kỹ thuật viên",
        }[self]


@dataclass(frozen=True)
class ClerkInfo:
    id: int
    username: str
    full_name: str
    role: Role
    must_change_password: bool = False
    from_province: bool = False
    phone: str = ""  # work phone and e-mail printed on the slips; "" = not given
    email: str = ""


@dataclass(frozen=True)
class _Account:
    """What a login check reads of an account, outside the write transaction (the hash
    takes ~0.1 s; a writer must not hold the database that long)."""

    id: int
    username: str
    role: str
    password_hash: str
    failed_logins: int
    blocked_until: datetime | None
    locked_at: datetime | None

    @classmethod
    def of(cls, row: Clerk) -> _Account:
        return cls(row.id, row.username, row.role, row.password_hash, row.failed_logins or 0,
                   row.login_blocked_until, row.locked_at)


def _for_update(s: Session, clerk_id: int) -> Clerk:
    """The row locked until commit (PostgreSQL), so counters failing at once each count."""
    row = s.scalar(select(Clerk).where(Clerk.id == clerk_id).with_for_update())
    if row is None:
        raise AccountError("Tài khoản không còn hoạt động.", f"clerk {clerk_id} gone")
    return row


def _info(row: Clerk) -> ClerkInfo:
    return ClerkInfo(row.id, row.username, row.full_name, Role(row.role),
                     bool(row.must_change_password), bool(row.from_province),
                     row.phone or "", row.email or "")


_PHONE = re.compile(r"\+?[0-9][0-9 .()-]{5,18}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def check_contact(phone: str, email: str) -> tuple[str, str]:
    """A clerk's work phone and e-mail as printed on the slips (either may be ""):
    returns them normalised, or AccountError with a Vietnamese message."""
    phone = " ".join(nfc(phone).split())
    email = nfc(email).replace(" ", "").lower()
    if phone and (not _PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 6):
        raise AccountError("Số điện thoại chỉ gồm chữ số (có thể có dấu cách, dấu chấm, "
                           "gạch nối), ví dụ 0208 3888 999.", "bad phone")
    if email and (len(email) > 120 or not _EMAIL.fullmatch(email)):
        raise AccountError("Địa chỉ thư điện tử không hợp lệ, ví dụ canbo@naphac.gov.vn.",
                           "bad e-mail")
    return phone, email


def check_new_clerk(username: str, full_name: str, password: str) -> tuple[str, str]:
    """Validate a new account's fields; returns the normalised username and full name."""
    username = username.strip().lower()
    full_name = nfc(full_name)
    bare = username.replace(".", "").replace("_", "")
    if not username or not bare.isascii() or not bare.isalnum():
        raise AccountError(
            "Tên đăng nhập chỉ gồm chữ không dấu, chữ số, dấu chấm hoặc gạch dưới.",
            f"bad username {username!r}",
        )
    if not full_name:
        raise AccountError("Vui lòng nhập họ và tên cán bộ.", "empty full name")
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.", "password too short"
        )
    return username, full_name


class AccountService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def has_clerks(self) -> bool:
        with self.ctx.db.read() as s:
            return repo.count_clerks(s) > 0

    def list_clerks(self) -> list[ClerkInfo]:
        with self.ctx.db.read() as s:
            return [_info(c) for c in repo.list_clerks(s)]

    def create_clerk(
        self,
        username: str,
        full_name: str,
        password: str,
        role: Role,
        created_by: int | None = None,
    ) -> ClerkInfo:
        username, full_name = check_new_clerk(username, full_name, password)
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            if repo.clerk_by_username(s, username) is not None:
                raise AccountError(
                    f"Tên đăng nhập “{username}” đã có người dùng.", f"duplicate {username}"
                )
            row = Clerk(
                username=username,
                full_name=full_name,
                role=role.value,
                password_hash=hash_password(password),
                active=True,
                created_at=now,
            )
            s.add(row)
            s.flush()
            repo.add_audit(s, now, created_by, "clerk_created", "clerk", str(row.id),
                           {"username": username, "role": role.value})
            info = _info(row)
        log.info("clerk created id=%s role=%s", info.id, info.role)
        return info

    def authenticate(self, username: str, password: str) -> ClerkInfo:
        """Offline login. Wrong passwords count per account (see login_policy.py); a scrypt
        hash of a local account is replaced by argon2id on success."""
        account = self._check_password(username, password)
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            row = _for_update(s, account.id)
            if not row.active:
                raise AccountError(WRONG_PASSWORD, f"login failed: clerk {row.id} inactive")
            # Another counter may have locked it while this password was being checked.
            login_policy.refuse_if_blocked(row.username, row.failed_logins,
                                           row.login_blocked_until, row.locked_at, now)
            rehash = (not row.from_province and row.password_hash == account.password_hash
                      and needs_rehash(row.password_hash))
            if rehash:  # a province account's hash is the province's: the pull would undo it
                row.password_hash = hash_password(password)
            row.last_login_at = now
            login_policy.reset(row)
            repo.add_audit(s, now, row.id, "login", "clerk", str(row.id),
                           {"rehashed": True} if rehash else None)
            info = _info(row)
        if rehash:
            log.info("password hash upgraded to argon2id clerk=%s", info.id)
        return info

    def unlock(self, username: str, by_username: str, by_password: str) -> ClerkInfo:
        """A supervisor or technician lifts a lock (or a wait) with their own password."""
        by = self._check_password(by_username, by_password)
        if by.role not in (Role.SUPERVISOR.value, Role.TECHNICIAN.value):
            raise AccountError("Chỉ lãnh đạo hoặc kỹ thuật viên được mở khóa tài khoản.",
                               f"clerk {by.id} ({by.role}) may not unlock accounts")
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            found = repo.clerk_by_username(s, username.strip())
            if found is None:
                raise AccountError(f"Không có tài khoản “{username.strip()}”.",
                                   "unlock: no such username")
            login_policy.reset(_for_update(s, by.id))  # their own password was right
            row = _for_update(s, found.id)
            was = (row.failed_logins, row.locked_at is not None)
            login_policy.reset(row)
            repo.add_audit(s, now, by.id, "login_unlocked", "clerk", str(row.id),
                           {"failures": was[0], "was_locked": was[1]})
            info = _info(row)
        log.info("login unlocked clerk=%s by=%s (failures=%s, locked=%s)",
                 info.id, by.id, *was)
        return info

    def _check_password(self, username: str, password: str) -> _Account:
        """The account whose password this is, or AccountError (LoginRefused while it
        waits or is locked: nothing is checked then, nor counted)."""
        name = username.strip()
        now = self.ctx.clock.now()
        with self.ctx.db.read() as s:
            row = repo.clerk_by_username(s, name)
            account = _Account.of(row) if row is not None and row.active else None
        if account is None:
            verify_password(password, _dummy_hash())  # as slow as a real account's check
            # The name is not logged: a password typed in the wrong field would be.
            log.warning("login failed: no active account with the username typed")
            with self.ctx.db.write() as s:
                repo.add_audit(s, now, None, "login_failed", "clerk", "",
                               {"reason": "unknown_or_inactive"})
            raise AccountError(WRONG_PASSWORD, "login failed: unknown or inactive username")
        login_policy.refuse_if_blocked(account.username, account.failed_logins,
                                       account.blocked_until, account.locked_at, now)
        if verify_password(password, account.password_hash):
            return account
        with self.ctx.db.write() as s:
            row = _for_update(s, account.id)
            step = login_policy.count_failure(row, now)
            repo.add_audit(s, now, None, "login_failed", "clerk", str(row.id),
                           {"failures": step.failures})
            if step.locked:
                repo.add_audit(s, now, None, "login_locked", "clerk", str(row.id),
                               {"failures": step.failures})
        log.warning("login failed clerk=%s failures=%s%s", account.id, step.failures,
                    " (locked)" if step.locked else "")
        raise step.error(account.username, now)

    def clerk(self, clerk_id: int) -> ClerkInfo | None:
        with self.ctx.db.read() as s:
            row = s.get(Clerk, clerk_id)
            return _info(row) if row is not None else None

    def update_contact(self, clerk_id: int, phone: str, email: str,
                       by: int | None = None) -> ClerkInfo:
        """The work phone and e-mail printed on Mẫu 02/03 for this clerk ("" clears)."""
        phone, email = check_contact(phone, email)
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            row = s.get(Clerk, clerk_id)
            if row is None or not row.active:
                raise AccountError("Tài khoản không còn hoạt động.", f"clerk {clerk_id} gone")
            row.phone, row.email = phone, email
            repo.add_audit(s, now, by if by is not None else clerk_id, "clerk_contact_changed",
                           "clerk", str(row.id), {"phone": bool(phone), "email": bool(email)})
            info = _info(row)
        log.info("contact details changed clerk=%s", clerk_id)
        return info

    def change_password(self, clerk_id: int, current: str, new: str) -> ClerkInfo:
        """The clerk's own password. Accounts pulled from the province change theirs on
        the province's system (the next pull would bring the old one back)."""
        now = self.ctx.clock.now()
        if len(new) < MIN_PASSWORD:
            raise AccountError(f"Mật khẩu mới phải có ít nhất {MIN_PASSWORD} ký tự.",
                               "new password too short")
        if new == current:
            raise AccountError("Mật khẩu mới phải khác mật khẩu hiện tại.", "same password")
        with self.ctx.db.write() as s:
            row = s.get(Clerk, clerk_id)
            if row is None or not row.active:
                raise AccountError("Tài khoản không còn hoạt động.", f"clerk {clerk_id} gone")
            if row.from_province:
                raise AccountError(
                    "Tài khoản này do hệ thống của tỉnh quản lý: hãy đổi mật khẩu trên hệ "
                    "thống của tỉnh; máy quầy nhận mật khẩu mới ở lần đồng bộ sau.",
                    f"clerk {clerk_id} is managed by the province")
            if not verify_password(current, row.password_hash):
                log.warning("password change refused (wrong current password) clerk=%s",
                            clerk_id)
                raise AccountError("Mật khẩu hiện tại không đúng.", "wrong current password")
            row.password_hash = hash_password(new)
            row.must_change_password = False
            repo.add_audit(s, now, row.id, "password_changed", "clerk", str(row.id))
            info = _info(row)
        log.info("password changed clerk=%s", clerk_id)
        return info
