"""Receive and search latency with a large local store, and cold start to the first window.

    .venv/bin/python bench/bench_intake.py                 # 10k and 1M dossiers
    .venv/bin/python bench/bench_intake.py --sizes 10000   # quick run

Prints a table. Targets (issue): receive p95 <= 150 ms, search p95 <= 50 ms at 1M,
cold start <= 2 s. The 1M store is seeded with bulk inserts (the FTS triggers run, as
they do for real dossiers), which takes a few minutes."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.domain.text import fold
from desktop_app.dossiers import DossierQueries
from desktop_app.intake.drafts import IntakeDraft, PersonInfo
from desktop_app.intake.service import IntakeService
from desktop_app.startup import open_station
from desktop_app.station import StationInfo, StationService

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý", "Nông", "Lục", "Triệu", "Ma", "Hà", "Đàm", "Lường"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Quốc", "Thu", "Hữu", "Thanh", "Kim"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Mai", "Nam", "Ngọc", "Phúc", "Quân", "Sơn", "Thảo", "Thắng", "Tuấn",
         "Vân", "Yến", "Ánh", "Đạt", "Tùng", "Nhung", "Phương", "Trang"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def seed(ctx: AppContext, n: int, clerk_id: int, rng: random.Random) -> None:
    """Bulk-insert n historical dossiers spread over the previous five years."""
    procs = [p.code for p in CatalogService(ctx).search("", limit=200)]
    start = datetime(2019, 1, 1, 7, 30)
    batch = 20_000
    done = 0
    with ctx.db.engine.begin() as conn:
        base_applicant = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM applicants")).scalar()
        base_dossier = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM dossiers")).scalar()
    while done < n:
        size = min(batch, n - done)
        applicants, dossiers = [], []
        for i in range(size):
            k = done + i
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            idn = f"0{rng.randint(1, 96):02d}{rng.randint(0, 999999999):09d}"
            phone = f"09{rng.randint(0, 99999999):08d}"
            at = start + timedelta(minutes=k * 2)
            aid = base_applicant + k + 1
            code = f"000.00.12.H12-{at:%y%m%d}-9{k % 1000:03d}-{k}"
            applicants.append({"id": aid, "n": name, "i": idn, "p": phone, "t": at})
            dossiers.append({
                "id": base_dossier + k + 1, "u": f"bench-{k:012d}", "c": code, "s": code,
                "pc": rng.choice(procs), "o": aid, "t": at, "a": at + timedelta(days=5),
                "cl": clerk_id, "st": fold(f"{code} {name} {idn} {phone}"),
            })
        with ctx.db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO applicants (id, full_name, id_number, sex, address, phone, email, "
                "created_at, updated_at) VALUES (:id, :n, :i, '', '', :p, '', :t, :t)"),
                applicants)
            conn.execute(text(
                "INSERT INTO dossiers (id, uuid, code, slip_number, status, channel, "
                "procedure_code, procedure_name, owner_id, received_at, appointment_at, "
                "time_limit_amount, time_limit_unit, set_count, delivery, delivery_address, "
                "fee_total, reason, note, book_number, clerk_id, search_text, created_at, "
                "updated_at) VALUES (:id, :u, :c, :s, 10, 1, :pc, 'Thủ tục', :o, :t, :a, 5, "
                "'working_days', 1, 'counter', '', 0, '', '', '01', :cl, :st, :t, :t)"),
                dossiers)
        done += size
        print(f"  seeded {done:,}/{n:,}", file=sys.stderr, end="\r")
    print(file=sys.stderr)


def measure(n: int, receives: int, searches: int) -> dict[str, float]:
    rng = random.Random(n)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        clock = FixedClock(datetime(2026, 11, 23, 8, 0), timedelta(seconds=7))
        ctx = open_station(Path(tmp), clock=clock,
                           db_url=f"sqlite:///{Path(tmp) / 'motcua.sqlite3'}")
        StationService(ctx).save(StationInfo("000.00.12.H12", "UBND XÃ NÀ PHẶC", "Nà Phặc", 1,
                                             "UBND TỈNH THÁI NGUYÊN"))
        clerk = AccountService(ctx).create_clerk("bench", "Cán bộ đo", "bench-2026", Role.CLERK)
        t0 = time.perf_counter()
        seed(ctx, n, clerk.id, rng)
        seed_s = time.perf_counter() - t0
        intake = IntakeService(ctx)
        codes = [p.code for p in intake.catalog.search("", limit=200)]
        receive_ms = []
        for i in range(receives):
            proc = intake.catalog.get(codes[i % len(codes)])
            draft = IntakeDraft.for_procedure(proc)
            draft.owner = PersonInfo(f"{rng.choice(FAMILY)} Thị {rng.choice(GIVEN)}",
                                     f"0191900{i:05d}", address="Thôn Nà Lẹng, xã Nà Phặc",
                                     phone="0912345678")
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
        return {
            "seed_s": seed_s,
            "receive_p50": pct(receive_ms, 50),
            "receive_p95": pct(receive_ms, 95),
            "search_p50": pct(search_ms, 50),
            "search_p95": pct(search_ms, 95),
            "search_mean": statistics.fmean(search_ms),
        }


COLD_START = r"""
import os, sys, time, tempfile
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
app = QApplication([])
from ui.style import apply_style
from desktop_app.context import open_context
from desktop_app.accounts import AccountService, Role
from desktop_app.station import StationService
from ui.main_window import MainWindow
apply_style(app)
ctx = open_station()
station = StationService(ctx).require()
clerk = AccountService(ctx).authenticate("bench", "bench-2026")
win = MainWindow(ctx, clerk, station)
win.show()
def shown():
    print(f"{(time.perf_counter() - t0):.3f}")
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""


