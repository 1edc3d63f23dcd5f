"""F7 → "Số hóa kết quả giấy": the metadata form refuses what is wrong, the studio makes
the PDF, and the result appears in the return counter's panel, viewable and printable.
Real pipeline, real files, real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.intake.service import IntakeService
from local_db.models import OutboxEntry, ResultDocumentRow
from tests.support.shots import shot
from ui.main_window import MainWindow
from ui.result_meta_dialog import ResultMetaDialog

from .test_gui_intake import key
from .test_gui_studio import _studio, text_page, window  # noqa: F401  (fixture)
from .test_intake import complete_draft

pytestmark = pytest.mark.gui


def _ok(form: ResultMetaDialog) -> None:
    form.box.button(QDialogButtonBox.StandardButton.Ok).click()


def test_digitize_a_paper_result_from_the_return_counter(
        qtbot, window: MainWindow, ctx: AppContext, clerk: ClerkInfo,  # type: ignore[no-untyped-def]  # noqa: F811
        tmp_path: Path) -> None:
    intake = IntakeService(ctx)
    out = intake.receive(complete_draft(intake), clerk)
    key(qtbot, Qt.Key.Key_F7)
    page = window.returns
    page.open_code(out.code)
    qtbot.waitUntil(lambda: page.current is not None and page.current.code == out.code,
                    timeout=5000)
    assert page.result_scan_btn.isEnabled() and not page.result_docs.isVisible()
    page.result_scan_btn.click()
    qtbot.waitUntil(lambda: getattr(window, "result_form", None) is not None)
    form = window.result_form
    form.name.setText("Giấy chứng nhận đăng ký hộ kinh doanh")

    # Wrong: no number, a date in the future (the clock is 27/10/2023).
    form.signed_on.setText("28/10/2023")
    form.signer.setText("Lò Văn Minh")
    _ok(form)
    assert form.isVisible() and "nhập số văn bản" in form.error.text()
    assert "ngày ký không được sau ngày hôm nay" in form.error.text()
    form.signed_on.setText("20/13/2023")
    _ok(form)
    assert "ngày/tháng/năm" in form.error.text()

    form.number.setText("45/GCN-UBND")
    form.signed_on.setText("20/10/2023")
    shot("f7-paper-result-form", form)
    _ok(form)
    qtbot.waitUntil(lambda: getattr(window, "studio_dialog", None) is not None
                    and window.studio_dialog.isVisible(), timeout=10_000)
    dialog = _studio(window)
    assert dialog.windowTitle().startswith("Số hóa kết quả giấy")
    studio = dialog.studio
    assert studio.current_key() == "result"
    studio.import_paths([text_page(tmp_path / "ket-qua.png", seed=3)])
    qtbot.waitUntil(lambda: not studio._busy() and "Đã nhận 1 trang" in studio.status.text(),
                    timeout=60_000)
    studio.thumbs.setFocus()
    QTest.keyClick(studio.thumbs, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not studio._busy() and "Đã lưu" in studio.status.text(),
                    timeout=60_000)
    QTest.keyClick(studio.thumbs, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())

    # The panel lists it like a province result; viewing it opens the preview.
    panel = page.result_docs
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=5000)
    assert [panel.table.item(0, c).text() for c in range(5)] == [
        "Giấy chứng nhận đăng ký hộ kinh doanh", "45/GCN-UBND", "20/10/2023", "Lò Văn Minh",
        "Số hóa tại quầy"]
    assert panel.view_btn.isEnabled()
    shot("f7-paper-result-listed", window)
    panel.view_btn.click()
    qtbot.waitUntil(lambda: getattr(window, "last_preview", None) is not None, timeout=10_000)
    assert "45/GCN-UBND" in window.last_preview.windowTitle()
    window.last_preview.accept()
    with ctx.db.read() as s:
        [row] = s.scalars(select(ResultDocumentRow)).all()
        assert (row.origin, row.clerk_id) == ("counter", clerk.id)
        queued = [(o.entity_type, o.operation) for o in
                  s.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]
    assert queued[-2:] == [("file", "upload"), ("dossier", "result_digitized")]
