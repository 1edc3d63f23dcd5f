"""The shared blob store on PostgreSQL: what a 50 MB A0 scan costs to store and fetch,
and what it adds to receiving a dossier with a 10 MB scanned component.

    .venv/bin/python bench/bench_shared_blobs.py                 # own throw-away server
    .venv/bin/python bench/bench_shared_blobs.py --db-url postgresql+psycopg://…/empty_db

Without --db-url a PostgreSQL cluster is started in a temp dir (as the test suite does,
but with fsync on, as on a real server), on loopback: the numbers are the database's
cost, not the LAN's (a 100 Mbit/s LAN adds ~4 s per 50 MB either way). Everything is the
real code: SharedBlobStore, BlobStore, DigitizationService.store, IntakeService.receive.
The scans are random bytes (incompressible, like JPEG data in a PDF). Prints one table."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("MOTCUA_NO_KEYRING", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pg_cluster import create_database, pg_cluster
from sqlalchemy import text

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.digitization import DigitizationService
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.model import ColourMode, OutputPart
from desktop_app.shared_blobs import SharedBlobStore
from desktop_app.startup import open_station
from desktop_app.station import StationService
from tests.conftest import RECEIVED_AT, TEST_STATION
from tests.test_intake import TEST_CATALOG, complete_draft

MB = 1_000_000


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    with pg_cluster() as server:
        yield create_database(server, "bench")


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.write(b"%PDF-1.7\n")
        left = size - 9
        while left > 0:
            fh.write(os.urandom(min(left, 1 << 20)))
            left -= 1 << 20
    return path


def bench_a0(db_url: str, work: Path, size: int, rows: list[tuple[str, str]]) -> None:
    ctx = open_station(work / "a0", db_url=db_url, sample_catalog=False)
    try:
        store = SharedBlobStore(ctx.db)
        source = random_file(work / "a0.pdf", size)
        sha = hashlib.sha256(source.read_bytes()).hexdigest()
        t0 = time.perf_counter()
        store.put_file(sha, source)
        put_s = time.perf_counter() - t0
        target = work / "fetched" / sha
        t0 = time.perf_counter()
        assert store.fetch_to(sha, target)
        get_s = time.perf_counter() - t0
        with ctx.db.read() as s:
            on_disk = s.scalar(text("SELECT pg_total_relation_size('shared_blob_chunks')"))
        # Peak Python memory of one more store and fetch (tracemalloc slows them: timed
        # separately above).
        with ctx.db.write() as s:
            s.execute(text("DELETE FROM shared_blobs"))
            s.execute(text("DELETE FROM shared_blob_chunks"))
        target.unlink()
        tracemalloc.start()
        store.put_file(sha, source)
        put_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        store.fetch_to(sha, target)
        get_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        ctx.close()
    rows += [
        (f"A0 scan {size / MB:.0f} MB -> shared store",
         f"{put_s:.2f} s, {size / MB / put_s:.0f} MB/s, peak {put_peak / MB:.1f} MB RAM"),
        (f"A0 scan {size / MB:.0f} MB <- shared store (hash-checked, to disk cache)",
         f"{get_s:.2f} s, {size / MB / get_s:.0f} MB/s, peak {get_peak / MB:.1f} MB RAM"),
        ("server disk per stored byte", f"{on_disk / size:.3f} (table + TOAST)"),
    ]


def bench_receive(label: str, db_url: str, work: Path, size: int, n: int,
                  rows: list[tuple[str, str]]) -> None:
    ctx = open_station(work / label, db_url=db_url, clock=FixedClock(RECEIVED_AT))
    try:
        StationService(ctx).save(TEST_STATION)
        CatalogService(ctx).import_data(TEST_CATALOG)
        clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                                 Role.CLERK)
        intake, digitize = IntakeService(ctx), DigitizationService(ctx)
        stores: list[float] = []
        receives: list[float] = []
        for i in range(n):
            path = random_file(work / f"{label}-{i}.pdf", size)
            part = OutputPart(path, 1, size, 1, 1, 300, (ColourMode.GREY,), "")
            t0 = time.perf_counter()
            [stored] = digitize.store([part])
            stores.append(time.perf_counter() - t0)
            draft = complete_draft(intake)
            draft.components[0].files = [stored]
            t0 = time.perf_counter()
            intake.receive(draft, clerk)
            receives.append(time.perf_counter() - t0)
            path.unlink()
    finally:
        ctx.close()

    both = [a + b for a, b in zip(stores, receives, strict=True)]

    def p(xs: list[float], q: int) -> str:
        return f"{statistics.quantiles(xs, n=100)[q - 1]:.2f}"

    rows += [
        (f"{label}: store a {size / MB:.0f} MB scan (p50 / p95, n={n})",
         f"{p(stores, 50)} / {p(stores, 95)} s"),
        (f"{label}: receive the dossier holding it (p50 / p95)",
         f"{p(receives, 50)} / {p(receives, 95)} s"),
        (f"{label}: store + receive (p95)", f"{p(both, 95)} s"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db-url", help="an empty PostgreSQL database (default: own server)")
    ap.add_argument("--a0-mb", type=int, default=50)
    ap.add_argument("--component-mb", type=int, default=10)
    ap.add_argument("-n", type=int, default=20, help="receives per mode")
    args = ap.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        work = Path(tmp)
        with (contextlib.nullcontext(args.db_url) if args.db_url else bench_database()) as url:
            bench_a0(url, work, args.a0_mb * MB, rows)
            bench_receive("PostgreSQL, shared store", url, work, args.component_mb * MB,
                          args.n, rows)
        bench_receive("SQLite, disk only", f"sqlite:///{work / 'local.db'}", work,
                      args.component_mb * MB, args.n, rows)
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  result")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
