"""The clerk's work phone and e-mail: kept on the account, edited in the account dialog
(F12), and printed on Mẫu 02 and Mẫu 03 as the official to contact (dotted blanks when
the account has none)."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from sqlalchemy import select

from desktop_app.accounts import AccountError, AccountService, ClerkInfo
from desktop_app.context import AppContext
from desktop_app.intake.service import IntakeService
from local_db.models import AuditEntry, Clerk
from tests.test_intake import complete_draft, intake  # noqa: F401  (fixture)
from ui.password_dialog import ChangePasswordDialog


def slip_text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", unicodedata.normalize(
        "NFC", "\n".join(p.extract_text() for p in pages)))


def test_contact_is_stored_normalised_and_audited_without_its_values(
        ctx: AppContext, clerk: ClerkInfo) -> None:
    accounts = AccountService(ctx)
    assert (clerk.phone, clerk.email) == ("", "")
    info = accounts.update_contact(clerk.id, "  0208  3888 999 ", " Huong@NaPhac.gov.vn ")
    assert (info.phone, info.email) == ("0208 3888 999", "huong@naphac.gov.vn")
    stored = accounts.clerk(clerk.id)
    assert stored is not None and (stored.phone, stored.email) == (info.phone, info.email)
    assert accounts.authenticate("huong", "mat-khau-1").phone == "0208 3888 999"
    with ctx.db.read() as s:
        audit = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "clerk_contact_changed")).one()
        assert audit.detail == {"phone": True, "email": True}
    cleared = accounts.update_contact(clerk.id, "", "")
    assert (cleared.phone, cleared.email) == ("", "")


@pytest.mark.parametrize(("phone", "email", "message"), [
    ("không có", "", "Số điện thoại"),
    ("12", "", "Số điện thoại"),
    ("", "huong.naphac.gov.vn", "thư điện tử"),
    ("", "huong@naphac", "thư điện tử"),
])
def test_bad_contact_is_refused_in_vietnamese(ctx: AppContext, clerk: ClerkInfo, phone: str,
                                              email: str, message: str) -> None:
    with pytest.raises(AccountError, match=message):
        AccountService(ctx).update_contact(clerk.id, phone, email)
    with ctx.db.read() as s:
        row = s.get(Clerk, clerk.id)
        assert row is not None and (row.phone, row.email) == ("", "")


def test_supplement_and_refusal_print_the_clerks_contact(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:  # noqa: F811
    def supplement() -> str:
        draft = complete_draft(intake)
        draft.components[1].provided = False
        return slip_text(intake.request_supplement(draft, clerk, "Thiếu giấy tờ").slip_pdf)

    blank = "Triệu Thị Hương, số điện thoại: ……………, thư điện tử: ……………"
    assert blank in supplement()
    # Changed after login: the slip prints what is stored now, not the login's copy.
    AccountService(ctx).update_contact(clerk.id, "0208 3888 999", "huong@naphac.gov.vn")
    full = "Triệu Thị Hương, số điện thoại: 0208 3888 999, thư điện tử: huong@naphac.gov.vn"
    assert f"liên hệ với {full} để được hướng dẫn" in supplement()
    refused = intake.refuse(complete_draft(intake), clerk, "Không thuộc thẩm quyền")
    assert full in slip_text(refused.slip_pdf)


@pytest.mark.gui
def test_account_dialog_saves_the_contact(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                          clerk: ClerkInfo) -> None:
    AccountService(ctx).update_contact(clerk.id, "0208 3888 999", "")
    dialog = ChangePasswordDialog(ctx, clerk)  # the login's copy has no phone
    qtbot.addWidget(dialog)
    assert dialog.phone.text() == "0208 3888 999" and dialog.email.text() == ""
    dialog.email.setText("huong@")
    qtbot.mouseClick(dialog.save_contact, Qt.MouseButton.LeftButton)
    assert "thư điện tử không hợp lệ" in dialog.contact_status.text()
    dialog.email.setText("Huong@NaPhac.gov.vn")
    qtbot.mouseClick(dialog.save_contact, Qt.MouseButton.LeftButton)
    assert dialog.contact_status.text() == "Đã lưu liên hệ in trên phiếu."
    assert dialog.email.text() == "huong@naphac.gov.vn"
    stored = AccountService(ctx).clerk(clerk.id)
    assert stored is not None and stored.email == "huong@naphac.gov.vn"
    assert dialog.result() == 0  # saving the contact does not close the dialog


def test_forced_password_change_shows_no_contact_fields(
        qtbot, ctx: AppContext, clerk: ClerkInfo) -> None:  # type: ignore[no-untyped-def]
    dialog = ChangePasswordDialog(ctx, clerk, current="mat-khau-1")
    qtbot.addWidget(dialog)
    assert not hasattr(dialog, "phone")
