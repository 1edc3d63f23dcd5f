"""The sync indicator and panel in the main window, with the real gateway."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.service import SyncService
from provincial_gateway.server import GatewayServer, free_port
from ui.main_window import MainWindow
from ui.sync_panel import SyncPanel

from ..test_intake import TEST_CATALOG
from .test_sync_engine import gateway_dossiers, receive

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
           gateway: GatewayServer, station_token: str):
    station = StationService(ctx).save(replace(station, gateway_url=gateway.url))
    SyncService(ctx).set_token(station_token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    win = MainWindow(ctx, clerk, station)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.sync.stop()
    win.runner.wait()


def test_indicator_goes_online_and_the_queue_drains(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                    ctx: AppContext, clerk: ClerkInfo,
                                                    gateway: GatewayServer) -> None:
    qtbot.waitUntil(lambda: "Trực tuyến" in window.sync_label.text(), timeout=10_000)
    uuid = receive(ctx, clerk)
    window.sync.worker.wake()
    qtbot.waitUntil(lambda: [d["client_id"] for d in gateway_dossiers(gateway)] == [uuid],
                    timeout=10_000)
    qtbot.waitUntil(lambda: "hàng đợi trống" in window.sync_label.text(), timeout=10_000)


def test_offline_indicator_panel_and_retry(qtbot, window: MainWindow, ctx: AppContext,  # type: ignore[no-untyped-def]
                                           clerk: ClerkInfo, gateway: GatewayServer) -> None:
    qtbot.waitUntil(lambda: window.sync.state.online is True, timeout=10_000)
    stations = StationService(ctx)
    stations.save(replace(stations.require(), gateway_url=f"http://127.0.0.1:{free_port()}"))
    # Offline first: a worker run already under way (the idle poll sends new rows at
    # once) would otherwise still send the dossier over the old link.
    window.sync.worker.wake()
    qtbot.waitUntil(lambda: window.sync.state.online is False, timeout=10_000)
    receive(ctx, clerk)
    window.sync.worker.wake()
    qtbot.waitUntil(lambda: "Ngoại tuyến · 1 chờ gửi" in window.sync_label.text(),
                    timeout=10_000)

    panel = SyncPanel(window.sync, window)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=5000)
    assert panel.table.item(0, 0).text() == "Hồ sơ"
    assert panel.table.item(0, 2).text() == "Chờ gửi"
    assert "Ngoại tuyến" in panel.header.text()

    # The link comes back; "sync now" (F5) sends at once instead of waiting for the probe.
    stations.save(replace(stations.require(), gateway_url=gateway.url))
    qtbot.keyClick(panel, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: len(gateway_dossiers(gateway)) == 1, timeout=15_000)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 0, timeout=10_000)
    assert panel.empty.isVisible()
