"""Power cut mid-intake: a real app process (tests/support/intake_child.py) is killed with
SIGKILL after its draft was saved; the next start offers "Tiếp tục hồ sơ đang nhập dở"
and brings the wizard back at the same step with what was typed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.intake.draft_store import DraftStore
from desktop_app.station import StationInfo
from ui.main_window import MainWindow

from .test_intake import TEST_CATALOG

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[1]


def child_env() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MOTCUA_NO_KEYRING="1")
    env.pop("MOTCUA_DATA_DIR", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def run_until_saved(ctx: AppContext, db_url: str) -> str:
    """Start the app, wait for its "draft saved" line, kill it; returns that line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.intake_child", "--data", str(ctx.paths.root),
         "--db-url", db_url, "--user", "huong", "--password", "mat-khau-1"],
        cwd=REPO, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Only a safety net against a child that hangs: it fails on its own, seen on stdout's end.
    deadline = time.monotonic() + 600
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("draft-saved"):
                proc.send_signal(signal.SIGKILL)  # as a power cut: no close, no cleanup
                proc.wait()
                return line.strip()
            assert time.monotonic() < deadline, "the app never saved its draft"
        raise AssertionError(f"the app ended before saving its draft:\n{proc.stderr.read()}")  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_draft_survives_a_kill_and_is_offered_at_the_next_start(
        qtbot, ctx: AppContext, db_url: str, station: StationInfo,  # type: ignore[no-untyped-def]
        clerk: ClerkInfo) -> None:
    CatalogService(ctx).import_data(TEST_CATALOG)
    line = run_until_saved(ctx, db_url)
    assert line == "draft-saved 3"
    stored = DraftStore(ctx).load()
    assert stored is not None and stored.saved.step == 3

    window = MainWindow(ctx, clerk, station)  # the next start, after login
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.home.draft_box.isVisible(), timeout=10_000)
    text = window.home.draft_label.text()
    assert "chủ hồ sơ Đặng Thị Hồng Nhung" in text and "bước 4/5" in text
    assert window.home.resume_btn.text() == "Tiếp tục hồ sơ đang nhập &dở"
    window.home.resume_btn.click()
    intake = window.intake
    qtbot.waitUntil(lambda: intake.step == 3)
    owner = intake.applicant_step.owner
    assert (owner.full_name.text(), owner.id_number.text(), owner.birth_date.text(),
            owner.phone.text()) == ("Đặng Thị Hồng Nhung", "019190004321", "29/02/1996",
                                    "0912 888 999")
    table = intake.components_step.table
    assert [table.item(r, 0).checkState() == Qt.CheckState.Checked for r in range(3)] == [
        True, True, False]
    assert intake.delivery_step.set_count.value() == 3
    # What was typed after the last save may be lost (at most the autosave delay's worth);
    # what was saved is never lost.
    assert intake.delivery_step.note.toPlainText().startswith("Ghi chú đã lưu")
    window.runner.wait()

