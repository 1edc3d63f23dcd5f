"""Counters as separate OS processes on one PostgreSQL server: one that freezes inside an
intake, or is killed mid-way, holds the others for seconds at most and loses nothing; a
dossier whose sender was killed mid-request waits for its own counter (the gateway takes it
only under that counter's token) and is then sent once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.intake.service import IntakeService
from desktop_app.startup import open_station
from desktop_app.station import StationService
from local_db import outbox
from local_db.models import DailyCounter, Dossier, OutboxEntry
from provincial_gateway.server import GatewayServer
from tests.support.gateway_fixtures import add_station

from ..conftest import TEST_STATION
from ..test_intake import TEST_CATALOG, complete_draft
from .test_sync_engine import gateway_dossiers

ROOT = Path(__file__).resolve().parents[2]
SETUP_DIGIT = 9


def _setup(tmp_path: Path, url: str, gateway_url: str = "") -> None:
    ctx = open_station(tmp_path / "setup", db_url=url, sample_catalog=False)
    try:
        StationService(ctx).save(replace(TEST_STATION, station_digit=SETUP_DIGIT,
                                         gateway_url=gateway_url))
        CatalogService(ctx).import_data(TEST_CATALOG)
        AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                         Role.CLERK)
    finally:
        ctx.close()


def _child(tmp_path: Path, url: str, digit: int, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.counter_child", "--db-url", url,
         "--data", str(tmp_path / f"pc{digit}"), "--digit", str(digit), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    return proc


def _wait_for(proc: subprocess.Popen[str], word: str) -> list[str]:
    """Lines up to and including the first starting with ``word``."""
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith(word):
            return lines
    raise AssertionError(f"child ended before {word!r}: {lines} {proc.stderr.read()}")  # type: ignore[union-attr]


def _finish(proc: subprocess.Popen[str], timeout: float = 90) -> list[str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out.split("\n")


def _dossiers(url: str, tmp_path: Path) -> list[tuple[str | None, int | None, str | None]]:
    ctx = open_station(tmp_path / "setup", db_url=url, sample_catalog=False)
    try:
        with ctx.db.read() as s:
            return [(d.code, d.sequence_number, d.slip_blob)
                    for d in s.scalars(select(Dossier).order_by(Dossier.id))]
    finally:
        ctx.close()


def _contiguous_per_digit(codes: list[str]) -> dict[int, list[int]]:
    by_digit: dict[int, list[int]] = defaultdict(list)
    for code in codes:
        tail = code.rsplit("-", 1)[1]
        by_digit[int(tail[0])].append(int(tail[1:]))
    for numbers in by_digit.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    return by_digit


def test_a_counter_frozen_inside_an_intake_holds_the_others_for_seconds(
        tmp_path: Path, pg_url: str) -> None:
    _setup(tmp_path, pg_url)
    frozen = _child(tmp_path, pg_url, 1, "freeze")
    try:
        _wait_for(frozen, "frozen")  # stopped with the agency's book row locked
        others = [_child(tmp_path, pg_url, d, "--count", "3", "receive") for d in (2, 3)]
        # They get the book row once the server ends the frozen session (a short idle
        # limit while a shared row is held); a counter that gave up first showed
        # "press Receive again" and its second press went through.
        outputs = [_finish(p, timeout=120) for p in others]
    finally:
        frozen.send_signal(signal.SIGCONT)
    out = _finish(frozen)
    assert any(line.startswith("failed") for line in out)  # its session was ended
    received = [line.split()[1] for o in outputs for line in o if line.startswith("received")]
    assert len(received) == 6
    rows = _dossiers(pg_url, tmp_path)
    assert sorted(c for c, _, _ in rows if c) == sorted(received)  # the frozen one: none
    _contiguous_per_digit(received)
    assert sorted(seq for _, seq, _ in rows) == list(range(1, 7))  # no gap, no twice
    assert all(slip for _, _, slip in rows)


def test_three_counters_receive_at_once_and_one_is_killed(tmp_path: Path,
                                                          pg_url: str) -> None:
    _setup(tmp_path, pg_url)
    procs = {d: _child(tmp_path, pg_url, d, "--count", "12", "receive") for d in (1, 2, 3)}
    killed = procs[1]
    printed = [line for line in _wait_for(killed, "received")]
    printed += [killed.stdout.readline().strip() for _ in range(3)]  # type: ignore[union-attr]
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    outputs = [_finish(procs[d], timeout=120) for d in (2, 3)]
    rows = _dossiers(pg_url, tmp_path)
    codes = [c for c, _, _ in rows if c]
    assert len(codes) == len(set(codes))
    by_digit = _contiguous_per_digit(codes)
    assert len(by_digit[2]) == len(by_digit[3]) == 12
    # What the killed counter reported received is there; it may have committed one more.
    reported = {line.split()[1] for line in printed if line.startswith("received")}
    assert reported <= set(codes) and len(by_digit[1]) >= len(reported)
    assert sorted(seq for _, seq, _ in rows) == list(range(1, len(rows) + 1))
    ctx = open_station(tmp_path / "setup", db_url=pg_url, sample_catalog=False)
    try:
        with ctx.db.read() as s:
            assert s.scalar(select(func.count()).select_from(OutboxEntry)
                            .where(OutboxEntry.entity_type == "dossier")) == len(rows)
            book = s.scalars(select(DailyCounter).where(DailyCounter.series == "book")).one()
            assert book.last_value == len(rows)
        # A dossier killed between its two steps gets its slip from the stored facts.
        IntakeService(ctx).store_missing_slips(min_age_s=0)
        with ctx.db.read() as s:
            assert s.scalar(select(func.count()).select_from(Dossier)
                            .where(Dossier.slip_blob.is_(None))) == 0
    finally:
        ctx.close()
    assert all("done" in o for o in outputs)


def test_a_killed_senders_item_waits_for_its_own_counter_and_is_sent_once(
        tmp_path: Path, pg_url: str, gateway: GatewayServer) -> None:
    _setup(tmp_path, pg_url, gateway.url)
    ctx = open_station(tmp_path / "pc1", db_url=pg_url, sample_catalog=False)
    try:  # received on counter 1: its code carries digit 1
        StationService(ctx).save(replace(TEST_STATION, station_digit=1,
                                         gateway_url=gateway.url))
        intake = IntakeService(ctx)
        clerk = AccountService(ctx).authenticate("huong", "mat-khau-1")
        code = intake.receive(complete_draft(intake), clerk).code
    finally:
        ctx.close()
    token = add_station(gateway, digit=1)
    one = _child(tmp_path, pg_url, 1, "--gateway-url", gateway.url,
                 f"--token={token}", "--stall-after-claim", "send")
    try:
        _wait_for(one, "claimed")  # leased by counter 1, its request in flight
    finally:
        one.send_signal(signal.SIGKILL)
        one.wait(timeout=30)
    # Counter 2 leaves it alone: the gateway takes a dossier only from the station whose
    # digit its code carries, so sending it under counter 2's token would be refused.
    two = _child(tmp_path, pg_url, 2, "--gateway-url", gateway.url,
                 f"--token={add_station(gateway, digit=2)}", "send")
    assert "sent 0" in _finish(two)
    assert gateway_dossiers(gateway) == []
    # Counter 1's next sender frees the dead process's lease and sends it, once.
    again = _child(tmp_path, pg_url, 1, "--gateway-url", gateway.url, f"--token={token}",
                   "--until", "60", "send")
    assert "sent 1" in _finish(again, timeout=90)
    assert [d["code"] for d in gateway_dossiers(gateway)] == [code]
    ctx = open_station(tmp_path / "setup", db_url=pg_url, sample_catalog=False)
    try:
        with ctx.db.read() as s:
            entry = s.scalars(select(OutboxEntry)
                              .where(OutboxEntry.entity_type == "dossier")).one()
            assert entry.state == outbox.SENT
    finally:
        ctx.close()


