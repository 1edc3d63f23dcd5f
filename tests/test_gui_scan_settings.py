"""Digitization settings dialog: profile editing, technician locks, hot folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService
from desktop_app.station import StationInfo, StationService
from ui import messages
from ui.scan_settings import ScanSettingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def technician(ctx: AppContext) -> ClerkInfo:
    return AccountService(ctx).create_clerk("kythuat", "Lò Văn Kỹ", "mat-khau-2",
                                             Role.TECHNICIAN)


@pytest.fixture(autouse=True)
def quiet_boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(messages, "error", lambda _p, m, *a, **k: shown.append(m))
    monkeypatch.setattr(messages, "info", lambda _p, m, *a, **k: shown.append(m))
    return shown


def _select(dialog: ScanSettingsDialog, name: str) -> None:
    for i in range(dialog.list.count()):
        if dialog.list.item(i).data(Qt.ItemDataRole.UserRole).name == name:
            dialog.list.setCurrentRow(i)
            return
    raise AssertionError(name)


def test_clerk_edits_an_unlocked_profile(qtbot, ctx: AppContext, station: StationInfo,  # type: ignore[no-untyped-def]
                                         clerk: ClerkInfo) -> None:
    dialog = ScanSettingsDialog(ctx, clerk)
    qtbot.addWidget(dialog)
    _select(dialog, "a3-map")
    editor = dialog.editor
    assert not editor.locked.isEnabled()  # only a technician locks
    editor.dpi.setValue(400)
    editor.paper.setCurrentIndex(editor.paper.findData("flatbed"))
    qtbot.mouseClick(dialog.save_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Đã lưu" in editor.state.text(), timeout=5000)
    saved = DigitizationService(ctx).profile("a3-map")
    assert (saved.dpi, saved.paper, saved.locked) == (400, "flatbed", False)


def test_locked_profile_is_read_only_for_a_clerk(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                 station: StationInfo, clerk: ClerkInfo,
                                                 technician: ClerkInfo) -> None:
    tech = ScanSettingsDialog(ctx, technician)
    qtbot.addWidget(tech)
    _select(tech, "a0-map")
    assert tech.editor.locked.isEnabled()
    tech.editor.locked.setChecked(True)
    tech.editor.dpi.setValue(300)
    qtbot.mouseClick(tech.save_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Đã lưu" in tech.editor.state.text(), timeout=5000)
    assert DigitizationService(ctx).profile("a0-map").locked

    dialog = ScanSettingsDialog(ctx, clerk)
    qtbot.addWidget(dialog)
    _select(dialog, "a0-map")
    assert not dialog.editor.dpi.isEnabled()
    assert "khóa" in dialog.editor.state.text()
    assert dialog.list.currentItem().text().startswith("🔒")


def test_technician_sets_hot_folders(qtbot, ctx: AppContext, station: StationInfo,  # type: ignore[no-untyped-def]
                                     technician: ClerkInfo, clerk: ClerkInfo,
                                     tmp_path: Path, quiet_boxes: list[str]) -> None:
    folder = tmp_path / "A0 máy quét"
    folder.mkdir()
    dialog = ScanSettingsDialog(ctx, technician)
    qtbot.addWidget(dialog)
    dialog.folders.addItem(str(folder))
    dialog.folders.addItem(str(folder))  # duplicates collapse on save
    qtbot.mouseClick(dialog.save_folders_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.save_folders_btn.isEnabled(), timeout=5000)
    assert StationService(ctx).require().hot_folders == (str(folder),)
    assert DigitizationService(ctx).hot_folders()[0] == folder
    assert quiet_boxes == ["Đã lưu 1 thư mục nhận bản quét."]

    dialog.folders.addItem("relative/path")
    qtbot.mouseClick(dialog.save_folders_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(quiet_boxes) == 2, timeout=5000)
    assert "đường dẫn đầy đủ" in quiet_boxes[1]
    assert StationService(ctx).require().hot_folders == (str(folder),)

    clerk_view = ScanSettingsDialog(ctx, clerk)
    qtbot.addWidget(clerk_view)
    assert not clerk_view.save_folders_btn.isEnabled()
    assert clerk_view.folder_list() == (str(folder),)


def test_technician_changes_the_printer_and_retention(  # type: ignore[no-untyped-def]
        qtbot, ctx: AppContext, station: StationInfo, technician: ClerkInfo,
        clerk: ClerkInfo, quiet_boxes: list[str]) -> None:
    """A replaced printer is picked here, without a provisioning file."""
    printers = ["Canon LBP2900", "Brother HL-L2321D"]
    dialog = ScanSettingsDialog(ctx, technician, printers=printers)
    qtbot.addWidget(dialog)
    assert dialog.printer.currentData() == "" and dialog.retention.value() == 365
    dialog.printer.setCurrentIndex(dialog.printer.findData("Brother HL-L2321D"))
    dialog.retention.setValue(180)
    qtbot.mouseClick(dialog.save_printing_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(quiet_boxes) == 1, timeout=5000)
    saved = StationService(ctx).require()
    assert (saved.printer, saved.retention_days) == ("Brother HL-L2321D", 180)
    assert "Brother HL-L2321D" in quiet_boxes[0] and "180 ngày" in quiet_boxes[0]

    # The printer was later removed from this PC: still shown, and said so.
    clerk_view = ScanSettingsDialog(ctx, clerk, printers=["Canon LBP2900"])
    qtbot.addWidget(clerk_view)
    assert "chưa cài trên máy này" in clerk_view.printer.currentText()
    assert not clerk_view.save_printing_btn.isEnabled()
    assert not clerk_view.retention.isEnabled()


def test_technician_sets_who_signs_forms_04_and_05(  # type: ignore[no-untyped-def]
        qtbot, ctx: AppContext, station: StationInfo, technician: ClerkInfo,
        clerk: ClerkInfo, quiet_boxes: list[str]) -> None:
    from desktop_app.signers import SignedKind, SignerService

    dialog = ScanSettingsDialog(ctx, technician, printers=[])
    qtbot.addWidget(dialog)
    apology = dialog.signers.forms[SignedKind.APOLOGY]
    qtbot.waitUntil(lambda: apology.title.text() == "" and apology.isEnabled(), timeout=5000)
    apology.authority.setText("TM. Ủy ban nhân dân")
    apology.delegation.setText("KT. Chủ tịch")
    apology.title.setText("Phó Chủ tịch")
    apology.name.setText("Hoàng Văn Thụ")
    qtbot.mouseClick(dialog.signers.save_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(quiet_boxes) == 1, timeout=5000)
    assert quiet_boxes == ["Đã lưu người ký cho Mẫu 04."]
    signers = SignerService(ctx, station.agency_code)
    assert signers.get(SignedKind.APOLOGY).block.title_lines() == [
        "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert apology.title.text() == "PHÓ CHỦ TỊCH"  # shown as it will print
    assert signers.missing() == [SignedKind.STOP_NOTICE]

    # A name without a title is refused with the reason, and nothing changes.
    stop = dialog.signers.forms[SignedKind.STOP_NOTICE]
    stop.name.setText("Lường Thị Hoa")
    qtbot.mouseClick(dialog.signers.save_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(quiet_boxes) == 2, timeout=5000)
    assert "chức vụ" in quiet_boxes[1] and signers.missing() == [SignedKind.STOP_NOTICE]

    clerk_view = ScanSettingsDialog(ctx, clerk, printers=[])
    qtbot.addWidget(clerk_view)
    shown = clerk_view.signers.forms[SignedKind.APOLOGY]
    qtbot.waitUntil(lambda: shown.name.text() == "Hoàng Văn Thụ", timeout=5000)
    assert not shown.isEnabled() and not clerk_view.signers.save_btn.isEnabled()


def test_the_person_scanning_switches_the_drivers_own_window(  # type: ignore[no-untyped-def]
        qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.scanning.sources.wia import WiaSource
    from desktop_app.scanning.studio import StudioBackend

    dialog = ScanSettingsDialog(ctx, clerk, driver_sources=True)  # as on Windows
    qtbot.addWidget(dialog)
    box = dialog.driver_dialog
    assert box.isEnabled() and not box.isChecked()  # not only for technicians
    assert "DPI" in box.toolTip() and "không theo hồ sơ quét" in box.toolTip()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Đã lưu" in dialog.driver_dialog_state.text(), timeout=5000)
    assert box.isChecked() and box.isEnabled()
    # Saved for this PC, and the studio's WIA source shows the driver's window.
    monkeypatch.setattr(WiaSource, "available", lambda self: True)
    source = StudioBackend(ctx, clerk).open_source("wia|{6BDD1FC6}\\0000")
    assert source.show_driver_dialog is True  # type: ignore[attr-defined]
    again = ScanSettingsDialog(ctx, clerk, driver_sources=True)
    qtbot.addWidget(again)
    assert again.driver_dialog.isChecked()


def test_without_windows_drivers_the_option_says_where_it_applies(  # type: ignore[no-untyped-def]
        qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo) -> None:
    dialog = ScanSettingsDialog(ctx, clerk, driver_sources=False)
    qtbot.addWidget(dialog)
    assert not dialog.driver_dialog.isEnabled()
    assert "trên Windows" in dialog.driver_dialog_state.text()
