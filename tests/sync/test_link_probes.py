"""The worker's probes against the real gateway behind the fault proxy: capped while a
dossier waits, and a failed probe (not a failed send) is what turns the state offline.
Delays are checked on what the worker computed, never on the wall clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.station import StationService
from desktop_app.sync.probe_schedule import PROBE_WAITING_CAP_S
from desktop_app.sync.service import SyncService
from desktop_app.sync.worker import SyncWorker, WorkerState
from local_db.models import OutboxEntry
from provincial_gateway.server import GatewayServer
from tests.support.fault_proxy import FaultProxy, LinkProfile
from tests.support.gateway_fixtures import add_station
from ui.sync_panel import indicator_text

from ..conftest import TEST_STATION
from ..test_intake import TEST_CATALOG
from .test_sync_engine import gateway_dossiers, receive

WAIT_S = 25.0  # a ceiling for each condition; the tests go on as soon as it holds
OFFLINE = LinkProfile(offline=True)


class Recorder:
    """Every state the worker publishes; waits for a number of them to match."""

    def __init__(self) -> None:
        self.seen: list[WorkerState] = []
        self._cond = threading.Condition()

    def __call__(self, state: WorkerState) -> None:
        with self._cond:
            self.seen.append(state)
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.seen)

    def wait(self, ok: Callable[[WorkerState], bool], what: str, n: int = 1,
             since: int = 0) -> list[WorkerState]:
        def hits() -> list[WorkerState]:
            return [s for s in self.seen[since:] if ok(s)]

        with self._cond:
            if not self._cond.wait_for(lambda: len(hits()) >= n, WAIT_S):
                raise AssertionError(f"worker never reached {what} ×{n}; last {self.seen[-1:]}")
            return hits()


def idle_online(s: WorkerState) -> bool:
    return s.online is True and not s.running and s.queue is not None and s.queue.pending == 0


@pytest.fixture
def proxy(gateway: GatewayServer) -> Iterator[FaultProxy]:
    with FaultProxy(gateway.host, gateway.port) as p:
        yield p


@pytest.fixture
def clerk_via_proxy(ctx: AppContext, gateway: GatewayServer, proxy: FaultProxy) -> ClerkInfo:
    StationService(ctx).save(replace(TEST_STATION, gateway_url=proxy.url_for()))
    SyncService(ctx).set_token(add_station(gateway))
    CatalogService(ctx).import_data(TEST_CATALOG)
    return AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                            Role.CLERK)


@pytest.fixture
def worker(ctx: AppContext) -> Iterator[tuple[SyncWorker, Recorder]]:
    states = Recorder()
    # The default probe policy, as the window and `motcua sync` run it.
    w = SyncWorker(SyncService(ctx), listener=states, interval_s=3600.0, poll_s=0.2)
    yield w, states
    w.stop()


def sends_tried(ctx: AppContext) -> int:
    with ctx.db.read() as s:
        return sum(e.attempts for e in s.scalars(select(OutboxEntry)))


def test_probes_stay_under_the_cap_while_a_dossier_waits(
        ctx: AppContext, gateway: GatewayServer, proxy: FaultProxy,
        clerk_via_proxy: ClerkInfo, worker: tuple[SyncWorker, Recorder]) -> None:
    w, states = worker
    w.start()
    states.wait(idle_online, "online with an empty queue")
    proxy.set_profile(OFFLINE)
    at = states.mark()
    w.probe_now()  # as the OS's network-change signal does
    [idle] = states.wait(lambda s: s.online is False, "offline", since=at)
    # Nothing waits: the next probe may take its time (the commune link, the battery).
    assert idle.next_probe_s is not None and idle.next_probe_s > PROBE_WAITING_CAP_S

    uuid = receive(ctx, clerk_via_proxy)
    at = states.mark()
    w.wake()  # as the window does after Receive
    waiting = states.wait(lambda s: s.online is False and bool(s.queue and s.queue.pending),
                          "offline with the dossier waiting", n=4, since=at)
    delays = [s.next_probe_s for s in waiting]
    assert all(d is not None and 0 < d <= PROBE_WAITING_CAP_S for d in delays), delays
    assert sends_tried(ctx) == 0  # probes only: nothing was sent into the dead link

    proxy.set_profile(LinkProfile())
    states.wait(idle_online, "the dossier acknowledged", since=states.mark())
    assert [d["client_id"] for d in gateway_dossiers(gateway)] == [uuid]


def test_a_failed_probe_turns_the_state_offline_before_any_send(
        ctx: AppContext, proxy: FaultProxy, clerk_via_proxy: ClerkInfo,
        worker: tuple[SyncWorker, Recorder]) -> None:
    w, states = worker
    w.start()
    states.wait(idle_online, "online with an empty queue")
    proxy.set_profile(OFFLINE)
    at = states.mark()
    w.probe_now()
    [offline] = states.wait(lambda s: s.online is False, "offline", since=at)
    # What the status bar reads: offline at once, with nothing queued and no send tried.
    assert indicator_text(offline) == ("● Ngoại tuyến · hàng đợi trống", "warn")
    assert offline.last_report is not None and offline.last_report.errors == []
    assert sends_tried(ctx) == 0

    proxy.set_profile(LinkProfile())
    at = states.mark()
    w.probe_now()
    [back] = states.wait(lambda s: s.online is True, "online again", since=at)
    assert indicator_text(back)[0].startswith("● Trực tuyến")


def test_a_network_change_wakes_a_long_wait_with_a_probe(
        ctx: AppContext, proxy: FaultProxy, clerk_via_proxy: ClerkInfo,
        worker: tuple[SyncWorker, Recorder]) -> None:
    """Idle and online, the worker would sleep an hour (interval_s): only the nudge can
    bring the next probe within the test's wait."""
    w, states = worker
    w.start()
    states.wait(idle_online, "online with an empty queue")
    proxy.reset_counters()
    at = states.mark()
    w.probe_now()
    states.wait(lambda s: s.online is True, "a probe's answer", since=at)
    assert proxy.connections >= 1  # the probe went out on the link
    # A probe only: no run was due, so nothing was pushed or pulled.
    assert all(not s.running for s in states.seen[at:])
