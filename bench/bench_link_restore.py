"""Link restored → dossier acknowledged: how long the station takes to notice the link is
back and deliver a dossier received during the outage.

    .venv/bin/python bench/bench_link_restore.py                        # 20 s and 3 min, 5 each
    .venv/bin/python bench/bench_link_restore.py --outages 1800 --reps 1   # one 30-min outage
    .venv/bin/python bench/bench_link_restore.py --link commune          # 256 kbit/s, 300 ms

Everything is real and in real time: the gateway (uvicorn on loopback), the station
(SQLite data directory, IntakeService.receive, the SyncWorker the window runs, with its
default probe schedule) and the link (tests/support/fault_proxy.py, switched offline:
new connections reset, open ones cut). Nothing is compressed: the worker's waits are
real seconds, so a 30-minute outage takes 30 minutes.

Each repetition: the worker is online with an empty queue and idle; the link goes down;
one second later the clerk receives a dossier (and the window wakes the worker, as after
Receive); at the end of the outage the link comes back; the time until the station's
outbox records the gateway's acknowledgement of that dossier is the sample. The table
gives the median, p95 (nearest rank) and max per outage length, and how many probes the
station sent during the outage (connections the offline proxy refused)."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("MOTCUA_NO_KEYRING", "1")  # never touch the machine's real keyring
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import SystemClock
from desktop_app.context import AppContext
from desktop_app.intake.service import IntakeService
from desktop_app.startup import open_station
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from desktop_app.sync.worker import SyncWorker, WorkerState
from local_db import outbox
from local_db.models import OutboxEntry
from provincial_gateway.server import GatewayServer
from tests.conftest import TEST_STATION
from tests.support.fault_proxy import FaultProxy, LinkProfile
from tests.test_intake import TEST_CATALOG, complete_draft

POLL_S = 0.05  # how often the bench looks at the outbox for the acknowledgement
SETTLE_S = 3.0  # the worker idles this long before each outage
ACK_LIMIT_S = 900.0  # a sample past this is reported as lost


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class Station:
    def __init__(self, work: Path, link: LinkProfile) -> None:
        self.gw = GatewayServer(work / "gateway").start()
        token = self.gw.add_station(TEST_STATION.agency_code, 1, "Quầy 1")
        self.proxy = FaultProxy(self.gw.host, self.gw.port).start()
        self.link = link
        self.proxy.set_profile(link)
        data = work / "station"
        self.ctx: AppContext = open_station(data, db_url=f"sqlite:///{data / 'm.db'}",
                                            clock=SystemClock())
        StationService(self.ctx).save(replace(TEST_STATION, gateway_url=self.proxy.url_for()))
        CatalogService(self.ctx).import_data(TEST_CATALOG)
        self.clerk: ClerkInfo = AccountService(self.ctx).create_clerk(
            "huong", "Triệu Thị Hương", "mat-khau-1", Role.CLERK)
        service = SyncService(self.ctx)
        service.set_token(token)
        self.state = WorkerState()
        # As the window builds it (ui/sync_panel.SyncBridge): the default schedule.
        self.worker = SyncWorker(service, listener=self._keep)
        self.worker.start()

    def _keep(self, state: WorkerState) -> None:
        self.state = state

    def close(self) -> None:
        self.worker.stop()
        self.ctx.close()
        self.proxy.stop()
        self.gw.stop()

    def wait_idle(self, limit_s: float = 120.0) -> None:
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            s = self.state
            if s.online and not s.running and s.queue is not None and s.queue.pending == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the worker never came online with an empty queue: {self.state}")

    def receive(self) -> str:
        intake = IntakeService(self.ctx)
        return intake.receive(complete_draft(intake), self.clerk).dossier_uuid

    def acknowledged(self, dossier_uuid: str) -> bool:
        with self.ctx.db.read() as s:
            state = s.scalar(select(OutboxEntry.state).where(
                OutboxEntry.entity_type == "dossier", OutboxEntry.entity_id == dossier_uuid))
        return state == outbox.SENT

    def outage(self, seconds: float, wake_on_restore: bool) -> tuple[float, int]:
        """(restore → ack in s, probes refused during the outage)."""
        self.wait_idle()
        time.sleep(SETTLE_S)
        refused0 = self.proxy.refused
        down = time.monotonic()
        self.proxy.set_profile(replace(self.link, offline=True))
        time.sleep(1.0)
        uuid = self.receive()
        self.worker.wake()  # ui/main_window.on_outcome
        time.sleep(max(0.0, down + seconds - time.monotonic()))
        self.proxy.set_profile(self.link)
        up = time.monotonic()
        probes = self.proxy.refused - refused0
        if wake_on_restore:
            self.worker.wake()  # what the OS's network-change signal does in the window
        while not self.acknowledged(uuid):
            if time.monotonic() - up > ACK_LIMIT_S:
                return math.inf, probes
            time.sleep(POLL_S)
        return time.monotonic() - up, probes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--outages", default="20,180", help="outage lengths in s (20,180)")
    p.add_argument("--reps", default="5", help="repetitions, one value or one per outage (5)")
    p.add_argument("--link", choices=("clean", "commune"), default="clean",
                   help="the link when up: loopback, or 256 kbit/s with 300 ms RTT")
    p.add_argument("--wake-on-restore", action="store_true",
                   help="also wake the worker at restore, as the OS's network signal does")
    p.add_argument("--label", default="", help="a name for this run in the table")
    p.add_argument("--json-out", type=Path, default=None, help="append the samples here")
    args = p.parse_args(argv)
    outages = [float(x) for x in args.outages.split(",")]
    reps = [int(x) for x in args.reps.split(",")]
    reps = reps * len(outages) if len(reps) == 1 else reps
    link = LinkProfile.commune() if args.link == "commune" else LinkProfile()
    logging.basicConfig(level=logging.WARNING)

    results: dict[float, list[tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="motcua-linkup-") as tmp:
        station = Station(Path(tmp), link)
        try:
            for seconds, n in zip(outages, reps, strict=True):
                for i in range(n):
                    sample = station.outage(seconds, args.wake_on_restore)
                    results.setdefault(seconds, []).append(sample)
                    print(f"outage {seconds:.0f} s, {i + 1}/{n}: restore → ack "
                          f"{sample[0]:.2f} s, {sample[1]} probe(s) during the outage",
                          file=sys.stderr, flush=True)
                    if args.json_out is not None:
                        with args.json_out.open("a") as f:
                            f.write(json.dumps({"label": args.label, "outage_s": seconds,
                                                "restore_to_ack_s": sample[0],
                                                "probes": sample[1]}) + "\n")
        finally:
            station.close()

    head = ["outage", "n", "median s", "p95 s", "max s", "probes/outage (median)"]
    rows = [head]
    for seconds, samples in results.items():
        times = [t for t, _ in samples]
        rows.append([f"{seconds:.0f} s", str(len(times)), f"{statistics.median(times):.2f}",
                     f"{p95(times):.2f}", f"{max(times):.2f}",
                     f"{statistics.median(n for _, n in samples):.0f}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    print(f"Link restored → dossier acknowledged {args.label} — link {args.link}"
          f"{', woken at restore' if args.wake_on_restore else ''}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print()
    for k, r in enumerate(rows):
        print(" | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                         enumerate(zip(r, widths, strict=True))))
        if k == 0:
            print("-+-".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
