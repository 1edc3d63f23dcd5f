"""The fee step of the intake wizard: counts for certified copies, the amount the schedule
computes, and the money collected with Receive, by keyboard."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QSpinBox
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.domain.fees import FeeCount, PaymentMethod
from desktop_app.station import StationInfo
from local_db.models import Dossier
from ui.main_window import MainWindow
from ui.slip_preview import SlipPreviewDialog

from .test_fees import FEES_CATALOG
from .test_gui_intake import CARD, key, open_main_window, scan_text, type_text
from .test_slips import text_of

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo):  # type: ignore[no-untyped-def]
    yield from open_main_window(qtbot, ctx, station, clerk, FEES_CATALOG)


def _step(qtbot, spin: QSpinBox, value: int) -> None:  # type: ignore[no-untyped-def]
    """Bring ``spin`` to ``value`` with the arrow keys, as a clerk does."""
    spin.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is spin)
    while spin.value() != value:
        key(qtbot, Qt.Key.Key_Up if spin.value() < value else Qt.Key.Key_Down)


def test_certified_copies_counted_and_paid_at_intake(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                     ctx: AppContext) -> None:
    key(qtbot, Qt.Key.Key_F2)
    intake = window.intake
    intake.choose_procedure("9.000815")
    owner = intake.applicant_step.owner
    qtbot.waitUntil(lambda: QApplication.focusWidget() is owner.full_name)
    scan_text(CARD)
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert intake.step == 3, intake.error.text()

    fees = intake.delivery_step.fees
    # One document of one page, one copy, until the clerk says otherwise.
    assert fees.counts() == {"PHI-CTBS": [FeeCount(1, 1)], "PHI-TL": [FeeCount(1, 1)]}
    assert "10.000 đồng" in fees.total.text()  # 2.000 + 8.000
    certify = fees.tables["PHI-CTBS"]
    _step(qtbot, certify.table.cellWidget(0, 0), 2)  # two copies …
    _step(qtbot, certify.table.cellWidget(0, 1), 5)  # … of a five-page document
    certify.add_btn.click()  # and one single page
    assert fees.counts()["PHI-CTBS"] == [FeeCount(2, 5), FeeCount(1, 1)]
    assert "24.000 đồng" in fees.total.text()  # 14.000 + 2.000 + 8.000

    payment = fees.payment
    payment.setChecked(True)
    assert payment.amount.value() == 24000  # follows what is owed
    _step(qtbot, payment.amount, 20000)
    assert "ghi lý do" in payment.hint.text()
    payment.receipt.setFocus()
    type_text(None, "0012345")
    payment.method.setCurrentIndex(payment.method.findData(PaymentMethod.TRANSFER.value))
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert intake.step == 4
    # No reason for the different amount: the review says so and Receive stays off.
    assert not intake.receive_btn.isEnabled()
    assert "lý do thu 20.000 đồng khác số phải nộp 24.000 đồng" in intake.review.toPlainText()
    intake.back_btn.click()
    assert intake.step == 3
    payment.reason.setFocus()
    type_text(None, "Giảm theo Nghị quyết HĐND tỉnh")
    assert payment.hint.text()  # still differs, now with its reason
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert intake.step == 4 and intake.receive_btn.isEnabled()
    review = intake.review.toPlainText()
    assert "Phí chứng thực bản sao từ bản chính (2 bản × 5 trang; 1 bản × 1 trang)" in review
    assert "20.000 đồng, Chuyển khoản, biên lai số 0012345" in review

    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(getattr(window, "last_preview", None),
                                       SlipPreviewDialog), timeout=10_000)
    window.last_preview.accept()
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier)).one()
        assert d.fee_total == 24000
        [paid] = d.payments
        assert (paid.amount, paid.method, paid.receipt_number, paid.reason) == (
            20000, "transfer", "0012345", "Giảm theo Nghị quyết HĐND tỉnh")
        slip = d.slip_blob
    assert slip is not None
    text = " ".join(text_of(ctx.blobs.read_bytes(slip)).split())
    assert ("đã thu 20.000 đồng (biên lai số 0012345) — Giảm theo Nghị quyết HĐND tỉnh"
            in text)
    # The next citizen starts with nothing collected.
    assert not payment.isChecked()
