"""The intake wizard when the commune's data server goes away just as Receive is pressed:
the clerk reads why, keeps everything entered, and presses Receive again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.startup import open_station
from desktop_app.station import StationService
from local_db.models import Dossier
from tests.support.fault_proxy import FaultProxy, LinkProfile
from ui.main_window import MainWindow
from ui.slip_preview import SlipPreviewDialog
from ui.wedge import WedgeScanFilter

from .conftest import TEST_STATION
from .test_gui_intake import CARD, key, scan_text, type_text
from .test_intake import TEST_CATALOG

pytestmark = [pytest.mark.gui, pytest.mark.server]

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def proxied(tmp_path: Path, pg_url: str) -> Iterator[tuple[AppContext, FaultProxy]]:
    url = make_url(pg_url)
    with FaultProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        db_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        ctx = open_station(tmp_path / "data", db_url=db_url,
                           clock=FixedClock(datetime(2023, 10, 27, 9, 32)))
        try:
            yield ctx, proxy
        finally:
            ctx.close()


def test_receive_again_once_the_server_is_back(qtbot, proxied) -> None:  # type: ignore[no-untyped-def]
    ctx, proxy = proxied
    station = StationService(ctx).save(replace(TEST_STATION, station_digit=1))
    clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                             Role.CLERK)
    CatalogService(ctx).import_data(TEST_CATALOG)
    window = MainWindow(ctx, clerk, station)
    wedge = WedgeScanFilter(window)
    wedge.install(QApplication.instance())  # type: ignore[arg-type]
    wedge.scanned.connect(window.on_scanned)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    # The focus in this window: a window of an earlier test may still be closing.
    qtbot.waitUntil(lambda: (w := QApplication.focusWidget()) is not None
                    and w.window() is window)
    intake = window.intake
    try:
        key(qtbot, Qt.Key.Key_F2)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.proc_step.search)
        type_text(None, "xac nhan thu nghiem")
        qtbot.waitUntil(lambda: intake.proc_step.results.count() == 1)
        key(qtbot, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.applicant_step.owner.full_name)
        scan_text(CARD)
        for step in (2, 3, 4):
            key(qtbot, Qt.Key.Key_Return, CTRL)
            if step == 3:
                key(qtbot, Qt.Key.Key_A, CTRL)  # tick every required component
            qtbot.waitUntil(lambda s=step: intake.step == s)  # type: ignore[misc]
            if step == 2:
                qtbot.waitUntil(lambda: QApplication.focusWidget()
                                is intake.components_step.table)
                key(qtbot, Qt.Key.Key_A, CTRL)
        assert intake.receive_btn.isEnabled()

        proxy.set_profile(LinkProfile(offline=True))
        key(qtbot, Qt.Key.Key_Return, CTRL)
        qtbot.waitUntil(lambda: "máy chủ dữ liệu của xã" in intake.error.text(),
                        timeout=20_000)
        assert intake.error.text().startswith(
            f"Không kết nối được máy chủ dữ liệu của xã (127.0.0.1:{proxy.port}).")
        assert intake.step == 4 and intake.receive_btn.isEnabled()
        assert "Hoàng Thị Mai" in intake.review.toPlainText()  # nothing entered was lost

        proxy.set_profile(LinkProfile())
        intake.receive_btn.setFocus()
        key(qtbot, Qt.Key.Key_Return, CTRL)
        qtbot.waitUntil(lambda: isinstance(getattr(window, "last_preview", None),
                                           SlipPreviewDialog), timeout=20_000)
        assert "000.00.12.H12-231027-1001" in window.last_preview.windowTitle()
        window.last_preview.accept()
        with ctx.db.read() as s:
            assert s.scalar(select(func.count()).select_from(Dossier)) == 1
    finally:
        QApplication.instance().removeEventFilter(wedge)  # type: ignore[union-attr]
        window.runner.wait()