def cold_start(runs: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="motcua-cold-") as tmp:
        env = dict(os.environ, MOTCUA_DATA_DIR=tmp, QT_QPA_PLATFORM=os.environ.get(
            "QT_QPA_PLATFORM", "offscreen"))
        env.pop("MOTCUA_DB_URL", None)
        ctx = open_station(Path(tmp))
        StationService(ctx).save(StationInfo("000.00.12.H12", "UBND XÃ NÀ PHẶC", "Nà Phặc", 1))
        AccountService(ctx).create_clerk("bench", "Cán bộ đo", "bench-2026", Role.CLERK)
        ctx.close()
        root = str(Path(__file__).resolve().parent.parent)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", COLD_START], env=env, cwd=root,
                                 capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t
            times.append(float(out.stdout.strip().splitlines()[-1]) if out.stdout else wall)
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--receives", type=int, default=200)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        print(f"measuring with {n:,} dossiers…", file=sys.stderr)
        rows.append((n, measure(n, args.receives, args.searches)))
    print()
    print(f"{'dossiers in DB':>15} | {'receive p50':>11} | {'receive p95':>11} | "
          f"{'search p50':>10} | {'search p95':>10} | {'seed time':>9}")
    print("-" * 82)
    for n, r in rows:
        print(f"{n:>15,} | {r['receive_p50']:>8.1f} ms | {r['receive_p95']:>8.1f} ms | "
              f"{r['search_p50']:>7.1f} ms | {r['search_p95']:>7.1f} ms | {r['seed_s']:>7.0f} s")
    if len(rows) > 1:
        base, last = rows[0][1], rows[-1][1]
        print(f"{'ratio last/first':>15} | {last['receive_p50'] / base['receive_p50']:>10.2f}x |"
              f" {last['receive_p95'] / base['receive_p95']:>10.2f}x |"
              f" {last['search_p50'] / base['search_p50']:>9.2f}x |"
              f" {last['search_p95'] / base['search_p95']:>9.2f}x |")
    if args.cold_runs:
        times = cold_start(args.cold_runs)
        print()
        print(f"cold start to first window ({args.cold_runs} runs, "
              f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', 'offscreen')}): "
              f"median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    print("targets: receive p95 <= 150 ms, search p95 <= 50 ms at 1M, cold start <= 2 s")


if __name__ == "__main__":
    main()
