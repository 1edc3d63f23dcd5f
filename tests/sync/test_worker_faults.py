"""The sync worker outlives its database: a locked SQLite file or a PostgreSQL database
that refuses connections is shown as a fault and retried, and the queue drains once the
database answers again, with the same worker. A worker thread that dies anyway is
started again by ensure_alive(). All against the real reference gateway over loopback."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import SystemClock
from desktop_app.context import AppContext
from desktop_app.setup.doctor_checks import check_sync_service
from desktop_app.setup.doctor_report import OK, WARN
from desktop_app.station import StationService
from desktop_app.sync.heartbeat import heartbeat_path, read_heartbeat, write_heartbeat
from desktop_app.sync.service import SyncService
from desktop_app.sync.worker import (
    DB_ERROR_LOCAL_VI,
    DB_ERROR_SERVER_VI,
    SyncWorker,
    WorkerState,
)
from local_db import outbox
from local_db.engine import connect_sqlite
from provincial_gateway.server import GatewayServer
from tests.support.gateway_fixtures import add_station

from ..conftest import TEST_STATION
from ..test_intake import TEST_CATALOG
from .test_sync_engine import gateway_dossiers, receive

WAIT_S = 25.0  # a generous ceiling for each condition; the tests end as soon as it holds


class States:
    """Every state the worker publishes, and a wait for one that satisfies a condition."""

    def __init__(self) -> None:
        self.seen: list[WorkerState] = []
        self._cond = threading.Condition()

    def __call__(self, state: WorkerState) -> None:
        with self._cond:
            self.seen.append(state)
            self._cond.notify_all()

    def wait_for(self, ok: Callable[[WorkerState], bool], what: str) -> WorkerState:
        with self._cond:
            if not self._cond.wait_for(lambda: any(ok(s) for s in self.seen), WAIT_S):
                last = self.seen[-1] if self.seen else None
                raise AssertionError(f"worker never reached: {what}; last state {last}")
            return [s for s in self.seen if ok(s)][-1]

    def clear(self) -> None:
        with self._cond:
            self.seen = []


def sent_some(s: WorkerState) -> bool:
    return drained(s) and s.last_report is not None and s.last_report.dossiers_sent > 0


def drained(s: WorkerState) -> bool:
    return (s.online is True and not s.running and not s.db_error and s.queue is not None
            and s.queue.pending == 0)


def configure(ctx: AppContext, gateway: GatewayServer, digit: int = 1) -> ClerkInfo:
    StationService(ctx).save(replace(TEST_STATION, station_digit=digit,
                                     gateway_url=gateway.url))
    SyncService(ctx).set_token(add_station(gateway, digit=digit))
    CatalogService(ctx).import_data(TEST_CATALOG)
    return AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                            Role.CLERK)


@pytest.fixture
def make_worker() -> Iterator[Callable[..., SyncWorker]]:
    workers: list[SyncWorker] = []

    def make(ctx: AppContext, listener: States, cls: type[SyncWorker] = SyncWorker,
             **kwargs: object) -> SyncWorker:
        options: dict[str, object] = {"interval_s": 60.0, "poll_s": 0.2,
                                      "db_retry_min_s": 0.3, **kwargs}
        worker = cls(SyncService(ctx), listener=listener, **options)  # type: ignore[arg-type]
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()


def test_sqlite_locked_under_the_worker(ctx: AppContext, gateway: GatewayServer,
                                        make_worker: Callable[..., SyncWorker]) -> None:
    if not ctx.db.is_sqlite:
        pytest.skip("an SQLite lock")
    clerk = configure(ctx, gateway)
    for _ in range(3):
        receive(ctx, clerk)
    path = ctx.db.sqlite_path
    assert path is not None
    # Another process holds the write lock (a backup tool, a stuck clerk's PC on a share):
    # the worker's writes fail with "database is locked" after the busy timeout.
    other = connect_sqlite(path, ctx.db.sqlite_key)
    other.isolation_level = None
    other.execute("BEGIN EXCLUSIVE")
    states = States()
    worker = make_worker(ctx, states)
    worker.start()
    try:
        faulty = states.wait_for(lambda s: bool(s.db_error), "a database fault")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert faulty.db_error == DB_ERROR_LOCAL_VI
    assert worker.alive
    from ui.sync_panel import indicator_text  # the status bar's wording of that state

    assert indicator_text(faulty) == ("● Lỗi cơ sở dữ liệu, đang thử lại", "bad")
    state = states.wait_for(drained, "the queue drained after the lock was released")
    assert state.restarts == 0 and state.db_error == ""
    assert len(gateway_dossiers(gateway)) == 3

    # A new item is noticed by the poll, without wake() and long before interval_s.
    states.clear()
    receive(ctx, clerk)
    states.wait_for(sent_some, "the new row sent")
    assert len(gateway_dossiers(gateway)) == 4


def _pg_admin(server: str):  # type: ignore[no-untyped-def]
    from ..conftest import _pg_admin

    return _pg_admin(server)


def test_postgresql_refusing_connections_under_the_worker(
        pg_ctx: AppContext, pg_server: str, gateway: GatewayServer,
        make_worker: Callable[..., SyncWorker]) -> None:
    clerk = configure(pg_ctx, gateway)
    for _ in range(3):
        receive(pg_ctx, clerk)
    name = pg_ctx.db.url.database
    states = States()
    worker = make_worker(pg_ctx, states)
    # The server goes away for the station's database (as when it is stopped or
    # restarting): every connection is cut and new ones are refused.
    with _pg_admin(pg_server) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        try:
            worker.start()
            faulty = states.wait_for(lambda s: bool(s.db_error), "a database fault")
            assert faulty.db_error == DB_ERROR_SERVER_VI
            assert worker.alive
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    state = states.wait_for(drained, "the queue drained once the server answered")
    assert state.restarts == 0
    assert len(gateway_dossiers(gateway)) == 3

    # Cut again while idle: the pool reconnects and the poll notices the new item.
    with _pg_admin(pg_server) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
    states.clear()
    receive(pg_ctx, clerk)
    states.wait_for(sent_some, "the item queued after the cut sent")
    assert len(gateway_dossiers(gateway)) == 4 and worker.alive


class DiesOnce(SyncWorker):
    """A bug that escapes every handler (BaseException) on the first cycle."""

    died = False

    def _step(self) -> float:
        if not DiesOnce.died:
            DiesOnce.died = True
            raise SystemExit("a bug")
        return super()._step()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_dead_thread_is_restarted(ctx: AppContext, gateway: GatewayServer,
                                  make_worker: Callable[..., SyncWorker],
                                  caplog: pytest.LogCaptureFixture) -> None:
    clerk = configure(ctx, gateway)
    receive(ctx, clerk)
    states = States()
    worker = make_worker(ctx, states, cls=DiesOnce)
    worker.start()
    thread = worker._thread
    assert thread is not None
    thread.join(WAIT_S)
    assert not thread.is_alive() and not worker.alive
    assert "sync worker thread ended without stop()" in caplog.text
    assert worker.ensure_alive()  # what the window's status timer and the service call
    state = states.wait_for(drained, "the queue drained by the restarted thread")
    assert state.restarts == 1 and state.last_beat > 0
    assert "restarting it (restart #1)" in caplog.text
    assert not worker.ensure_alive()  # alive: nothing to do
    assert len(gateway_dossiers(gateway)) == 1


def test_heartbeat_tells_running_stalled_and_stopped(
        ctx: AppContext, gateway: GatewayServer,
        make_worker: Callable[..., SyncWorker]) -> None:
    configure(ctx, gateway)
    root = ctx.paths.root
    assert read_heartbeat(root).level == "none"
    states = States()
    worker = make_worker(ctx, states, heartbeat=heartbeat_path(root))
    worker.start()
    states.wait_for(drained, "a first cycle")
    view = read_heartbeat(root)
    assert view.level == "ok" and view.data["pid"] == os.getpid()
    assert check_sync_service(root).status == OK
    # The same file read 10 minutes later, the process still there: stalled.
    stalled = read_heartbeat(root, now=time.time() + 600)
    assert stalled.level == "warn" and stalled.data["stalled"]
    assert "bị treo" in stalled.message_vi
    worker.stop()
    assert read_heartbeat(root, now=time.time() + 600).level == "none"  # stopped cleanly
    # A process that died without stopping (kill -9, a power cut): said so.
    data = json.loads(heartbeat_path(root).read_text())
    write_heartbeat(heartbeat_path(root), {**data, "state": "running", "pid": 2 ** 22 + 1})
    dead = read_heartbeat(root)
    assert dead.level == "warn" and "dừng bất thường" in dead.message_vi
    assert check_sync_service(root).status == WARN


def test_once_waits_for_another_counter_without_failing(
        ctx: AppContext, gateway: GatewayServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.cli import main

    clerk = configure(ctx, gateway)
    receive(ctx, clerk)
    # Counter 2 (another PC on the shared database) is sending it right now. The command
    # runs on the system clock, so the lease is taken on it too.
    with ctx.db.write() as s:
        for entry in outbox.entries(s):
            assert outbox.claim(s, entry.id, "000.00.12.H12-2@quay-2#4242",
                                SystemClock().now(), 600)
    monkeypatch.setenv("MOTCUA_DB_URL", str(ctx.db.engine.url))
    data_dir = str(ctx.paths.root)
    assert main(["sync", "--once", "--json", "--no-pull", "--data-dir", data_dir]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["pending"] == 1 and out["waiting_other_counter"] == 1 and out["online"]
    assert main(["sync", "--status", "--json", "--data-dir", data_dir]) == 0
    status = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status["level"] == "none"


def _until(ok: Callable[[], bool], what: str) -> None:
    """Look again every 0.1 s until ``ok()``; fail after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)


