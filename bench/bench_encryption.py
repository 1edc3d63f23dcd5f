"""What SQLCipher costs the counter: receive and search latency on a large local store,
the same work on a plaintext and on an encrypted SQLite file, in one process.

    .venv/bin/python bench/bench_encryption.py                   # 1M dossiers
    .venv/bin/python bench/bench_encryption.py --size 100000     # quicker

Both stores are seeded the same way as bench_intake.py (bulk inserts through the FTS
triggers, same random seed), then the same receives and searches run on each. Prints a
table with the encrypted/plaintext ratio of each figure."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_intake import FAMILY, GIVEN, pct, seed

from desktop_app.accounts import AccountService, Role
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext, blob_store
from desktop_app.domain.fees import FeeCount
from desktop_app.domain.text import fold
from desktop_app.dossiers import DossierQueries
from desktop_app.fees import fee_key
from desktop_app.intake.drafts import IntakeDraft, PersonInfo
from desktop_app.intake.service import IntakeService
from desktop_app.paths import DataPaths
from desktop_app.startup import open_station, prepare
from desktop_app.station import StationInfo, StationService
from local_db.engine import Database, is_plaintext_sqlite
from local_db.migrate import upgrade


def _plaintext_station(root: Path, clock: FixedClock) -> AppContext:
    """A station on an unencrypted SQLite file (what versions before SQLCipher ran)."""
    paths = DataPaths(root)
    paths.ensure()
    db = Database(f"sqlite:///{paths.database}")
    report = upgrade(db)
    ctx = AppContext(paths, db, blob_store(paths, db), clock, report)
    prepare(ctx)
    return ctx


def measure(root: Path, encrypted: bool, n: int, receives: int,
            searches: int) -> dict[str, float]:
    rng = random.Random(n)
    clock = FixedClock(datetime(2026, 11, 23, 8, 0), timedelta(seconds=7))
    if encrypted:
        ctx = open_station(root, clock=clock, db_url=f"sqlite:///{root / 'motcua.sqlite3'}")
    else:
        ctx = _plaintext_station(root, clock)
    assert is_plaintext_sqlite(root / "motcua.sqlite3") != encrypted
    StationService(ctx).save(StationInfo("000.00.12.H12", "UBND XÃ NÀ PHẶC", "Nà Phặc", 1,
                                         "UBND TỈNH THÁI NGUYÊN"))
    clerk = AccountService(ctx).create_clerk("bench", "Cán bộ đo", "bench-2026", Role.CLERK)
    t0 = time.perf_counter()
    seed(ctx, n, clerk.id, rng)
    seed_s = time.perf_counter() - t0
    # Reopen: the receives and searches start from a cold page cache, as after start-up.
    ctx.close()
    if encrypted:
        ctx = open_station(root, clock=clock, db_url=f"sqlite:///{root / 'motcua.sqlite3'}")
    else:
        ctx = _plaintext_station(root, clock)
    intake = IntakeService(ctx)
    codes = [p.code for p in intake.catalog.search("", limit=200)]
    receive_ms = []
    for i in range(receives):
        proc = intake.catalog.get(codes[i % len(codes)])
        draft = IntakeDraft.for_procedure(proc)
        draft.owner = PersonInfo(f"{rng.choice(FAMILY)} Thị {rng.choice(GIVEN)}",
                                 f"0191900{i:05d}", address="Thôn Nà Lẹng, xã Nà Phặc",
                                 phone="0912345678")
        draft.fee_counts = {fee_key(r): [FeeCount(1, 1)] for r in proc.fees if r.counted}
        for c in draft.components:
            c.provided = True
            if c.originals + c.certified_copies + c.photocopies == 0:
                c.originals = 1
        t = time.perf_counter()
        intake.receive(draft, clerk)
        receive_ms.append((time.perf_counter() - t) * 1000)
    queries = DossierQueries(ctx)
    terms = ([f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}" for _ in range(searches // 2)]
             + [fold(rng.choice(GIVEN)) for _ in range(searches // 4)]
             + [f"09{rng.randint(10, 99)}" for _ in range(searches // 8)]
             + ["000.00.12.H12-2611"] * (searches - searches // 2 - searches // 4
                                          - searches // 8))
    search_ms = []
    for q in terms:
        t = time.perf_counter()
        queries.search(q)
        search_ms.append((time.perf_counter() - t) * 1000)
    ctx.close()
    size_mb = (root / "motcua.sqlite3").stat().st_size / 1_048_576
    return {"seed_s": seed_s, "file_mb": size_mb,
            "receive_p50": pct(receive_ms, 50), "receive_p95": pct(receive_ms, 95),
            "search_p50": pct(search_ms, 50), "search_p95": pct(search_ms, 95)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--receives", type=int, default=200)
    ap.add_argument("--searches", type=int, default=400)
    args = ap.parse_args()
    results = {}
    for encrypted in (False, True):
        with tempfile.TemporaryDirectory(prefix="motcua-bench-enc-") as tmp:
            label = "SQLCipher" if encrypted else "plaintext"
            print(f"{label}: seeding {args.size:,} dossiers…", file=sys.stderr)
            results[label] = measure(Path(tmp), encrypted, args.size, args.receives,
                                     args.searches)
    plain, enc = results["plaintext"], results["SQLCipher"]
    print(f"\n{args.size:,} dossiers, {args.receives} receives, {args.searches} searches")
    print(f"{'':14}{'plaintext':>12}{'SQLCipher':>12}{'ratio':>8}")
    for key, unit in (("receive_p50", "ms"), ("receive_p95", "ms"), ("search_p50", "ms"),
                      ("search_p95", "ms"), ("seed_s", "s"), ("file_mb", "MB")):
        ratio = enc[key] / plain[key] if plain[key] else float("nan")
        print(f"{key + ' (' + unit + ')':14}{plain[key]:12.1f}{enc[key]:12.1f}{ratio:8.2f}")


if __name__ == "__main__":
    main()
