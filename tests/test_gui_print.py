"""The slip preview's printing: one key to the counter's printer, the Vietnamese picker,
work off the UI thread, errors in Vietnamese, closing mid-print, and fitting the screen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import shiboken6
from PySide6.QtCore import QPoint, QRect, Qt, QThreadPool, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from desktop_app.documents.slips import render_receipt
from desktop_app.printers import PrinterChoice
from desktop_app.printing.cups import CupsBackend
from desktop_app.printing.job import Control, PrintJob, PrintOutcome
from tests.support.cups_server import CupsServer, cannot_run_reason, job_number, running_cups
from tests.test_slips import receipt
from ui import messages
from ui.print_dialog import PrintDialog
from ui.slip_preview import SlipPreviewDialog, fit_size

pytestmark = [pytest.mark.gui, pytest.mark.nodb]

INSTALLED = ["Brother HL-L2321D", "Canon LBP2900"]


@pytest.fixture(scope="module")
def slip_a5() -> bytes:
    return render_receipt(receipt(), "A5")


@pytest.fixture(autouse=True)
def quiet_boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(messages, "error", lambda _p, m, *a, **k: shown.append(m))
    return shown


@pytest.fixture(scope="module")
def cups() -> Iterator[CupsServer]:
    with running_cups("Canon_LBP2900", "Brother_HL") as server:
        yield server


class SlowBackend:
    """A printer backend that takes as long as the test wants: it reports progress and
    then waits until released (or cancelled)."""

    name = "slow"
    made: ClassVar[list[SlowBackend]] = []  # released after each test: a failure blocks no thread

    def __init__(self) -> None:
        SlowBackend.made.append(self)
        self.started = threading.Event()
        self.release = threading.Event()
        self.thread: threading.Thread | None = None
        self.jobs: list[PrintJob] = []

    def print_pdf(self, job: PrintJob, control: Control) -> PrintOutcome:
        self.thread = threading.current_thread()
        self.jobs.append(job)
        control.progress(1, 4, "Đang in trang 1/2…")
        self.started.set()
        while not self.release.wait(0.01):
            control.check()
        control.progress(4, 4, "")
        return PrintOutcome(job.printer, job.copies, 2, self.name, "slow-1")


@pytest.fixture(autouse=True)
def release_slow_backends() -> Iterator[None]:
    yield
    for backend in SlowBackend.made:
        backend.release.set()
    SlowBackend.made.clear()
    QThreadPool.globalInstance().waitForDone(10_000)


def preview(qtbot: Any, pdf: bytes, **kwargs: Any) -> SlipPreviewDialog:
    kwargs.setdefault("printers", PrinterChoice(INSTALLED, "Brother HL-L2321D",
                                                "Canon LBP2900"))
    dialog = SlipPreviewDialog(pdf, "Giấy tiếp nhận — 000.00.12.H12-231027-1001",
                               "phieu.pdf", **kwargs)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):  # shortcuts (Ctrl+P) work in the active window
        dialog.show()
        dialog.activateWindow()
    return dialog


def test_preview_tells_the_clerk_when_an_a5_receipt_came_on_a4(qtbot: Any,
                                                                slip_a5: bytes) -> None:
    long = render_receipt(receipt(8), "A5")  # eight components: not one A5 page per copy
    dialog = preview(qtbot, long, expected_paper="A5")
    assert dialog.paper == "A4"
    assert "không vừa một trang A5 mỗi liên" in dialog.hint.text()
    assert "hãy in trên giấy A4" in dialog.hint.text()
    short = preview(qtbot, slip_a5, expected_paper="A5")
    assert short.paper == "A5" and "không vừa" not in short.hint.text()


def wait_idle(qtbot: Any, dialog: SlipPreviewDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)


# --- one key ---------------------------------------------------------------------------------


def test_ctrl_p_prints_at_once_to_the_counters_printer_through_cups(
        qtbot: Any, cups: CupsServer, slip_a5: bytes) -> None:
    choice = PrinterChoice(["Brother_HL", "Canon_LBP2900"], "Brother_HL", "Canon_LBP2900")
    dialog = preview(qtbot, slip_a5, printers=choice, backend=CupsBackend(env=cups.env),
                     printer_name="Canon_LBP2900")
    assert "Ctrl+P: in ngay ra “Canon_LBP2900” (1 bản, A5)" in dialog.hint.text()
    assert "Liên 1 lưu tại bộ phận một cửa, Liên 2 giao người nộp hồ sơ" in dialog.hint.text()
    with qtbot.waitSignal(dialog.printed, timeout=30_000) as sent:
        QTest.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    outcome = sent.args[0]
    assert outcome.printer == "Canon_LBP2900" and outcome.copies == 1
    job = job_number(outcome.job_id)
    assert cups.spooled(job) == slip_a5
    attrs = cups.job_attributes(job)
    assert (attrs["copies"], attrs["media"]) == ("1", "A5")
    assert "Đã gửi phiếu tới máy in “Canon_LBP2900”: 1 bản × 2 trang" in dialog.status.text()
    assert dialog.status.objectName() == "ok" and dialog.progress.isHidden()


def test_ctrl_p_without_a_provisioned_printer_uses_the_default(qtbot: Any,
                                                               slip_a5: bytes) -> None:
    backend = SlowBackend()
    backend.release.set()
    dialog = preview(qtbot, slip_a5, backend=backend,
                     printers=PrinterChoice(INSTALLED, "Brother HL-L2321D", ""))
    with qtbot.waitSignal(dialog.printed, timeout=10_000):
        QTest.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert [(j.printer, j.copies, j.paper) for j in backend.jobs] == [
        ("Brother HL-L2321D", 1, "A5")]


def test_ctrl_p_with_the_provisioned_printer_missing_says_where_it_printed(
        qtbot: Any, slip_a5: bytes) -> None:
    backend = SlowBackend()
    backend.release.set()
    dialog = preview(qtbot, slip_a5, backend=backend,
                     printers=PrinterChoice(INSTALLED, "Brother HL-L2321D", "Canon LBP3000"))
    with qtbot.waitSignal(dialog.printed, timeout=10_000):
        QTest.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert backend.jobs[0].printer == "Brother HL-L2321D"
    assert "Máy in biên nhận “Canon LBP3000” chưa được cài trên máy này" in dialog.status.text()


# --- the picker ------------------------------------------------------------------------------


def test_picker_defaults(qtbot: Any, slip_a5: bytes) -> None:
    choice = PrinterChoice(INSTALLED, "Brother HL-L2321D", "Canon LBP2900")
    picker = PrintDialog(choice, "A5", True)
    qtbot.addWidget(picker)
    assert picker.windowTitle() == "In phiếu"
    assert picker.settings().printer == "Canon LBP2900"
    assert picker.printer.currentText() == "Canon LBP2900  (máy in biên nhận của quầy)"
    assert picker.printer.itemText(0) == "Brother HL-L2321D  (mặc định)"
    assert picker.settings().copies == 1 and picker.settings().paper == "A5"
    assert picker.missing.isHidden()


def test_picker_shows_a_provisioned_printer_that_is_not_installed(qtbot: Any) -> None:
    choice = PrinterChoice(INSTALLED, "Brother HL-L2321D", "Canon LBP3000")
    picker = PrintDialog(choice, "A4", True)
    qtbot.addWidget(picker)
    assert picker.settings().printer == "Brother HL-L2321D"
    last = picker.printer.count() - 1
    assert picker.printer.itemText(last) == "Canon LBP3000  (chưa cài trên máy này)"
    assert not picker.printer.model().item(last).isEnabled()  # type: ignore[attr-defined]
    assert "“Canon LBP3000” chưa được cài" in picker.missing.text()
    assert not picker.missing.isHidden()


def test_picker_keyboard_flow_from_ctrl_shift_p(qtbot: Any, slip_a5: bytes) -> None:
    backend = SlowBackend()
    backend.release.set()
    dialog = preview(qtbot, slip_a5, backend=backend)
    QTest.keyClick(dialog, Qt.Key.Key_P,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: dialog.picker is not None and dialog.picker.isVisible())
    picker = dialog.picker
    assert picker is not None
    assert any("Mỗi bản in gồm đủ Liên 1" in w.text() for w in picker.findChildren(QLabel))
    qtbot.waitUntil(lambda: QApplication.focusWidget() is picker.printer)
    QTest.keyClick(picker.printer, Qt.Key.Key_Up)  # Canon → Brother
    QTest.keyClick(picker.printer, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is picker.copies
    picker.copies.selectAll()
    QTest.keyClicks(picker.copies, "2")
    QTest.keyClick(picker.copies, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is picker.paper
    QTest.keyClick(picker.paper, Qt.Key.Key_Up)  # A5 → A4
    with qtbot.waitSignal(dialog.printed, timeout=10_000):
        QTest.keyClick(picker.paper, Qt.Key.Key_Return)
    assert [(j.printer, j.copies, j.paper) for j in backend.jobs] == [
        ("Brother HL-L2321D", 2, "A4")]
    assert "2 bản × 2 trang" in dialog.status.text()


def test_picker_escape_prints_nothing(qtbot: Any, slip_a5: bytes) -> None:
    backend = SlowBackend()
    dialog = preview(qtbot, slip_a5, backend=backend)
    dialog.print_with_picker()
    picker = dialog.picker
    assert picker is not None
    QTest.keyClick(picker, Qt.Key.Key_Escape)
    assert not picker.isVisible() and backend.jobs == [] and not dialog.busy()


def test_documents_without_two_copies_say_nothing_about_lien(qtbot: Any) -> None:
    from desktop_app.scanning.separators import SeparatorSpec, render_separator_sheets

    pdf = render_separator_sheets([SeparatorSpec("000.00.12.H12-231027-1001", "TP01", 1),
                                   SeparatorSpec("000.00.12.H12-231027-1001", "TP02", 2)])
    dialog = preview(qtbot, pdf, backend=SlowBackend())
    assert "Liên" not in dialog.hint.text() and not dialog.two_copies


# --- off the UI thread -----------------------------------------------------------------------


def test_printing_runs_off_the_ui_thread_and_the_ui_keeps_working(qtbot: Any,
                                                                  slip_a5: bytes) -> None:
    backend = SlowBackend()
    dialog = preview(qtbot, slip_a5, backend=backend)
    ticks: list[bool] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(backend.started.is_set()))
    timer.start(5)
    QTest.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(backend.started.is_set, timeout=10_000)
    # While the backend works, the UI thread runs timers and shows progress.
    qtbot.waitUntil(lambda: ticks.count(True) >= 5, timeout=10_000)
    assert dialog.busy() and dialog.progress.isVisible()
    qtbot.waitUntil(lambda: dialog.status.text() == "Đang in trang 1/2…")
    assert not dialog.print_btn.isEnabled()
    QTest.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # ignored
    assert backend.thread is not threading.main_thread()
    with qtbot.waitSignal(dialog.printed, timeout=10_000):
        backend.release.set()
    timer.stop()
    assert len(backend.jobs) == 1 and dialog.print_btn.isEnabled()


def test_closing_mid_print_lets_the_job_finish_without_crashing(qtbot: Any,
                                                               slip_a5: bytes) -> None:
    backend = SlowBackend()
    dialog = preview(qtbot, slip_a5, backend=backend)
    done: list[object] = []
    dialog.printed.connect(done.append)
    dialog.print_now()
    qtbot.waitUntil(backend.started.is_set, timeout=10_000)
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    backend.release.set()
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    assert done[0].job_id == "slow-1"  # type: ignore[attr-defined]


def test_deleting_the_dialog_mid_print_does_not_crash(qtbot: Any, slip_a5: bytes) -> None:
    backend = SlowBackend()
    dialog = SlipPreviewDialog(slip_a5, "Giấy tiếp nhận", "phieu.pdf", backend=backend,
                               printers=PrinterChoice(INSTALLED, "Brother HL-L2321D", ""))
    dialog.show()
    dialog.print_now()
    qtbot.waitUntil(backend.started.is_set, timeout=10_000)
    dialog.close()
    dialog.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=10_000)
    backend.release.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    QApplication.processEvents()  # the finished job's queued signals reach nobody


# --- errors ----------------------------------------------------------------------------------


def test_a_printer_that_is_gone_is_reported_in_vietnamese(qtbot: Any, cups: CupsServer,
                                                          slip_a5: bytes) -> None:
    choice = PrinterChoice(["May_in_da_go"], "", "May_in_da_go")
    dialog = preview(qtbot, slip_a5, printers=choice, backend=CupsBackend(env=cups.env))
    with qtbot.waitSignal(dialog.print_failed, timeout=30_000) as failed:
        QTest.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert failed.args[0].startswith("Không tìm thấy máy in “May_in_da_go”")
    assert dialog.status.text() == failed.args[0] and dialog.status.objectName() == "error"
    assert dialog.print_btn.isEnabled() and dialog.progress.isHidden()


def test_cups_down_is_reported_in_vietnamese(qtbot: Any, tmp_path: Any,
                                             slip_a5: bytes) -> None:
    if cannot_run_reason().startswith("CUPS tools"):
        pytest.skip("CUPS client not installed")
    env = {"CUPS_SERVER": str(tmp_path / "no-cupsd.sock"), "PATH": "/usr/bin:/bin"}
    dialog = preview(qtbot, slip_a5, backend=CupsBackend(env=env))
    with qtbot.waitSignal(dialog.print_failed, timeout=30_000) as failed:
        dialog.print_now()
    assert "Dịch vụ in của máy tính không chạy" in failed.args[0]


def test_a_failure_after_closing_is_shown_over_the_main_window(
        qtbot: Any, slip_a5: bytes, quiet_boxes: list[str]) -> None:
    class Failing(SlowBackend):
        def print_pdf(self, job: PrintJob, control: Control) -> PrintOutcome:
            super().print_pdf(job, control)
            from desktop_app.printing.errors import PrinterNotFound

            raise PrinterNotFound(job.printer)

    main = QWidget()
    qtbot.addWidget(main)
    main.show()
    backend = Failing()
    dialog = preview(qtbot, slip_a5, backend=backend, parent=main)
    dialog.print_now()
    qtbot.waitUntil(backend.started.is_set, timeout=10_000)
    dialog.accept()
    backend.release.set()
    qtbot.waitUntil(lambda: bool(quiet_boxes), timeout=10_000)
    assert quiet_boxes[0].startswith("Không tìm thấy máy in “Canon LBP2900”")


# --- fits the screen -------------------------------------------------------------------------


@pytest.mark.parametrize("available", [
    QRect(0, 0, 1024, 728),  # 1024×768, taskbar 40 px
    QRect(0, 0, 1092, 582),  # 1366×768 at 125 % (device-independent pixels), taskbar
    QRect(0, 0, 800, 560),
], ids=["1024x768", "1366x768@125", "800x600"])
def test_preview_fits_the_screen_with_its_buttons_visible(qtbot: Any, slip_a5: bytes,
                                                          available: QRect) -> None:
    dialog = preview(qtbot, slip_a5, backend=SlowBackend())
    dialog.fit_to_screen(available)
    qtbot.wait(50)
    frame = dialog.frameGeometry()
    assert available.contains(frame), (frame, available)
    if available.width() >= 1024:  # the target share; a smaller screen gets the minimum
        assert frame.height() <= available.height() * 0.9 + 1
    for button in (dialog.save_btn, dialog.close_btn, dialog.choose_btn, dialog.print_btn):
        rect = QRect(button.mapToGlobal(QPoint(0, 0)), button.size())
        assert available.contains(rect), (button.text(), rect, available)
        assert button.isVisible()
    assert dialog.view.height() > 200  # still a useful preview


def test_fit_size_arithmetic() -> None:
    assert fit_size(QRect(0, 0, 1920, 1040)).height() == 936  # 90 % (preferred 1000)
    assert fit_size(QRect(0, 0, 1920, 1200)).height() == 1000  # the preferred size
    assert fit_size(QRect(0, 0, 1024, 728)).width() == 900
    small = fit_size(QRect(0, 0, 500, 380))
    assert (small.width(), small.height()) == (500, 380)  # never larger than the screen
