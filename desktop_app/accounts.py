"""Clerk accounts and offline login."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc
from desktop_app.passwords import hash_password, verify_password
from local_db import repositories as repo
from local_db.models import Clerk

log = logging.getLogger(__name__)

MIN_PASSWORD = 6


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


class AccountError(DomainError):
    pass


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
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            row = repo.clerk_by_username(s, username.strip())
            if row is None or not row.active or not verify_password(password, row.password_hash):
                log.warning("login failed for username=%r", username.strip())
                raise AccountError(
                    "Sai tên đăng nhập hoặc mật khẩu.", f"login failed {username.strip()!r}"
                )
            row.last_login_at = now
            repo.add_audit(s, now, row.id, "login", "clerk", str(row.id))
            return _info(row)

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
