"""Crashes are never silent: an exception in a Qt slot, in a thread, or a Qt warning
reaches the log even when the GUI runs without a console (``sys.stderr`` is None, as in
the windowed Windows build), citizen data redacted; the clerk is told once."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import qWarning
from PySide6.QtWidgets import QApplication, QPushButton

from desktop_app.logging_setup import GUI, LOG_FILES, setup_logging
from ui.crash import CRASH_LOG, CrashReporter

pytestmark = [pytest.mark.gui, pytest.mark.nodb, pytest.mark.qt_no_exception_capture]


@pytest.fixture
def reporter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CrashReporter]:
    monkeypatch.setattr(sys, "stderr", None)
    root = logging.getLogger()
    before = list(root.handlers)
    setup_logging(tmp_path / "logs", kind=GUI)  # with no console to write to, the file only
    crashes = CrashReporter()
    crashes.install()
    crashes.native_crashes_to(tmp_path / "logs")
    yield crashes
    crashes.uninstall()
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)
        handler.close()


def _log(tmp_path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return (tmp_path / "logs" / LOG_FILES[GUI]).read_text(encoding="utf-8")


def test_exception_in_a_slot_reaches_the_log_without_a_console(
        qtbot, reporter: CrashReporter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    told: list[str] = []
    reporter.signals.failed.connect(told.append)
    button = QPushButton("Tiếp nhận")
    qtbot.addWidget(button)

    def receive_for_the_citizen() -> None:
        raise RuntimeError("hỏng khi lưu hồ sơ của 001099012345")

    button.clicked.connect(receive_for_the_citizen)
    button.click()
    text = _log(tmp_path)
    assert "CRITICAL motcua.crash: unexpected RuntimeError in main thread" in text
    assert "receive_for_the_citizen" in text  # the traceback, for the technician
    assert "001099012345" not in text and "[ID]" in text
    assert told == ["RuntimeError (main thread)"]
    assert (tmp_path / "logs" / CRASH_LOG).is_file()  # native crashes have a place too


def test_exception_in_a_thread_and_qt_warnings_reach_the_log(
        qtbot, reporter: CrashReporter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    told: list[str] = []
    reporter.signals.failed.connect(told.append)

    def sync_in_background() -> None:
        raise ValueError("đường truyền đứt")

    worker = threading.Thread(target=sync_in_background, name="dong-bo")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(told))  # queued to the UI thread
    qWarning("QPdfDocument: không mở được tệp")
    text = _log(tmp_path)
    assert "unexpected ValueError in thread dong-bo" in text
    assert "WARNING qt: QPdfDocument: không mở được tệp" in text
    assert told == ["ValueError (thread dong-bo)"]
    QApplication.processEvents()
