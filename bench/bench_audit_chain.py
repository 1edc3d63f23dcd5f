"""The audit chain: what appending costs, and how long walking a whole chain takes (the
`motcua doctor` check) at 10k, 100k (and with --rows, more) entries.

    .venv/bin/python bench/bench_audit_chain.py                  # SQLite and PostgreSQL
    .venv/bin/python bench/bench_audit_chain.py --rows 10000 100000 1000000
    .venv/bin/python bench/bench_audit_chain.py --no-postgresql

SQLite is a temp file (WAL, synchronous=FULL, as at a counter); PostgreSQL a throw-away
cluster on loopback started as the test suite does (fsync on). Entries are appended by
the real code (``repositories.add_audit`` → ``audit_chain.append``), 5000 per
transaction to build the log quickly, with details shaped like an intake's; one more
run appends single entries, one per transaction, as a counter does. The walk is
``local_db.audit_chain.verify_all`` in batches of 5000. Prints one table."""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("MOTCUA_NO_KEYRING", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pg_cluster import create_database, pg_cluster

from local_db import audit_chain
from local_db import repositories as repo
from local_db.engine import Database
from local_db.migrate import upgrade

START = datetime(2026, 1, 5, 7, 30)
CHAIN = "7d1c0a52-9f3e-4b6a-8c2d-1e5f4a3b2c1d"


def detail(i: int) -> dict[str, object]:
    return {"code": f"000.00.12.H12-260105-1{i % 1000:03d}", "slip_number": "",
            "procedure": "1.001193", "appointment": "2026-01-08T09:32:00",
            "fee_total": 8000}


def grow(db: Database, upto: int, have: int) -> float:
    """Append entries until the chain holds ``upto``; seconds spent."""
    started = time.perf_counter()
    i = have
    while i < upto:
        with db.write() as s:
            for _ in range(min(5000, upto - i)):
                repo.add_audit(s, START + timedelta(seconds=i), None, "dossier_received",
                               "dossier", f"00000000-0000-4000-8000-{i:012d}", detail(i))
                i += 1
    return time.perf_counter() - started


def single_appends(db: Database, n: int = 200) -> list[float]:
    """Milliseconds per one-entry write transaction (commit included)."""
    out = []
    for k in range(n):
        t = time.perf_counter()
        with db.write() as s:
            repo.add_audit(s, START, None, "login", "clerk", str(k))
        out.append((time.perf_counter() - t) * 1000)
    return out


def walk(db: Database) -> tuple[float, int]:
    t = time.perf_counter()
    with db.read() as s:
        reports = audit_chain.verify_all(s)
    assert all(r.broken is None for r in reports), reports
    return time.perf_counter() - t, sum(r.entries for r in reports)


@contextlib.contextmanager
def databases(postgresql: bool) -> Iterator[list[tuple[str, str]]]:
    with tempfile.TemporaryDirectory() as tmp:
        dbs = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")]
        if not postgresql:
            yield dbs
            return
        with pg_cluster() as server:
            yield [*dbs, ("PostgreSQL", create_database(server, "bench"))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--no-postgresql", action="store_true")
    args = ap.parse_args()
    print(f"{'database':<11}{'entries':>9}{'build/s':>10}{'walk':>9}{'µs/entry':>10}"
          f"{'append p50':>12}{'p95':>8}")
    with databases(not args.no_postgresql) as dbs:
        for name, url in dbs:
            db = Database(url)
            db.audit_chain = CHAIN
            upgrade(db)
            have = 0
            for rows in sorted(args.rows):
                built = grow(db, rows, have)
                rate = (rows - have) / built if built else 0.0
                have = rows
                seconds, entries = walk(db)
                ms = single_appends(db, 100)
                have += 100
                p95 = statistics.quantiles(ms, n=20)[18]
                print(f"{name:<11}{entries:>9}{rate:>10.0f}{seconds:>8.2f}s"
                      f"{seconds / entries * 1e6:>10.1f}{statistics.median(ms):>10.2f}ms"
                      f"{p95:>6.1f}ms", flush=True)
            db.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB (the walk keeps one batch of 5000 rows at a time)")


if __name__ == "__main__":
    main()
