"""Process liveness (desktop_app/processes.py) and the places that rely on it: the blob
store's temp-file sweep and the release of outbox leases held by dead processes.

Real child processes throughout. ``os.kill`` is made to fail: on Windows ``os.kill(pid,
0)`` sends Ctrl+C to the console group instead of testing the pid, so liveness must
never go through it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from sqlalchemy import insert, select

from desktop_app.blobs import SCRATCH_DIR, BlobStore, blob_key
from desktop_app.context import AppContext
from desktop_app.processes import (
    ProcessMark,
    is_alive,
    own_mark,
    start_time,
    temp_owner,
    temp_prefix,
)
from desktop_app.station import StationInfo
from desktop_app.sync.client import GatewayClient
from desktop_app.sync.service import SyncService
from local_db import outbox
from local_db.models import OutboxEntry


@pytest.fixture(autouse=True)
def no_os_kill(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(pid: int, sig: int) -> None:
        raise AssertionError(f"os.kill({pid}, {sig}) used to test liveness")

    monkeypatch.setattr(os, "kill", refuse)


@pytest.fixture
def running() -> Iterator[subprocess.Popen[bytes]]:
    """A child that runs until its stdin closes (no signal needed to end it)."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def _reaped_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


@pytest.mark.nodb
def test_running_dead_and_reused_pids(running: subprocess.Popen[bytes]) -> None:
    started = start_time(running.pid)
    assert started is not None
    assert is_alive(running.pid) and is_alive(running.pid, started)
    assert ProcessMark(running.pid, started).alive()
    # The pid now belongs to a process started at another time: the recorded one is gone.
    assert not is_alive(running.pid, started - 3600)
    assert not ProcessMark(running.pid, started + 3600).alive()
    assert not is_alive(_reaped_pid())
    assert not is_alive(0) and not is_alive(-1)
    assert own_mark().alive() and own_mark().pid == os.getpid()
    assert is_alive(1)  # init: another user's process unless the tests run as root


@pytest.mark.nodb
@pytest.mark.skipif(not hasattr(os, "waitid"), reason="POSIX zombies")
def test_a_zombie_is_dead() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    # Wait for the exit without reaping it: the child stays a zombie until wait().
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    try:
        assert not is_alive(proc.pid)
    finally:
        proc.wait(timeout=30)


@pytest.mark.nodb
def test_marks_and_temp_names_old_and_new() -> None:
    assert ProcessMark.parse("4242") == ProcessMark(4242)
    assert ProcessMark.parse("4242-1765000000") == ProcessMark(4242, 1765000000)
    assert str(ProcessMark(4242, 1765000000)) == "4242-1765000000"
    for bad in ("", "x", "42-x", "-42", "42-1-2", "4 2"):
        assert ProcessMark.parse(bad) is None, bad
    mark = own_mark()
    assert temp_prefix() == f".tmp-{mark.pid}-{mark.started}-"
    assert temp_owner(f"{temp_prefix()}k3j_x9a2.pdf") == mark
    # Names written before the start was recorded: the pid only, as then.
    assert temp_owner(".tmp-4242-k3j_x9a2") == ProcessMark(4242)
    assert temp_owner(".tmp-4242-12345678") == ProcessMark(4242)  # an all-digit random part
    assert temp_owner(".tmp-4242-slip.pdf") == ProcessMark(4242)
    assert temp_owner(".tmp-x-1") is None and temp_owner("blob") is None


@pytest.mark.nodb
def test_sweep_keeps_live_writers_files_and_removes_dead_and_reused(
        tmp_path: Path, running: subprocess.Popen[bytes]) -> None:
    root = tmp_path / "data" / "blobs"
    store = BlobStore(root, None, blob_key(tmp_path / "data", root))
    mine = store.write_scratch(b"slip", ".pdf")
    assert mine.name.startswith(temp_prefix())
    started = start_time(running.pid)
    assert started is not None
    scratch = tmp_path / "data" / SCRATCH_DIR
    names = {
        "live": f".tmp-{running.pid}-{started}-abcd1234",
        "live_old_name": f".tmp-{running.pid}-abcd1234.pdf",
        "reused": f".tmp-{running.pid}-{started - 3600}-abcd1234",
        "dead": f".tmp-{_reaped_pid()}-{started}-abcd1234",
        "dead_old_name": f".tmp-{_reaped_pid()}-abcd1234",
    }
    for name in names.values():
        (scratch / name).write_bytes(b"x")
    assert store.sweep_temp() == 3
    left = {p.name for p in scratch.iterdir()}
    assert left == {mine.name, names["live"], names["live_old_name"]}


def test_leases_of_dead_and_reused_processes_are_freed(
        ctx: AppContext, station: StationInfo, running: subprocess.Popen[bytes]) -> None:
    service = SyncService(ctx)
    prefix = f"{station.agency_code}-{station.station_digit}@{socket.gethostname()}#"
    started = start_time(running.pid)
    assert started is not None
    holders = {
        "live": f"{prefix}{running.pid}-{started}",
        "live_old_holder": f"{prefix}{running.pid}",
        "reused": f"{prefix}{running.pid}-{started - 3600}",
        "dead": f"{prefix}{_reaped_pid()}-{started}",
        "dead_old_holder": f"{prefix}{_reaped_pid()}",
        "this_process_before": f"{prefix}{os.getpid()}",
        "another_pc": f"{station.agency_code}-{station.station_digit}@elsewhere#{_reaped_pid()}",
    }
    now = ctx.clock.now()
    with ctx.db.write() as s:
        for holder in holders.values():
            s.execute(insert(OutboxEntry).values(
                entity_type="event", entity_id=holder[-60:], operation="put", payload={},
                state=outbox.PENDING, created_at=now, next_attempt_at=now,
                leased_by=holder, lease_until=now + timedelta(seconds=600)))
    engine = service.engine(GatewayClient("http://127.0.0.1:9", "token"))
    engine.client.close()
    assert engine.holder == f"{prefix}{own_mark()}"
    with ctx.db.read() as s:
        held = set(s.scalars(select(OutboxEntry.leased_by).where(
            OutboxEntry.lease_until.is_not(None))))
    assert held == {holders["live"], holders["live_old_holder"], holders["another_pc"]}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's tick count")
def test_on_linux_the_start_is_the_kernels_tick_count_not_wall_clock_time() -> None:
    """psutil's create_time adds the boot time, which moves when the clock is stepped;
    the recorded start is the kernel's count since boot, which does not."""
    ticks = start_time(os.getpid())
    assert ticks is not None
    as_wall_clock = psutil.boot_time() + ticks / os.sysconf("SC_CLK_TCK")
    assert abs(as_wall_clock - psutil.Process().create_time()) < 1
    assert own_mark().started == ticks
