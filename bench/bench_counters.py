"""Several counters receiving at once on one PostgreSQL server, as separate processes.

    .venv/bin/python bench/bench_counters.py [--count 40]

Starts a throw-away PostgreSQL cluster on loopback (fsync on, as a commune's server),
sets up one agency (catalog, a clerk), then runs tests/support/counter_child.py:

- one counter alone receiving ``--count`` dossiers, then three at once (each ``--count``,
  started together): receives per second, the ratio three/one, p95 latency of a
  receive (facts, numbers, slip drawn and stored), and the time each receive spent
  taking its numbers (where a counter row another counter holds is waited for);
- three receiving while one is stopped (SIGSTOP) for 5 s at a random moment, and while
  one is stopped inside its intake holding the agency's book row (the worst moment): the
  longest time the other counters took for one receive meanwhile.

Prints a table; asserts nothing."""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pg_cluster import create_database, pg_cluster  # noqa: E402

from desktop_app.accounts import AccountService, Role  # noqa: E402
from desktop_app.catalog import CatalogService  # noqa: E402
from desktop_app.startup import open_station  # noqa: E402
from desktop_app.station import StationService  # noqa: E402
from tests.conftest import TEST_STATION  # noqa: E402
from tests.test_intake import TEST_CATALOG  # noqa: E402


def fresh_database(server: str, name: str, work: Path) -> str:
    url = create_database(server, name)
    ctx = open_station(work / name / "setup", db_url=url, sample_catalog=False)
    try:
        StationService(ctx).save(replace(TEST_STATION, station_digit=9))
        CatalogService(ctx).import_data(TEST_CATALOG)
        AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                         Role.CLERK)
    finally:
        ctx.close()
    return url


def child(url: str, data: Path, digit: int, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.counter_child", "--db-url", url,
         "--data", str(data / f"pc{digit}"), "--digit", str(digit), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


Receipt = tuple[int, float, float, float]  # digit, ms, ms taking numbers, ended (epoch)


def run_counters(url: str, data: Path, digits: list[int], count: int,
                 freeze: str = "") -> tuple[list[Receipt], int, float, float]:
    """Receipts, busy answers, wall seconds, and when a freeze began (epoch, or 0)."""
    frozen_at = 0.0
    holder: subprocess.Popen[str] | None = None
    start = time.time() + 4.0  # every process is connected and waiting by then
    procs = {d: child(url, data, d, "--count", str(count), "--start-at", f"{start}",
                      "receive") for d in digits}
    if freeze == "book":  # stopped inside its intake, the book row locked, 1 s in
        holder = child(url, data, 8, "--start-at", f"{start + 1.0}", "freeze")
        assert holder.stdout is not None
        for line in holder.stdout:
            if line.startswith("frozen"):
                frozen_at = time.time()
                break
    if freeze == "random":
        time.sleep(max(0.0, start - time.time()) + 1.0)
        frozen_at = time.time()
        procs[digits[0]].send_signal(signal.SIGSTOP)
        time.sleep(5.0)
        procs[digits[0]].send_signal(signal.SIGCONT)
    receipts: list[Receipt] = []
    busy = 0
    for digit, p in procs.items():
        out, _ = p.communicate(timeout=600)
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == "received":
                receipts.append((digit, float(parts[2]), float(parts[3]), float(parts[4])))
            elif parts and parts[0] == "busy":
                busy += 1
    if holder is not None:
        holder.send_signal(signal.SIGCONT)
        holder.communicate(timeout=60)
    ended = max(r[3] for r in receipts)
    return receipts, busy, ended - start, frozen_at


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    rows: list[tuple[str, str]] = []
    try:
        with pg_cluster() as server:
            url = fresh_database(server, "one", work)
            one, _, wall1, _ = run_counters(url, work / "one", [1], args.count)
            url = fresh_database(server, "three", work)
            three, busy3, wall3, _ = run_counters(url, work / "three", [1, 2, 3],
                                                  args.count)
            rate1, rate3 = len(one) / wall1, len(three) / wall3
            rows += [
                ("receives/s, one counter alone", f"{rate1:.1f}"),
                ("receives/s, three counters at once", f"{rate3:.1f}"),
                ("ratio three / one", f"{rate3 / rate1:.2f}×"),
                ("p95 receive, one alone (ms)", f"{p95([r[1] for r in one]):.0f}"),
                ("p95 receive, three at once (ms)", f"{p95([r[1] for r in three]):.0f}"),
                ("mean time taking numbers per receive, three at once (ms)",
                 f"{statistics.mean(r[2] for r in three):.1f}"),
                ("max time taking numbers, three at once (ms)",
                 f"{max(r[2] for r in three):.1f}"),
                ("“press Receive again” answers, three at once", str(busy3)),
            ]
            for label, mode in (("one stopped 5 s at a random moment", "random"),
                                ("one stopped holding the book row", "book")):
                url = fresh_database(server, mode, work)
                got, busy, _, frozen_at = run_counters(url, work / mode, [1, 2, 3],
                                                       args.count, freeze=mode)
                others = [r for r in got if not (mode == "random" and r[0] == 1)
                          and r[3] >= frozen_at]
                stall = max((r[1] for r in others), default=0.0)
                rows.append((f"longest receive of the others, {label} (ms)",
                             f"{stall:.0f} ({busy} busy)"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(k) for k, _ in rows)
    print(f"{'measure'.ljust(width)}  value")
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
