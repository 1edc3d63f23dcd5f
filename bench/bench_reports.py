"""Tracking book export (PDF, XLSX) and dashboard query times with a large local store.

    .venv/bin/python bench/bench_reports.py                        # 1M dossiers (seeds first)
    .venv/bin/python bench/bench_reports.py --dossiers 100000      # quicker
    .venv/bin/python bench/bench_reports.py --db /tmp/r.sqlite3    # seed once, reuse after

The store holds N dossiers received on working days over three years (2021–2023), so a
month has N/36 of them (~28k at 1M) — with owners and addresses, returned/late/withdrawn
mixes, two components per dossier, digitized files for most, and one outbox entry each
(sent after a random lag). Seeding 1M takes several minutes; ``--db`` keeps the result.

Every measurement runs in a fresh child process, so "peak RSS" is that operation's own
high-water mark (the first row, "cold start", is the interpreter with the app imported and
the database opened, answering a one-day dashboard). "MB" is the size of the file
written. ``--with-indexes`` first adds
the two indexes the dashboard benefits from (dossier_components.dossier_id,
dossiers.returned_at), which the schema does not have yet, to show their effect.

Search p95 at 1M is measured by bench/bench_intake.py (not repeated here)."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.domain.text import fold
from desktop_app.startup import open_station
from desktop_app.station import StationInfo, StationService
from local_db.models import (
    Applicant,
    Blob,
    ComponentFile,
    Dossier,
    DossierComponent,
    OutboxEntry,
)

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý", "Nông", "Lục", "Triệu", "Ma", "Hà", "Đàm", "Lường", "Lò"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Quốc", "Thu", "Hữu", "Thanh", "Kim"]
GIVEN = ["An", "Ấn", "Ánh", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hạnh", "Hùng",
         "Hương", "Khánh", "Lan", "Linh", "Mai", "Nam", "Ngọc", "Phúc", "Quân", "Sơn",
         "Thảo", "Thắng", "Tuấn", "Ún", "Ưng", "Vân", "Yến", "Đạt", "Tùng", "Nhung"]
VILLAGES = ["Nà Lẹng", "Bản Mòng", "Pác Nặm", "Nà Mò", "Khuổi Khỉ", "Phiêng Phàng",
            "Tổ 3", "Tổ 7", "Bó Lếch", "Cốc Phát"]
COMMUNES = ["Xã Nà Phặc", "Phường Đức Xuân", "Thị trấn Chợ Rã", "xã Chiềng Cơi",
            "Nà Phặc", "Phường Sông Cầu"]
CLERKS = [("huong", "Triệu Thị Hương"), ("tuan", "Ma Văn Tuấn"), ("lan", "Hoàng Thị Lan")]
START = date(2021, 1, 1)
MONTHS = 36
BLOB = "0" * 64


def working_days(start: date, months: int) -> list[date]:
    end = date(start.year + (start.month - 1 + months) // 12,
               (start.month - 1 + months) % 12 + 1, 1)
    days, d = [], start
    while d < end:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def _status(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.90:
        return 10
    if r < 0.93:
        return 7
    if r < 0.95:
        return 8
    return rng.choice((2, 4, 5, 9))


def seed(ctx: AppContext, n: int, rng: random.Random, components: bool) -> None:
    """Bulk-insert ``n`` dossiers (Core executemany in batches; FTS triggers still run)."""
    procs = [(p.code, p.name) for p in CatalogService(ctx).search("", limit=200)]
    clerk_ids = [AccountService(ctx).create_clerk(u, name, "bench-2026", Role.CLERK).id
                 for u, name in CLERKS]
    days = working_days(START, MONTHS)
    per_day = n / len(days)
    with ctx.db.write() as s:
        s.execute(insert(Blob), [{"sha256": BLOB, "size": 1, "media_type": "application/pdf",
                                  "created_at": datetime(2021, 1, 1)}])
    batch = 20_000
    done = 0
    seq_year, seq = 0, 0
    comp_id = 0
    while done < n:
        size = min(batch, n - done)
        apps, doss, comps, files, outbox = [], [], [], [], []
        for i in range(size):
            k = done + i
            day = days[min(len(days) - 1, int(k / per_day))]
            slot = k - round(int(k / per_day) * per_day)
            # Working hours 07:30–17:00, spread over the day's dossiers.
            at = datetime.combine(day, datetime.min.time()) + timedelta(
                minutes=450 + int(max(0, slot) * 570 / max(1.0, per_day)))
            if at.year != seq_year:
                seq_year, seq = at.year, 0
            seq += 1
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            idn = f"0{rng.randint(1, 96):02d}{rng.randint(0, 999999999):09d}"
            phone = f"09{rng.randint(0, 99999999):08d}"
            address = (f"Thôn {rng.choice(VILLAGES)}, {rng.choice(COMMUNES)}, "
                       "tỉnh Thái Nguyên")
            code = f"000.00.12.H12-{at:%y%m%d}-{k:07d}"
            pc, pn = rng.choice(procs)
            status = _status(rng)
            appointment = at + timedelta(days=rng.choice((0, 3, 5, 7, 10)), hours=2)
            returned_at = None
            if status == 10:
                late = rng.random() < 0.08
                returned_at = appointment + (timedelta(hours=rng.randint(1, 72)) if late
                                             else -timedelta(hours=rng.randint(0, 48)))
                returned_at = max(returned_at, at + timedelta(minutes=30))
            did = k + 1
            apps.append({"id": did, "full_name": name, "id_number": idn, "sex": "",
                         "address": address, "phone": phone, "email": "", "created_at": at,
                         "updated_at": at})
            doss.append({
                "id": did, "uuid": f"bench-{k:012d}", "code": code, "slip_number": code,
                "status": status, "channel": 1, "procedure_code": pc, "procedure_name": pn,
                "owner_id": did, "received_at": at, "appointment_at": appointment,
                "time_limit_amount": 5, "time_limit_unit": "working_days", "set_count": 1,
                "delivery": "counter", "delivery_address": "", "fee_total": 0, "reason": "",
                "note": "", "book_number": "01", "sequence_number": seq,
                "clerk_id": rng.choice(clerk_ids), "search_text": fold(f"{code} {name}"),
                "returned_at": returned_at, "returned_to": name if returned_at else "",
                "return_method": ("post" if rng.random() < 0.1 else "counter")
                if returned_at else "", "created_at": at, "updated_at": at,
            })
            sent = rng.random() < 0.98
            outbox.append({
                "entity_type": "dossier", "entity_id": f"bench-{k:012d}",
                "operation": "received", "payload": {}, "state": "sent" if sent else "pending",
                "created_at": at, "next_attempt_at": at,
                "sent_at": at + timedelta(seconds=rng.expovariate(1 / 900)) if sent else None,
            })
            if components:
                digitized = rng.random() < 0.7
                for pos in (0, 1):
                    comp_id += 1
                    comps.append({"id": comp_id, "dossier_id": did, "component_code": f"C{pos}",
                                  "name": "Tờ khai" if pos == 0 else "Giấy tờ cư trú",
                                  "originals": 1, "provided": True, "position": pos})
                    if digitized or (pos == 0 and rng.random() < 0.5):
                        files.append({"component_id": comp_id, "blob_sha256": BLOB,
                                      "file_name": f"{pos}.pdf", "pages": 1, "size": 1,
                                      "dpi": 200, "created_at": at})
        with ctx.db.engine.begin() as conn:
            conn.execute(insert(Applicant), apps)
            conn.execute(insert(Dossier), doss)
            conn.execute(insert(OutboxEntry), outbox)
            if comps:
                conn.execute(insert(DossierComponent), comps)
            if files:
                conn.execute(insert(ComponentFile), files)
        done += size
        print(f"  seeded {done:,}/{n:,}", file=sys.stderr, end="\r")
    print(file=sys.stderr)


# --- child measurements ---------------------------------------------------------------------


def _open(db: Path) -> AppContext:
    clock = FixedClock(datetime(2024, 1, 15, 9, 0))
    return open_station(db.with_suffix(".data"), db_url=f"sqlite:///{db}", clock=clock,
                        sample_catalog=False)


def child(kind: str, db: Path, month: date, out_dir: Path) -> dict[str, Any]:
    from desktop_app.reports import ReportService

    ctx = _open(db)
    svc = ReportService(ctx)
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    year = (date(month.year, 1, 1), date(month.year, 12, 31))
    rows, size = 0, 0
    t = time.perf_counter()
    if kind == "baseline":
        svc.dashboard(month, month)  # imports and a trivial query
    elif kind in ("pdf", "xlsx"):  # rows: see "stream" (not counted here: time and RSS)
        size = svc.export_tracking_book(month, month_end, out_dir / f"book.{kind}").stat().st_size
    elif kind == "stream":
        rows = sum(1 for _ in svc.tracking_book(month, month_end))
    elif kind == "dash-month":
        rows = svc.dashboard(month, month_end).received
    elif kind == "dash-year":
        rows = svc.dashboard(*year).received
    else:
        raise SystemExit(f"unknown measurement {kind}")
    elapsed = time.perf_counter() - t
    ctx.close()
    return {"kind": kind, "rows": rows, "seconds": elapsed, "mb": size / 1e6,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's high-water RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    exec, so a child would report the (large) seeding parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_child(kind: str, db: Path, month: date, out_dir: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--db", str(db), "--month",
           month.strftime("%Y-%m"), "--out", str(out_dir)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        raise SystemExit(f"{kind} failed:\n{res.stderr}")
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None,
                        help="SQLite file to seed (when empty) and reuse")
    parser.add_argument("--month", default="2023-10", help="month of the book, YYYY-MM")
    parser.add_argument("--no-components", action="store_true",
                        help="seed without components/files (faster, digitized share 0)")
    parser.add_argument("--with-indexes", action="store_true",
                        help="add ix on dossier_components.dossier_id and dossiers.returned_at")
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    month = datetime.strptime(args.month, "%Y-%m").date()

    if args.child:
        print(json.dumps(child(args.child, args.db, month, args.out)))
        return

    tmp = tempfile.TemporaryDirectory(prefix="motcua-bench-reports-")
    db: Path = args.db or Path(tmp.name) / "reports.sqlite3"
    db.parent.mkdir(parents=True, exist_ok=True)
    ctx = _open(db)
    with ctx.db.read() as s:
        existing = s.scalar(select(func.count(Dossier.id))) or 0
    seed_s = 0.0
    if existing == 0:
        CatalogService(ctx).ensure_sample_catalog()
        StationService(ctx).save(StationInfo("000.00.12.H12", "UBND XÃ NÀ PHẶC", "Nà Phặc", 1,
                                             "UBND TỈNH THÁI NGUYÊN"))
        print(f"seeding {args.dossiers:,} dossiers into {db}…", file=sys.stderr)
        t = time.perf_counter()
        seed(ctx, args.dossiers, random.Random(args.dossiers), not args.no_components)
        with ctx.db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        seed_s = time.perf_counter() - t
        existing = args.dossiers
    else:
        print(f"reusing {db} with {existing:,} dossiers", file=sys.stderr)
    if args.with_indexes:
        with ctx.db.engine.begin() as conn:
            conn.execute(text("CREATE INDEX IF NOT EXISTS bench_ix_components_dossier "
                              "ON dossier_components (dossier_id)"))
            conn.execute(text("CREATE INDEX IF NOT EXISTS bench_ix_dossiers_returned_at "
                              "ON dossiers (returned_at)"))
            conn.execute(text("ANALYZE"))
    else:
        with ctx.db.engine.begin() as conn:
            conn.execute(text("DROP INDEX IF EXISTS bench_ix_components_dossier"))
            conn.execute(text("DROP INDEX IF EXISTS bench_ix_dossiers_returned_at"))
    ctx.close()

    out_dir = Path(tmp.name) / "out"
    out_dir.mkdir(exist_ok=True)
    labels = {
        "baseline": "cold start: dashboard of 1 day",
        "stream": f"book rows {month:%m/%Y} (iterate)",
        "pdf": f"book PDF {month:%m/%Y}",
        "xlsx": f"book XLSX {month:%m/%Y}",
        "dash-month": f"dashboard {month:%m/%Y}",
        "dash-year": f"dashboard year {month:%Y}",
    }
    results = []
    for kind in labels:
        print(f"  measuring {labels[kind]}…", file=sys.stderr)
        results.append(run_child(kind, db, month, out_dir))
    book_rows = results[1]["rows"]
    print()
    print(f"dossiers in DB: {existing:,}" + (f" (seeded in {seed_s:.0f} s)" if seed_s else "")
          + f"; indexes added: {'yes' if args.with_indexes else 'no'}")
    print(f"{'operation':<30} | {'rows':>8} | {'seconds':>8} | {'MB':>6} | {'peak RSS':>9}")
    print("-" * 74)
    for r in results:
        rows = r["rows"] or (book_rows if r["kind"] in ("pdf", "xlsx") else 0)
        print(f"{labels[r['kind']]:<30} | {rows:>8,} | {r['seconds']:>8.2f} | "
              f"{r['mb']:>6.1f} | {r['peak_rss_mb']:>6.0f} MB")
    if os.environ.get("KEEP_BENCH_OUTPUT"):
        print(f"outputs kept in {out_dir}")
        return
    tmp.cleanup()


if __name__ == "__main__":
    main()
