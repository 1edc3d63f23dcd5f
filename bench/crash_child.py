"""The station process that bench/crash_harness.py kills with SIGKILL.

    python bench/crash_child.py setup --data DIR --gateway-url URL --token TOKEN
    python bench/crash_child.py work --data DIR --markers FILE --seed N [--chunk BYTES]
    python bench/crash_child.py drain --data DIR [--clock-skew SECONDS]

`work` loops until killed: receive a dossier at the counter (0-2 digitized files of
100-400 KB random bytes), now and then attach one more file to an earlier dossier (a new
revision), then run one sync (tus upload, dossier PUT, events, pull) with a small chunk.
It appends a phase name to the marker file at every step, so the harness can tell where
a kill landed; the invariants themselves come from the databases, never from markers.

`drain` runs the sync engine until the outbox is empty or stops moving; with
`--clock-skew` its clock runs ahead (a diagnostic for leases left by a killed process).
The real drain after the crashes is `motcua sync --once`, run by the harness.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Written before the heavy imports so that a kill during start-up is counted as such.
_MARK_FD: int | None = None
_ECHO = False  # --echo-markers: also on stdout, which the harness reads to aim a kill


def mark(phase: str) -> None:
    line = f"{phase}\n".encode()
    if _MARK_FD is not None:
        os.write(_MARK_FD, line)
    if _ECHO:
        os.write(1, line)


def _open_markers(path: str) -> None:
    global _MARK_FD
    _MARK_FD = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    mark("boot")


if __name__ == "__main__":
    _argv = sys.argv[1:]
    _ECHO = "--echo-markers" in _argv
    if "--markers" in _argv:
        _open_markers(_argv[_argv.index("--markers") + 1])
    REPO = Path(__file__).resolve().parent.parent
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))

import hashlib  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from desktop_app.accounts import AccountService, ClerkInfo, Role  # noqa: E402
from desktop_app.clock import SystemClock  # noqa: E402
from desktop_app.context import AppContext  # noqa: E402
from desktop_app.digitization import DigitizationService, DigitizedFile  # noqa: E402
from desktop_app.intake.drafts import IntakeDraft, PersonInfo  # noqa: E402
from desktop_app.intake.service import IntakeService  # noqa: E402
from desktop_app.scanning.model import ColourMode, OutputPart  # noqa: E402
from desktop_app.startup import open_station  # noqa: E402
from desktop_app.station import StationInfo, StationService  # noqa: E402
from desktop_app.sync.engine import SyncEngine  # noqa: E402
from desktop_app.sync.service import SyncService  # noqa: E402
from local_db.models import Dossier  # noqa: E402

AGENCY = "000.00.12.H12"
STATION = StationInfo(agency_code=AGENCY, agency_name="UBND XÃ NÀ PHẶC",
                      parent_name="UBND TỈNH THÁI NGUYÊN", place_name="Nà Phặc",
                      station_digit=1)
# The station's own procedures (like tests/test_intake.py's TEST_CATALOG): codes the
# gateway's catalog does not hold, so a catalog pull never re-imports them. With
# --procedures sample the child uses the shared sample catalog instead (which the pull
# re-imports: see the harness's --sample-procedures).
OWN_CATALOG = {
    "catalog_version": "crash-1",
    "procedures": [
        {
            "code": "9.000005",
            "name": "Cấp Giấy xác nhận thử nghiệm năm ngày",
            "field_code": "HT",
            "field_name": "Hộ tịch",
            "time_limit": {"amount": 5, "unit": "working_days", "text": "05 ngày làm việc"},
            "fees": [{"code": "LP", "name": "Lệ phí", "amount": 2000, "kind": "lệ phí"}],
            "components": [
                {"code": "TK", "name": "Tờ khai theo mẫu", "originals": 1, "required": True},
                {"code": "GT", "name": "Giấy tờ chứng minh nơi cư trú", "photocopies": 1,
                 "required": True},
                {"code": "UQ", "name": "Văn bản ủy quyền (nếu nộp thay)", "originals": 1,
                 "required": False},
            ],
        },
        {
            "code": "9.000000",
            "name": "Chứng thực thử nghiệm trong ngày",
            "time_limit": {"amount": 0, "unit": "same_day", "text": "Trong ngày"},
            "components": [{"code": "BC", "name": "Bản chính giấy tờ", "originals": 1}],
        },
    ],
}
PROCEDURES = {"own": ("9.000005", "9.000000"),
              "sample": ("1.004873", "1.001193", "2.000635")}  # resources/catalog
CLERK = ("huong", "Triệu Thị Hương", "mat-khau-crash-1")
DAILY_CAP = 950  # dossier codes are {digit}{NNN}: at most 999 a day per station
SHARED_POOL = 6  # files drawn from this pool of seeds recur across dossiers (dedup paths)


class SkewedClock(SystemClock):
    def __init__(self, skew_s: float) -> None:
        self.skew = timedelta(seconds=skew_s)

    def now(self) -> datetime:
        return super().now() + self.skew


def _context(data: Path, skew_s: float = 0.0) -> AppContext:
    clock = SkewedClock(skew_s) if skew_s else SystemClock()
    return open_station(data, clock=clock, sample_catalog=False)


# --- setup ---------------------------------------------------------------------------


def cmd_setup(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from desktop_app.catalog import CatalogService

    ctx = open_station(args.data, clock=SystemClock())
    try:
        CatalogService(ctx).import_data(OWN_CATALOG)
        StationService(ctx).save(replace(STATION, gateway_url=args.gateway_url))
        SyncService(ctx).set_token(args.token)
        AccountService(ctx).create_clerk(CLERK[0], CLERK[1], CLERK[2], Role.CLERK)
    finally:
        ctx.close()
    return 0


# --- work ----------------------------------------------------------------------------


class Worker:
    def __init__(self, ctx: AppContext, seed: int, chunk: int, incoming: Path,
                 procedures: tuple[str, ...]) -> None:
        self.ctx = ctx
        self.procedures = procedures
        self.rng = random.Random(seed)
        self.seed = seed
        self.incoming = incoming
        self.intake = IntakeService(ctx)
        self.digitize = DigitizationService(ctx)
        self.sync = SyncService(ctx)
        self.clerk = self._clerk()
        self.engine = self.sync.engine(chunk_size=chunk, rng=random.Random(seed))
        self._instrument(self.engine)
        self.n_files = 0

    def _clerk(self) -> ClerkInfo:
        return next(c for c in AccountService(self.ctx).list_clerks() if c.username == CLERK[0])

    @staticmethod
    def _instrument(engine: SyncEngine) -> None:
        """Phase markers around each step of a sync run (wrappers, no behaviour change)."""

        def around(obj: object, name: str, phase: str) -> None:
            inner = getattr(obj, name)

            def wrapped(*a: object, **kw: object) -> object:
                mark(phase)
                try:
                    return inner(*a, **kw)
                finally:
                    mark(phase + "-done")

            setattr(obj, name, wrapped)

        around(engine.client, "health", "health")
        around(engine, "push_files", "files")
        around(engine.uploader, "upload", "upload")
        around(engine, "push_dossiers", "dossiers")
        around(engine.client, "put_dossier", "put")
        around(engine.client, "put_dossiers", "put")  # a batch (contract 1.1)
        around(engine, "push_events", "events")
        around(engine.puller, "pull", "pull")

    # The counter side.

    def _file(self) -> DigitizedFile:
        self.n_files += 1
        if self.rng.random() < 0.12:
            src_seed = 1_000_000 + self.rng.randrange(SHARED_POOL)  # recurring content
        else:
            src_seed = self.rng.getrandbits(62)
        data_rng = random.Random(src_seed)
        size = data_rng.randrange(100_000, 400_000)
        data = b"%PDF-1.7\n" + data_rng.randbytes(size)
        self.incoming.mkdir(parents=True, exist_ok=True)
        path = self.incoming / f"scan-{os.getpid()}-{self.n_files}.pdf"
        path.write_bytes(data)
        part = OutputPart(path, 1, len(data), 1, 1, 300, (ColourMode.GREY,),
                          hashlib.sha256(data).hexdigest())
        try:
            return self.digitize.store([part])[0]
        finally:
            path.unlink(missing_ok=True)

    def _received_today(self) -> int:
        today = self.ctx.clock.now().replace(hour=0, minute=0, second=0)
        with self.ctx.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(Dossier).where(
                Dossier.code.is_not(None), Dossier.received_at >= today)) or 0)

    def receive(self) -> None:
        if self._received_today() >= DAILY_CAP:
            return
        mark("intake")
        n = self.rng.choices((0, 1, 2), weights=(3, 5, 2))[0]
        files = [self._file() for _ in range(n)]
        proc = self.intake.catalog.get(self.rng.choice(self.procedures))
        draft = IntakeDraft.for_procedure(proc)
        draft.owner = PersonInfo(full_name="Nguyễn Thị Ánh Tuyết",
                                 id_number=f"0191{self.rng.randrange(10**8):08d}",
                                 address="Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên",
                                 phone="0912 345 678")
        for c in draft.components:
            c.provided = c.required
        draft.components[0].files = files
        self.intake.receive(draft, self.clerk)
        mark("intake-done")

    def attach(self) -> None:
        """One more file on an earlier dossier: the province gets it as a new revision."""
        with self.ctx.db.read() as s:
            ids = list(s.scalars(select(Dossier.id).where(Dossier.code.is_not(None))
                                 .order_by(Dossier.id)))
        if not ids:
            return
        mark("attach")
        f = self._file()
        self.digitize.attach(self.rng.choice(ids), 0, [f], self.clerk)
        mark("attach-done")

    def run(self) -> None:
        self.sync.retry()  # a restarted station tries at once, not after its backoff
        mark("ready")
        while True:
            roll = self.rng.random()
            if roll < 0.7:
                self.receive()
            elif roll < 0.85:
                self.attach()
            self.sync.retry()
            mark("sync")
            report = self.engine.run_once(pull=True)
            mark("idle")
            if not report.online or report.pushed == 0:
                time.sleep(0.2)


def cmd_work(args: argparse.Namespace) -> int:
    ctx = _context(args.data)
    try:
        Worker(ctx, args.seed, args.chunk, args.incoming or args.data.parent / "incoming",
               PROCEDURES[args.procedures]).run()
    finally:
        ctx.close()
    return 0


# --- drain ---------------------------------------------------------------------------


def cmd_drain(args: argparse.Namespace) -> int:
    ctx = _context(args.data, args.clock_skew)
    try:
        service = SyncService(ctx)
        engine = service.engine()
        for _ in range(args.rounds):
            service.retry()
            report = engine.run_once(pull=False)
            status = service.status()
            print(f"drain: online={report.online} pushed={report.pushed} "
                  f"pending={status.pending} refused={status.refused} errors={report.errors}",
                  flush=True)
            if status.pending == 0 or (report.online and report.pushed == 0
                                       and report.retry_later == 0):
                break
            if not report.online:
                time.sleep(1)
        status = service.status()
        return 0 if status.pending == 0 and status.refused == 0 else 1
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="crash_child")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--data", type=Path, required=True)
    s.add_argument("--gateway-url", required=True)
    s.add_argument("--token", required=True)
    w = sub.add_parser("work")
    w.add_argument("--data", type=Path, required=True)
    w.add_argument("--markers", required=True)
    w.add_argument("--seed", type=int, required=True)
    w.add_argument("--chunk", type=int, default=32 * 1024)
    w.add_argument("--incoming", type=Path, default=None)
    w.add_argument("--procedures", choices=sorted(PROCEDURES), default="own")
    w.add_argument("--echo-markers", action="store_true", help="phase markers on stdout too")
    d = sub.add_parser("drain")
    d.add_argument("--data", type=Path, required=True)
    d.add_argument("--clock-skew", type=float, default=0.0)
    d.add_argument("--rounds", type=int, default=30)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return {"setup": cmd_setup, "work": cmd_work, "drain": cmd_drain}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
