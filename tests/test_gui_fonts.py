"""The screens use the bundled Liberation Sans, and it draws every Vietnamese letter."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtGui import QFontDatabase, QFontInfo, QFontMetrics, QRawFont
from PySide6.QtWidgets import QApplication, QLabel

from desktop_app.documents.fonts import fonts_dir
from ui.fonts import UI_FAMILY, register_bundled_fonts
from ui.style import apply_style

pytestmark = [pytest.mark.gui, pytest.mark.nodb]

VIETNAMESE = ("Nguyễn Thị Ánh Tuyết — Đăng ký khai sinh; Lò Văn Phặc, Hoàng Thị Hường, "
              "ỦY BAN NHÂN DÂN XÃ NÀ PHẶC, Ỳ Ỷ Ỹ Ỵ ữ ự ở ợ ẫ ậ ẻ ẽ ẹ ỗ ộ ơ ư đ")


def test_bundled_files_are_registered_and_the_app_font_is_liberation_sans(
        qapp: QApplication) -> None:
    apply_style(qapp)
    assert UI_FAMILY in QFontDatabase.families()
    font = qapp.font()
    assert QFontInfo(font).family() == UI_FAMILY
    assert font.pointSize() == 11
    # The bundled files themselves were accepted (this PC may also have it installed).
    bundled = sorted(p.name for p in fonts_dir().glob("LiberationSans-*.ttf"))
    assert bundled == ["LiberationSans-Bold.ttf", "LiberationSans-Regular.ttf"]
    for name in bundled:
        raw = QRawFont(str(fonts_dir() / name), 12)
        assert raw.isValid() and raw.familyName() == UI_FAMILY


def test_every_vietnamese_letter_is_in_the_font_itself(qapp: QApplication) -> None:
    apply_style(qapp)
    label = QLabel(VIETNAMESE)
    raw = QRawFont.fromFont(label.font())
    assert raw.familyName() == UI_FAMILY
    # Code points: PySide's str overload takes a QChar, which these letters are not.
    missing = [ch for ch in VIETNAMESE if not raw.supportsCharacter(ord(ch))]
    assert missing == []  # no glyph drawn by a fallback font
    metrics = QFontMetrics(label.font())
    assert all(metrics.inFontUcs4(ord(ch)) for ch in VIETNAMESE)
    assert not metrics.inFontUcs4(0x4E00)  # the check can fail: no CJK in Liberation
    for name in ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"):
        bundled = QRawFont(str(fonts_dir() / name), 12)
        assert [ch for ch in VIETNAMESE if not bundled.supportsCharacter(ord(ch))] == []


def test_a_damaged_file_is_named_in_the_log_and_the_rest_still_registered(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "Broken.ttf").write_bytes(b"not a font")
    (tmp_path / "LiberationSans-Regular.ttf").write_bytes(
        (fonts_dir() / "LiberationSans-Regular.ttf").read_bytes())
    # A fresh application object is not possible in one process; the guard is a property.
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.property("motcua_fonts_registered")
    app.setProperty("motcua_fonts_registered", False)
    try:
        with caplog.at_level(logging.INFO, logger="ui.fonts"):
            setup = register_bundled_fonts(app, tmp_path)
    finally:
        app.setProperty("motcua_fonts_registered", before)
    assert setup.registered == ("LiberationSans-Regular.ttf",)
    assert setup.failed == ("Broken.ttf",)
    assert any("Broken.ttf" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)
    assert any("registered 1 bundled font file(s)" in r.getMessage() for r in caplog.records)
