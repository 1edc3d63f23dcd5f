"""Vietnamese for what Qt draws itself: standard buttons, right-click menus, the file
dialog and the month names of date pickers (Qt ships no Vietnamese translation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import (
    QApplication,
    QCalendarWidget,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
)

from ui import qt_vi
from ui.messages import TextDialog

pytestmark = [pytest.mark.gui, pytest.mark.nodb]


@pytest.fixture
def vietnamese(qapp: QApplication) -> Iterator[None]:
    before = QLocale()
    translator = qt_vi.install(qapp)
    yield
    qapp.removeTranslator(translator)
    QLocale.setDefault(before)


def _texts(menu: object) -> list[str]:
    return [a.text().split("\t")[0] for a in menu.actions() if a.text()]  # type: ignore[attr-defined]


def test_right_click_menus(qtbot, vietnamese: None) -> None:  # type: ignore[no-untyped-def]
    line, text = QLineEdit(), QPlainTextEdit()
    qtbot.addWidget(line)
    qtbot.addWidget(text)
    expected = ["&Hoàn tác", "&Làm lại", "&Cắt", "&Sao chép", "&Dán", "&Xóa", "Chọn &tất cả"]
    assert _texts(line.createStandardContextMenu()) == expected
    assert _texts(text.createStandardContextMenu()) == expected


def test_standard_buttons(qtbot, vietnamese: None) -> None:  # type: ignore[no-untyped-def]
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                           | QDialogButtonBox.StandardButton.Cancel
                           | QDialogButtonBox.StandardButton.Save
                           | QDialogButtonBox.StandardButton.Close)
    qtbot.addWidget(box)
    assert sorted(b.text() for b in box.buttons()) == ["Hủy", "Lưu", "Đóng", "Đồng ý"]


def test_file_dialog_and_calendar(qtbot, vietnamese: None) -> None:  # type: ignore[no-untyped-def]
    dialog = QFileDialog(None, "Chọn tệp")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    qtbot.addWidget(dialog)
    labels = {b.text() for b in dialog.findChildren(QPushButton)}
    assert "&Mở" in labels and "Hủy" in labels
    calendar = QCalendarWidget()
    qtbot.addWidget(calendar)
    assert calendar.locale().language() == QLocale.Language.Vietnamese
    assert "tháng" in calendar.locale().monthName(12).lower()


def test_own_text_dialog(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = TextDialog(None, "Từ chối tiếp nhận hồ sơ", "Lý do:", multiline=True,
                        ok="Lập phiếu từ chối")
    qtbot.addWidget(dialog)
    assert not dialog.ok_btn.isEnabled()  # a reason is required
    dialog.edit.setPlainText("  Không thuộc thẩm quyền  ")  # type: ignore[union-attr]
    assert dialog.ok_btn.isEnabled() and dialog.value() == "Không thuộc thẩm quyền"
    assert {b.text() for b in dialog.findChildren(QPushButton)} == {"Lập phiếu từ chối",
                                                                    "Quay lại"}