def test_sync_service_beats_sends_new_rows_promptly_and_stops_cleanly(
        ctx: AppContext, gateway: GatewayServer) -> None:
    import signal
    import subprocess
    import sys

    clerk = configure(ctx, gateway)
    receive(ctx, clerk)
    root = ctx.paths.root
    env = {**os.environ, "MOTCUA_DB_URL": ctx.db.engine.url.render_as_string(False)}
    proc = subprocess.Popen([sys.executable, "-m", "desktop_app.cli", "sync", "--data-dir",
                             str(root)], env=env, cwd=Path(__file__).parents[2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _until(lambda: len(gateway_dossiers(gateway)) == 1, "the queued dossier sent")
        view = read_heartbeat(root)
        assert view.level == "ok" and view.data["pid"] == proc.pid
        # Queued by another process (the GUI, another counter): no wake() reaches the
        # service, and its interval is 60 s; the outbox poll sends it within seconds.
        receive(ctx, clerk)
        _until(lambda: len(gateway_dossiers(gateway)) == 2, "the new dossier sent")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    assert read_heartbeat(root).level == "none"  # stopped cleanly, not "stalled"


class OwnServer:
    """A throw-away PostgreSQL cluster of this test alone, so it can be stopped and
    started again (the server shared by the whole test run cannot) — set up as
    tests/conftest.py does."""

    def __init__(self, base: Path) -> None:
        import shutil
        import subprocess

        from ..conftest import _pg_bin

        bindir = _pg_bin()
        if bindir is None:
            pytest.skip("PostgreSQL server binaries are not installed")
        # A Unix socket in its own directory, no TCP port: while it is down, no other
        # server started meanwhile on this machine can take its address.
        self.base, self.data = base, base / "data"
        self.pg_ctl = str(bindir / "pg_ctl")
        prefix: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            shutil.chown(base, "postgres", "postgres")
            prefix = ["runuser", "-u", "postgres", "--"]
        self._run = lambda *cmd: subprocess.run(
            [*prefix, *cmd], check=True, capture_output=True, text=True, cwd=base)
        self._run(str(bindir / "initdb"), "-D", str(self.data), "-U", "motcua",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        import psycopg

        with psycopg.connect(host=str(base), user="motcua", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE motcua")
        self.url = f"postgresql+psycopg://motcua@/motcua?host={base}"

    def start(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.base / "log"), "-w",
                  "-o", f"-c listen_addresses='' -c unix_socket_directories={self.base} "
                  "-c fsync=off", "start")

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def own_server() -> Iterator[OwnServer]:
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="motcua-pg-stop-"))
    server = OwnServer(base)
    yield server
    import contextlib
    import subprocess

    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        server.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_postgresql_server_stopped_and_started_again(
        own_server: OwnServer, tmp_path: Path, gateway: GatewayServer,
        make_worker: Callable[..., SyncWorker]) -> None:
    from desktop_app.clock import FixedClock
    from desktop_app.startup import open_station

    ctx = open_station(tmp_path / "station", db_url=own_server.url,
                       clock=FixedClock(datetime(2023, 10, 27, 9, 32)))
    try:
        clerk = configure(ctx, gateway)
        for _ in range(3):
            receive(ctx, clerk)
        own_server.stop()  # queued, and then the server went down
        states = States()
        worker = make_worker(ctx, states)
        worker.start()
        assert states.wait_for(lambda s: bool(s.db_error), "a fault").db_error \
            == DB_ERROR_SERVER_VI
        own_server.start()
        states.wait_for(drained, "the queue drained once the server was back")
        assert len(gateway_dossiers(gateway)) == 3

        # Stopped again while the worker idles online: its poll meets the fault.
        states.clear()
        own_server.stop()
        states.wait_for(lambda s: bool(s.db_error), "the fault seen by the idle worker")
        own_server.start()
        states.wait_for(lambda s: not s.db_error, "the fault cleared")
        states.clear()
        receive(ctx, clerk)
        states.wait_for(sent_some, "an item queued after the restart sent")
        assert len(gateway_dossiers(gateway)) == 4
        assert worker.alive and worker.state.restarts == 0
    finally:
        ctx.close()
