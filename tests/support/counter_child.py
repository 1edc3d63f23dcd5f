"""One counter PC as its own OS process, against a shared PostgreSQL database.

    python -m tests.support.counter_child --db-url URL --data DIR --digit N MODE …

Modes:
  receive --count N [--start-at EPOCH]
                      receive N dossiers through IntakeService (the Receive button's
                      path); prints ``received <code> <ms> <ms taking numbers> <epoch>``
                      or ``busy <ms>`` per try and ``done`` at the end.
  freeze [--start-at EPOCH]
                      receive one dossier but stop itself (SIGSTOP) inside the intake
                      transaction, right after the agency's book number was taken, having
                      printed ``frozen``: a PC that hangs while holding the shared row.
  send --gateway-url U --token T [--stall-after-claim] [--until S]
                      sync runs of the outbox until a dossier was sent or S seconds
                      passed (one run by default); with ``--stall-after-claim`` the
                      dossier request hangs after the item was claimed (printing
                      ``claimed <entry id>``), to be killed there.

The station (agency, digit) is saved by the process itself, as the first-run wizard
does; the catalog and the clerk are set up by the test beforehand."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from desktop_app.accounts import AccountService
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.intake.service import CounterBusy, IntakeService
from desktop_app.startup import open_station
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from tests.conftest import TEST_STATION
from tests.test_intake import complete_draft

CLERK = ("huong", "mat-khau-1")


def _station(ctx: AppContext, digit: int, gateway_url: str = "") -> None:
    service = StationService(ctx)
    info = replace(TEST_STATION, station_digit=digit,
                   gateway_url=gateway_url or TEST_STATION.gateway_url)
    current = service.get()
    if current is None or current != info:
        service.save(info)


def receive(ctx: AppContext, count: int, start_at: float = 0.0) -> None:
    """Each line: the code, the whole receive and the time spent taking numbers (the
    counter rows' locks are waited for there), in milliseconds."""
    import local_db.repositories as repo

    intake = IntakeService(ctx)
    clerk = AccountService(ctx).authenticate(*CLERK)
    taken = repo.next_counter
    waited = [0.0]

    def timed(s, series, day):  # type: ignore[no-untyped-def]
        t0 = time.monotonic()
        try:
            return taken(s, series, day)
        finally:
            waited[0] += time.monotonic() - t0

    repo.next_counter = timed  # type: ignore[assignment]
    if start_at:
        time.sleep(max(0.0, start_at - time.time()))
    done = 0
    while done < count:
        started = time.monotonic()
        waited[0] = 0.0
        try:
            out = intake.receive(complete_draft(intake), clerk)
        except CounterBusy:
            print(f"busy {(time.monotonic() - started) * 1000:.0f}", flush=True)
            continue  # the clerk presses Receive again
        print(f"received {out.code} {(time.monotonic() - started) * 1000:.1f} "
              f"{waited[0] * 1000:.1f} {time.time():.3f}", flush=True)
        done += 1
    print("done", flush=True)


def freeze(ctx: AppContext, start_at: float = 0.0) -> None:
    import local_db.repositories as repo

    intake = IntakeService(ctx)
    clerk = AccountService(ctx).authenticate(*CLERK)
    taken = repo.next_counter

    def take_then_hang(s, series, day):  # type: ignore[no-untyped-def]
        value = taken(s, series, day)
        if series == "book":
            s.flush()
            print("frozen", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
        return value

    repo.next_counter = take_then_hang  # type: ignore[assignment]
    if start_at:
        time.sleep(max(0.0, start_at - time.time()))
    try:
        out = intake.receive(complete_draft(intake), clerk)
        print(f"received {out.code}", flush=True)
    except Exception as exc:  # its session was ended while it was frozen
        print(f"failed {type(exc).__name__}", flush=True)


def send(ctx: AppContext, token: str, stall_after_claim: bool, until_s: float) -> None:
    sync = SyncService(ctx)
    sync.set_token(token)
    engine = sync.engine()
    if stall_after_claim:
        def hang(doc: dict) -> object:
            print(f"claimed {doc['MaHoSo']}", flush=True)
            time.sleep(3600)
            raise AssertionError("killed before")

        def hang_batch(encoded: list[tuple[str, bytes]]) -> object:
            print(f"claimed batch of {len(encoded)}", flush=True)
            time.sleep(3600)
            raise AssertionError("killed before")

        engine.client.put_dossier = hang  # type: ignore[method-assign]
        engine.client.put_dossiers = hang_batch  # type: ignore[method-assign]
    deadline = time.monotonic() + until_s
    while True:  # as the worker does: another run a moment later
        report = engine.run_once(pull=False)
        if report.dossiers_sent or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    print(f"sent {report.dossiers_sent}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--digit", type=int, required=True)
    parser.add_argument("--gateway-url", default="")
    parser.add_argument("--token", default="")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--stall-after-claim", action="store_true")
    parser.add_argument("--until", type=float, default=0.0)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("mode", choices=("receive", "freeze", "send"))
    args = parser.parse_args()
    ctx = open_station(args.data, db_url=args.db_url, sample_catalog=False)
    try:
        _station(ctx, args.digit, args.gateway_url)
        print("ready", flush=True)
        if args.mode == "receive":
            receive(ctx, args.count, args.start_at)
        elif args.mode == "freeze":
            freeze(ctx, args.start_at)
        else:
            send(ctx, args.token, args.stall_after_claim, args.until)
    except DomainError as exc:
        print(f"error {exc.detail}", flush=True)
        return 1
    finally:
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
