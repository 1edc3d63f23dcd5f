"""Province-wide load on the gateway: N stations at once, each sending M dossiers and
one file (--mode engine, the default: one sync round as the station's engine makes it,
files first, then dossiers in batches; --mode per-dossier: a file and a round per
dossier), against 1 or 2 gateway processes on one database and one data folder.

    .venv/bin/python bench/bench_gateway_load.py --quick               # smoke run, ~1 min
    .venv/bin/python bench/bench_gateway_load.py --db postgresql --replicas both
    .venv/bin/python bench/bench_gateway_load.py --stations 600 --dossiers 20 --db both

Everything is real and on loopback: the gateways are `python -m provincial_gateway serve`
child processes (`GatewayProcess`) sharing one database (a fresh SQLite file, or a fresh
database on a throw-away PostgreSQL cluster, bench/pg_cluster.py) and one --data folder;
stations are registered once with `admin_ops.add_station` before they start. Each station
sends through the station's own client code, the calls `SyncEngine.run_once` makes for a
dossier with one attached file: `GatewayClient.health` once (batch limits), then per
dossier `missing_blobs([sha])`, `TusUploader.upload` of a fresh file of --file-kib, and the
dossier by `put_dossiers` (a batch of one, as the engine sends whatever is ready when
/health announces batches) or `put_dossier` with --put. Stations are spread over the
replicas round-robin, as a load balancer would; a station keeps its replica (its tus
upload lives there).

Concurrency: one thread per station, all released at the same instant, so all N stations
really are in flight at once (N connections); with --spread S they start evenly over S
seconds instead (dossiers/s is then the arrival rate when the gateways keep up). Two
latencies: a dossier's, from the start of its round to its acknowledgement (p50/p95/p99:
with everything at once this is about the whole run, by Little's law N in flight /
requests per second), and each HTTP request's answer time (requests' `elapsed`). The
threads live in --client-procs processes (default 2) so the load generator's GIL is not
the bottleneck; on a 2-CPU machine the generator still competes with the gateways and
PostgreSQL for the CPUs, which the table shows (client CPU s). Per-dossier latency is
measured on the station: from the missing-blobs check to the dossier's acknowledgement
(file + dossier), its own CPU wait included. No retries: a failed request counts as an
error and its dossier as not sent.

Afterwards the database is checked: exactly N x M dossiers, one per ClientId, and one
change-feed row each. During the run a sampler reads every 100 ms: each gateway process's
RSS (psutil, its children included) and, on PostgreSQL, pg_stat_activity (backends
waiting on a heavyweight lock by wait_event, and those idle in transaction, and how many
distinct backends were seen). SQLite's busy waits happen inside sqlite3 (busy_timeout) and
are not visible: "n/a". CPU: the gateway processes' (with children) and the load
generator's over the run; PostgreSQL's is that of the backends alive at the end, so a
connection opened and closed during the run is missing from it (a lower bound)."""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("MOTCUA_NO_KEYRING", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
from pg_cluster import create_database, pg_cluster

KiB = 1024
MiB = 1024 * 1024
SAMPLE_S = 0.1
NAMESPACE = uuid.UUID("6d6f7463-7561-6265-6e63-686c6f616400")


def agency_code(n: int) -> str:
    return f"000.{n // 100:02d}.{n % 100:02d}.H12"


@dataclass(frozen=True)
class StationSpec:
    index: int
    agency: str
    digit: int
    token: str
    url: str
    delay: float = 0.0  # after the common start (--spread)


def stations_of(n: int, per_agency: int) -> list[tuple[int, str, int, str]]:
    """(index, agency, digit, token): `per_agency` counters per commune."""
    return [(i, agency_code(i // per_agency), i % per_agency + 1,
             f"bench-load-token-{i:05d}-{uuid.uuid5(NAMESPACE, str(i)).hex[:12]}")
            for i in range(n)]


def client_id(station: int, n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{station}/{n}"))


# --- the station side (runs in the load-generator processes) -----------------------------


@dataclass
class StationResult:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)  # HTTP >= 400, exceptions
    acked: int = 0
    uploaded: int = 0
    requests: list[float] = field(default_factory=list)  # each HTTP request's answer time


def run_station(spec: StationSpec, dossiers: int, file_bytes: bytes, use_put: bool,
                start_at: float, out: StationResult, mode: str = "engine") -> None:
    from desktop_app.sync.client import GatewayClient, SyncError, encode_dossier
    from desktop_app.sync.dossier_batch import BatchLimits
    from desktop_app.sync.tus_upload import TusUploader
    from tests.support.gateway_fixtures import sample_document

    client = GatewayClient(spec.url, spec.token)

    def count(resp: Any, *args: Any, **kwargs: Any) -> None:
        out.requests.append(resp.elapsed.total_seconds())
        if resp.status_code >= 400:
            out.statuses[str(resp.status_code)] += 1

    client.session.hooks["response"].append(count)
    uploader = TusUploader(client)
    time.sleep(max(0.0, start_at + spec.delay - time.time()))
    try:
        limits = None if use_put else BatchLimits.announced(client.health())
    except SyncError as exc:
        out.statuses[type(exc).__name__] += dossiers
        return
    if mode == "engine":
        run_engine_round(client, uploader, spec, dossiers, file_bytes, limits, out)
        client.close()
        return
    for n in range(dossiers):
        # A file of its own per dossier: a fresh SHA-256, so the gateway stores each.
        data = hashlib.sha256(f"{spec.index}/{n}".encode()).digest() + file_bytes
        sha = hashlib.sha256(data).hexdigest()
        cid = client_id(spec.index, n)
        doc = sample_document(cid, f"{spec.agency}-231027-{spec.digit}{n:03d}", shas=[sha],
                              agency=spec.agency)
        started = time.perf_counter()
        try:
            if sha in client.missing_blobs([sha]):
                uploader.upload(io.BytesIO(data), sha, filename=f"{cid}.pdf")
                out.uploaded += 1
            if limits is None:
                client.put_dossier(doc)
            else:
                (result,) = client.put_dossiers([(cid, encode_dossier(doc))])
                if isinstance(result, SyncError):
                    raise result
        except SyncError as exc:
            out.statuses[type(exc).__name__] += 1
            continue
        except Exception as exc:
            out.statuses[type(exc).__name__] += 1
            continue
        out.latencies.append(time.perf_counter() - started)
        out.acked += 1
    client.close()


def run_engine_round(client: Any, uploader: Any, spec: StationSpec, dossiers: int,
                     file_bytes: bytes, limits: Any, out: StationResult) -> None:
    """One sync round as `SyncEngine.run_once` makes it after a day's intake: the files the
    gateway lacks first (one here, on the first dossier), then the dossiers in the
    batches `dossier_batch.plan` makes (or one PUT each). A dossier's latency is from the
    start of the round to its acknowledgement, as the counter waits for it."""
    from desktop_app.sync.client import SyncError, encode_dossier
    from desktop_app.sync.dossier_batch import plan
    from tests.support.gateway_fixtures import sample_document

    data = hashlib.sha256(f"{spec.index}".encode()).digest() + file_bytes
    sha = hashlib.sha256(data).hexdigest()
    docs = [(client_id(spec.index, n),
             sample_document(client_id(spec.index, n),
                             f"{spec.agency}-231027-{spec.digit}{n:03d}",
                             shas=[sha] if n == 0 else [], agency=spec.agency))
            for n in range(dossiers)]
    started = time.perf_counter()
    try:
        if sha in client.missing_blobs([sha]):
            uploader.upload(io.BytesIO(data), sha, filename="tep.pdf")
            out.uploaded += 1
    except Exception as exc:  # SyncError or a transport error: the round stops here
        out.statuses[type(exc).__name__] += dossiers
        return
    encoded = [(cid, encode_dossier(doc)) for cid, doc in docs]
    groups = ([[i] for i in range(len(docs))] if limits is None
              else plan([len(body) for _, body in encoded], limits))
    for group in groups:
        try:
            if limits is None:
                client.put_dossier(docs[group[0]][1])
                results: list[Any] = [None]
            else:
                results = client.put_dossiers([encoded[i] for i in group])
        except Exception as exc:
            out.statuses[type(exc).__name__] += len(group)
            continue
        done = time.perf_counter() - started
        for result in results:
            if isinstance(result, SyncError):
                out.statuses[type(result).__name__] += 1
            else:
                out.latencies.append(done)
                out.acked += 1


def client_process(specs: list[StationSpec], dossiers: int, file_kib: int, use_put: bool,
                   start_at: float, queue: Any, mode: str = "engine") -> None:
    import logging

    logging.disable(logging.WARNING)  # the client logs refusals; the table counts them
    file_bytes = os.urandom(file_kib * KiB - 32)
    results = [StationResult() for _ in specs]
    threads = [threading.Thread(target=run_station, daemon=True,
                                args=(spec, dossiers, file_bytes, use_put, start_at, res,
                                      mode))
               for spec, res in zip(specs, results, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = StationResult()
    for r in results:
        total.latencies += r.latencies
        total.statuses.update(r.statuses)
        total.acked += r.acked
        total.uploaded += r.uploaded
        total.requests += r.requests
    cpu = time.process_time()
    queue.put((total.latencies, dict(total.statuses), total.acked, total.uploaded, cpu,
               total.requests))


# --- the gateway side ---------------------------------------------------------------------


@dataclass
class Sampled:
    rss_peak: dict[int, int] = field(default_factory=dict)
    lock_waits: list[int] = field(default_factory=list)
    idle_in_tx: list[int] = field(default_factory=list)
    lock_kinds: Counter[str] = field(default_factory=Counter)
    backends: set[tuple[int, Any]] = field(default_factory=set)  # (pid, backend_start)


class Sampler(threading.Thread):
    """Every SAMPLE_S: RSS of each gateway (with children); on PostgreSQL the lock waits
    and idle-in-transaction backends of the bench database."""

    def __init__(self, procs: list[psutil.Process], pg_url: str | None) -> None:
        super().__init__(daemon=True)
        self.procs, self.pg_url = procs, pg_url
        self.out = Sampled()
        self.stop_event = threading.Event()

    def run(self) -> None:
        conn = None
        if self.pg_url:
            import psycopg

            conn = psycopg.connect(self.pg_url.replace("postgresql+psycopg", "postgresql"),
                                   autocommit=True)
        while not self.stop_event.wait(SAMPLE_S):
            for p in self.procs:
                try:
                    rss = p.memory_info().rss + sum(c.memory_info().rss
                                                    for c in p.children(recursive=True))
                except psutil.Error:
                    continue
                self.out.rss_peak[p.pid] = max(self.out.rss_peak.get(p.pid, 0), rss)
            if conn is not None:
                rows = conn.execute(
                    "SELECT wait_event_type, wait_event, state, pid, backend_start "
                    "FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
                locks = [w for t, w, *_ in rows if t == "Lock"]
                self.out.lock_waits.append(len(locks))
                self.out.lock_kinds.update(locks)
                self.out.idle_in_tx.append(sum(1 for _, _, st, *_ in rows
                                               if st == "idle in transaction"))
                # Connections opened during the run (a pool that closes and reopens its
                # overflow connections shows many more than it keeps).
                self.out.backends.update((pid, start) for *_, pid, start in rows)
        if conn is not None:
            conn.close()


def cpu_seconds(p: psutil.Process) -> float:
    try:
        procs = [p, *p.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for q in procs:
        try:
            t = q.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def postgres_procs(port: int) -> list[psutil.Process]:
    """The cluster's postmaster and its backends (for their CPU)."""
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if p.info["name"] in ("postgres", "postmaster") and f"port={port}" in cmd:
            try:
                return [p, *p.children(recursive=True)]
            except psutil.Error:
                return [p]
    return []


def pg_cpu(port: int | None) -> float:
    return sum(cpu_seconds_one(p) for p in postgres_procs(port)) if port else 0.0


def cpu_seconds_one(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
        return t.user + t.system
    except psutil.Error:
        return 0.0


@dataclass
class Row:
    db: str
    replicas: int
    stations: int
    dossiers: int
    stored: int = 0
    distinct: int = 0
    feed_rows: int = 0
    expected_missing: int = 0
    wall_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    requests: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    rss_mib: list[float] = field(default_factory=list)
    gw_cpu_s: float = 0.0
    pg_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    sampled: Sampled = field(default_factory=Sampled)
    load_before: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0

    def pct(self, q: float, of: list[float] | None = None) -> float:
        values = self.latencies if of is None else of
        if not values:
            return float("nan")
        xs = sorted(values)
        return xs[min(len(xs) - 1, int(q * len(xs)))]


def provision(data: Path, db_url: str | None, n: int, per_agency: int) -> None:
    from provincial_gateway import admin_ops
    from provincial_gateway.config import GatewayConfig
    from provincial_gateway.state import open_state

    state = open_state(GatewayConfig(data_dir=data, db_url=db_url))
    try:
        for _, agency, digit, token in stations_of(n, per_agency):
            admin_ops.add_station(state, agency, digit, f"Quầy {digit}", token)
    finally:
        state.close()


def check_database(data: Path, db_url: str | None, row: Row, n: int, m: int) -> None:
    from sqlalchemy import func, select

    from provincial_gateway.config import GatewayConfig
    from provincial_gateway.db import Change, Dossier
    from provincial_gateway.state import open_state

    state = open_state(GatewayConfig(data_dir=data, db_url=db_url))
    try:
        with state.sessions() as s:
            row.stored = s.scalar(select(func.count(Dossier.id))) or 0
            row.distinct = s.scalar(select(func.count(func.distinct(Dossier.client_id)))) or 0
            row.feed_rows = s.scalar(select(func.count(Change.seq))) or 0
            stored = set(s.scalars(select(Dossier.client_id)))
        expected = {client_id(i, j) for i in range(n) for j in range(m)}
        row.expected_missing = len(expected - stored)
    finally:
        state.close()


def run_config(base: Path, db: str, db_url: str | None, pg_port: int | None, replicas: int,
               args: argparse.Namespace) -> Row:
    from provincial_gateway.server import GatewayProcess, free_port

    n, m = args.stations, args.dossiers
    row = Row(db, replicas, n, m, load_before=os.getloadavg()[0])
    data = base / f"gw-{db}-{replicas}"
    provision(data, db_url, n, args.per_agency)
    gateways = []
    for r in range(replicas):
        gw = GatewayProcess(data, port=free_port(), db_url=db_url,
                            extra_args=("--log-level", args.log_level, *args.serve_args))
        gw.log_path = data / f"gateway-{r}.log"
        gateways.append(gw.start())
    try:
        procs = [psutil.Process(gw.pid) for gw in gateways]
        specs = [StationSpec(i, agency, digit, token, gateways[i % replicas].url,
                             args.spread * i / n)
                 for i, agency, digit, token in stations_of(n, args.per_agency)]
        sampler = Sampler(procs, db_url if db == "postgresql" else None)
        gw_cpu0 = sum(cpu_seconds(p) for p in procs)
        pg_cpu0 = pg_cpu(pg_port)
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        k = max(1, min(args.client_procs, n))
        # Time enough for the spawned interpreters to import and start their threads.
        start_at = time.time() + 3.0 + n / 200
        workers = [ctx.Process(target=client_process,
                               args=(specs[c::k], m, args.file_kib, args.put, start_at, queue,
                                     args.mode))
                   for c in range(k)]
        for w in workers:
            w.start()
        sampler.start()
        results = [queue.get(timeout=args.timeout) for _ in workers]
        row.wall_s = time.time() - start_at
        sampler.stop_event.set()
        sampler.join()
        for w in workers:
            w.join(timeout=30)
        row.gw_cpu_s = sum(cpu_seconds(p) for p in procs) - gw_cpu0
        row.pg_cpu_s = pg_cpu(pg_port) - pg_cpu0
        for latencies, statuses, _acked, _uploaded, cpu, requests in results:
            row.requests += requests
            row.latencies += latencies
            row.statuses.update(statuses)
            row.client_cpu_s += cpu
        row.sampled = sampler.out
        row.rss_mib = [sampler.out.rss_peak.get(p.pid, 0) / MiB for p in procs]
    finally:
        for gw in gateways:
            gw.stop()
    check_database(data, db_url, row, n, m)
    return row


# --- report -------------------------------------------------------------------------------


def fmt_row(r: Row) -> list[str]:
    n = r.stations * r.dossiers
    ok = r.stored == n and r.distinct == n and r.feed_rows == n and not r.expected_missing
    stored = f"{r.stored}/{n}" + (" ok" if ok else
                                  f" (distinct {r.distinct}, feed {r.feed_rows}, "
                                  f"missing {r.expected_missing})")
    errors = ", ".join(f"{k}:{v}" for k, v in sorted(r.statuses.items())) or "0"
    per = max(1, len(r.latencies))
    if r.db == "postgresql" and r.sampled.lock_waits:
        lw = r.sampled.lock_waits
        it = r.sampled.idle_in_tx
        kinds = ",".join(f"{k}:{v}" for k, v in r.sampled.lock_kinds.most_common(3))
        locks = (f"{max(lw)}/{statistics.mean(lw):.1f} [{kinds or '-'}]; "
                 f"idle-in-tx {max(it)}/{statistics.mean(it):.1f}; "
                 f"backends seen {len(r.sampled.backends)}")
    else:
        locks = "n/a"
    return [r.db, str(r.replicas), f"{r.stations}x{r.dossiers}", stored,
            f"{r.wall_s:.1f}", f"{r.rate:.0f}", f"{r.pct(0.5):.2f}", f"{r.pct(0.95):.2f}",
            f"{r.pct(0.99):.2f}", f"{r.pct(0.5, r.requests):.2f}/{r.pct(0.99, r.requests):.2f}",
            errors, "/".join(f"{x:.0f}" for x in r.rss_mib),
            f"{1000 * r.gw_cpu_s / per:.1f}",
            f"{1000 * r.pg_cpu_s / per:.1f}" if r.db == "postgresql" else "-",
            f"{1000 * r.client_cpu_s / per:.1f}", locks, f"{r.load_before:.2f}"]


HEADER = ["db", "repl", "N x M", "stored (db check)", "wall s", "dossiers/s", "p50 s",
          "p95 s", "p99 s", "request p50/p99 s", "HTTP/client errors", "peak RSS MiB",
          "gw CPU ms/d",
          "pg CPU ms/d", "client CPU ms/d",
          "lock waits max/mean [wait_event]; idle in transaction max/mean", "load before"]


def print_table(rows: list[Row]) -> None:
    table = [HEADER] + [fmt_row(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    for k, line in enumerate(table):
        print(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
        if k == 0:
            print("-+-".join("-" * w for w in widths))
    for db in sorted({r.db for r in rows}):
        one = next((r for r in rows if r.db == db and r.replicas == 1), None)
        two = next((r for r in rows if r.db == db and r.replicas == 2), None)
        if one and two and one.rate:
            print(f"{db}: 2 replicas / 1 replica = {two.rate / one.rate:.2f}x dossiers/s, "
                  f"p99 {two.pct(0.99):.2f} s vs {one.pct(0.99):.2f} s")


@contextmanager
def databases(kind: str) -> Iterator[tuple[str | None, int | None]]:
    """(server URL, port) for PostgreSQL; (None, None) for SQLite."""
    if kind == "sqlite":
        yield None, None
        return
    with pg_cluster() as server:
        yield server, int(server.rsplit(":", 1)[1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stations", type=int, default=600)
    p.add_argument("--dossiers", type=int, default=20, help="per station")
    p.add_argument("--file-kib", type=int, default=200, help="the file of each dossier")
    p.add_argument("--per-agency", type=int, default=3, help="counters per commune")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    p.add_argument("--replicas", choices=["1", "2", "both"], default="both")
    p.add_argument("--client-procs", type=int, default=2,
                   help="load-generator processes (threads: one per station)")
    p.add_argument("--mode", choices=["engine", "per-dossier"], default="engine",
                   help="engine: each station's one file, then its dossiers in the engine's "
                        "batches (the issue's load); per-dossier: a file and a round per "
                        "dossier")
    p.add_argument("--spread", type=float, default=0.0, metavar="S",
                   help="stations start evenly over S seconds instead of all at once")
    p.add_argument("--put", action="store_true",
                   help="one PUT per dossier instead of batches")
    p.add_argument("--log-level", default="info", help="the gateways' --log-level")
    p.add_argument("--serve-arg", dest="serve_args", action="append", default=[],
                   metavar="ARG", help="one more argument for `serve` (repeatable), e.g. "
                                       "--serve-arg=--db-pool --serve-arg=40")
    p.add_argument("--timeout", type=float, default=900.0, help="per configuration, s")
    p.add_argument("--quick", action="store_true", help="60 stations x 3 dossiers, 64 KiB")
    p.add_argument("--keep", action="store_true", help="keep the data folders")
    args = p.parse_args(argv)
    if args.quick:
        args.stations, args.dossiers, args.file_kib = 60, 3, 64
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    counts = [1, 2] if args.replicas == "both" else [int(args.replicas)]
    files = "one per station" if args.mode == "engine" else "one per dossier"
    print(f"{args.stations} stations x {args.dossiers} dossiers, {args.file_kib} KiB files "
          f"({files}), {'PUT each' if args.put else 'batches'}, "
          f"{f'starts spread over {args.spread:g} s' if args.spread else 'all at once'}, "
          f"{os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()}", flush=True)
    rows: list[Row] = []
    base = Path(tempfile.mkdtemp(prefix="motcua-bench-load-"))
    try:
        for kind in kinds:
            with databases(kind) as (server, port):
                for replicas in counts:
                    db_url = None
                    if server:
                        db_url = create_database(server, f"load_{replicas}")
                    row = run_config(base, kind, db_url, port, replicas, args)
                    rows.append(row)
                    print_table([row])
                    print(flush=True)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(base, ignore_errors=True)
    print_table(rows)
    n = args.stations * args.dossiers
    bad = [r for r in rows if r.stored != n or r.distinct != n or r.statuses]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
