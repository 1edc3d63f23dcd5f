"""How long a dossier waits when the counter sending it dies mid-request.

    .venv/bin/python bench/bench_lease_recovery.py [--runs 3]

Starts a throw-away PostgreSQL cluster and the reference gateway on loopback. Each run:
one dossier is received; counter 1 (its own OS process, tests/support/counter_child.py)
claims its outbox item and hangs inside the request; it is SIGKILLed there (a PC
switched off mid-send); counter 2, another PC, keeps syncing as its worker would. The
time from the kill to the dossier being sent by counter 2 is the lease recovery time
(the lease is short and was renewed while counter 1 lived; nobody frees it for a PC
that is gone). Prints a table; asserts nothing."""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench_counters import ROOT, child, fresh_database
from pg_cluster import pg_cluster

sys.path.insert(0, str(ROOT))

from desktop_app.accounts import AccountService
from desktop_app.intake.service import IntakeService
from desktop_app.startup import open_station
from desktop_app.station import StationService
from desktop_app.sync.engine import LEASE_RENEW_S, LEASE_S
from provincial_gateway.server import GatewayServer
from tests.test_intake import complete_draft


def one_run(server: str, gateway: GatewayServer, work: Path, n: int) -> float:
    url = fresh_database(server, f"lease{n}", work)
    ctx = open_station(work / f"lease{n}" / "setup", db_url=url, sample_catalog=False)
    try:
        station = StationService(ctx).save(replace(StationService(ctx).require(),
                                                   gateway_url=gateway.url))
        intake = IntakeService(ctx)
        clerk = AccountService(ctx).authenticate("huong", "mat-khau-1")
        intake.receive(complete_draft(intake), clerk)
    finally:
        ctx.close()
    data = work / f"lease{n}"
    agency = station.agency_code
    one = child(url, data, 1, "--gateway-url", gateway.url, "--token",
                gateway.add_station(agency, 1, "Quầy 1"), "--stall-after-claim", "send")
    assert one.stdout is not None
    for line in one.stdout:
        if line.startswith("claimed"):
            break
    time.sleep(LEASE_RENEW_S + 1)  # the lease was renewed at least once meanwhile
    one.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    one.wait(timeout=30)
    two = child(url, data, 2, "--gateway-url", gateway.url, "--token",
                gateway.add_station(agency, 2, "Quầy 2"), "--until", "120", "send")
    out, _ = two.communicate(timeout=180)
    if "sent 1" not in out:
        raise SystemExit(f"run {n}: counter 2 never sent the dossier: {out!r}")
    return time.monotonic() - killed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    times = []
    with tempfile.TemporaryDirectory(prefix="motcua-bench-lease-") as tmp, \
            pg_cluster() as server:
        for n in range(args.runs):  # a fresh province each run: the codes repeat
            with GatewayServer(Path(tmp) / f"gateway{n}") as gateway:
                times.append(one_run(server, gateway, Path(tmp), n))
    rows = [("lease length / renewed every (s)", f"{LEASE_S:g} / {LEASE_RENEW_S:g}"),
            ("runs", str(len(times))),
            ("kill -> sent by the other counter, median (s)", f"{statistics.median(times):.1f}"),
            ("kill -> sent by the other counter, max (s)", f"{max(times):.1f}")]
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
