"""The window's sync indicator follows the worker's probes, and the OS's network-change
signal reaches the worker: real gateway over loopback behind the fault proxy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtNetwork import QNetworkInformation
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.service import SyncService
from local_db.models import OutboxEntry
from provincial_gateway.server import GatewayServer
from tests.support.fault_proxy import FaultProxy, LinkProfile
from ui.main_window import MainWindow
from ui.network_watch import NetworkWatch
from ui.sync_panel import SyncBridge

from ..test_intake import TEST_CATALOG
from .test_sync_engine import receive

pytestmark = pytest.mark.gui

Reach = QNetworkInformation.Reachability


@pytest.fixture
def proxy(gateway: GatewayServer) -> Iterator[FaultProxy]:
    with FaultProxy(gateway.host, gateway.port) as p:
        yield p


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
           proxy: FaultProxy, station_token: str):
    station = StationService(ctx).save(replace(station, gateway_url=proxy.url_for()))
    SyncService(ctx).set_token(station_token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    win = MainWindow(ctx, clerk, station)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.sync.stop()
    win.runner.wait()


def test_status_bar_shows_offline_at_the_failed_probe_and_online_at_the_next(
        qtbot, window: MainWindow, ctx: AppContext, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
        proxy: FaultProxy) -> None:
    label = window.sync_label
    qtbot.waitUntil(lambda: "Trực tuyến · hàng đợi trống" in label.text(), timeout=15_000)
    proxy.set_profile(LinkProfile(offline=True))
    # The network-change handler, called as the Qt signal calls it: the worker, idle
    # for a minute otherwise, probes now.
    window.sync.network.on_reachability(Reach.Disconnected)
    qtbot.waitUntil(lambda: "Ngoại tuyến" in label.text(), timeout=10_000)
    assert label.property("state") == "warn"
    # A dossier received now waits; the indicator was offline before any send was tried.
    receive(ctx, clerk)
    window.sync.worker.wake()
    qtbot.waitUntil(lambda: "Ngoại tuyến · 1 chờ gửi" in label.text(), timeout=10_000)
    with ctx.db.read() as s:
        assert all(e.attempts == 0 for e in s.scalars(select(OutboxEntry)))

    proxy.set_profile(LinkProfile())
    window.sync.network.on_reachability(Reach.Online)
    qtbot.waitUntil(lambda: "Trực tuyến · hàng đợi trống" in label.text(), timeout=15_000)


def test_the_network_signal_is_connected_to_the_worker(qtbot, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    bridge = SyncBridge(ctx)
    info = bridge.network.info
    if info is None:
        pytest.skip("no QNetworkInformation backend on this machine")
    turns: list[object] = []
    bridge.changed.connect(turns.append)
    bridge.worker.poll_s = 3600.0  # nothing but a wake ends its wait
    bridge.start()
    try:
        qtbot.waitUntil(lambda: len(turns) >= 1, timeout=10_000)  # first turn: not configured
        seen = len(turns)
        info.reachabilityChanged.emit(Reach.Online)  # what the OS backend emits
        qtbot.waitUntil(lambda: len(turns) > seen, timeout=10_000)
    finally:
        bridge.stop()


def test_every_handler_nudges_backend_or_not(qtbot) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    watch = NetworkWatch(lambda: calls.append(1))
    watch.on_medium(QNetworkInformation.TransportMedium.Ethernet)
    assert calls == [1]  # every handler nudges, backend or not
    assert watch.active == (QNetworkInformation.instance() is not None)
