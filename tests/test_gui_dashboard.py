"""Dashboard (F10): figures from a database built through the real services, charts drawn,
charts exported as PNG."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCharts import QBarSeries
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.intake.returns import Receiver, ReturnService
from desktop_app.intake.service import IntakeService
from desktop_app.station import StationInfo
from local_db.models import Dossier
from tests.support.shots import shot
from ui.main_window import MainWindow

from .test_intake import TEST_CATALOG, complete_draft

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
           clock: FixedClock):
    CatalogService(ctx).import_data(TEST_CATALOG)
    intake = IntakeService(ctx)
    ids = []
    for day in (2, 3, 3):
        clock.set(datetime(2023, 10, day, 9, 0))
        ids.append(intake.receive(complete_draft(intake), clerk).dossier_id)
    clock.set(datetime(2023, 10, 4, 10, 0))
    with ctx.db.write() as s:
        s.get(Dossier, ids[0]).status = 9  # type: ignore[union-attr]
    ReturnService(ctx).record_return(ids[0], Receiver("Nguyễn Thị Ánh Tuyết"), clerk,
                                     handover="electronic")
    clock.set(datetime(2023, 10, 31, 16, 0))
    win = MainWindow(ctx, clerk, station)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.sync.stop()
    win.runner.wait()


def test_dashboard_shows_the_month_and_exports_charts(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F10)
    page = window.dashboard
    qtbot.waitUntil(lambda: page.figures is not None, timeout=10_000)
    f = page.figures
    assert f is not None and (f.received, f.returned) == (3, 1)
    assert page.kpis["received"].value.text() == "3"
    assert page.kpis["on_time"].value.text() == "100,0 %"
    assert page.range_label.text() == "01/10/2023 – 31/10/2023"
    # The province's three figures, each with its count and base.
    province = page.province
    assert province["electronic"].value.text() == "1/1 — 100,0 %"  # handed electronically
    assert province["digitized_result"].value.text() == "0/1 — 0,0 %"  # nothing scanned
    assert province["reuse"].value.text() == "0/3 — 0,0 %"
    shot("dashboard-province-figures", window)
    for card in province.values():
        assert card.isVisible() and card.value.width() >= card.value.sizeHint().width()
    labels = [lbl.text() for lbl in page.findChildren(QLabel)]
    assert "Ba chỉ số của tỉnh" in labels
    assert "hồ sơ có kết quả điện tử" in labels
    assert "trên hồ sơ tiếp nhận trong kỳ" in labels
    [series] = page.daily.series()
    assert isinstance(series, QBarSeries)
    received = series.barSets()[0]
    assert [received.at(i) for i in range(3)] == [0, 1, 2]  # 1, 2 and 3 October
    paths = page.save_charts(tmp_path)
    assert len(paths) == 3
    for path in paths:
        with Image.open(path) as im:
            assert im.format == "PNG" and im.width > 200 and im.height > 150
