"""Station -> provincial gateway sync over the emulated commune link (256 kbit/s, 300 ms).

    .venv/bin/python bench/bench_sync.py --quick              # smoke run, under ~2 min
    .venv/bin/python bench/bench_sync.py                      # full run, ~75 min (50 MB twice)
    .venv/bin/python bench/bench_sync.py --only big --big-rate-x 10   # A0 at 2.56 Mbit/s

Everything is real: the gateway (provincial_gateway.server.GatewayServer, uvicorn on
loopback), the station (SQLite data directory in a temp dir, IntakeService.receive,
SyncEngine / TusUploader / GatewayClient) and the link (tests/support/fault_proxy.py).
Prints one table. Targets: goodput >= 85 % of the link rate, bytes re-sent after a cut
<= one chunk (a tus chunk for a file; for dossiers the batch, 64 KiB at most), the
1,000-dossier drain <= 1.5x the one-request baseline. Every scenario has a baseline
measured in the same run:

- goodput, stalls, A0: a naive one-shot upload, i.e. the whole payload in one POST with
  no resume (the gateway's POST /bundles, which reads the whole body before doing
  anything: the payload is the station's own sealed bundle of the same file).
- cut: that one-shot POST cut at the same file offset, then sent again from the start.
- drain: the same queued dossiers in one request (POST /bundles of export_bundle's
  output), against the engine's batches (contract 1.1, POST /dossiers/batch) and, unless
  --no-put-drain, the engine's one PUT per dossier (what a 1.0 gateway gets). Each run
  drains into a gateway of its own, so every one of them stores every dossier anew.
- cutbatch: dossiers in batches with the link cut in the middle of the third batch, then
  resumed: re-sent = dossier bytes on the wire - the documents' bytes, against the batch.

Bytes "on the wire" are the proxy's counters (what crossed the emulated link, request
headers and JSON included). File bytes on the wire = bytes up - request headers - JSON
bodies, the latter two counted exactly on the client (a hook on the requests session);
re-sent = file bytes on the wire - payload size. Clean uploads come out at 0 +- a few
bytes, which the table shows: that is the accuracy of the estimate.

The 1,000 dossiers for the drain are made once with IntakeService.receive (a slip PDF
each, as at the counter) and cached under --cache-dir; later runs copy the data dir."""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

os.environ.setdefault("MOTCUA_NO_KEYRING", "1")  # never touch the machine's real keyring
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService, DigitizedFile
from desktop_app.files import sha256_file
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.model import ColourMode, OutputPart
from desktop_app.startup import open_station
from desktop_app.station import StationService
from desktop_app.sync import bundle_keys
from desktop_app.sync.client import GatewayClient, LinkDown, encode_dossier
from desktop_app.sync.dossier_batch import (
    BATCH_MAX_BYTES,
    BATCH_MAX_ITEMS,
    ENVELOPE_BYTES,
    BatchLimits,
    plan,
)
from desktop_app.sync.service import SyncService
from desktop_app.sync.tus_upload import DEFAULT_CHUNK, MAX_CHUNK, TusUploader
from desktop_app.sync.usb_bundle import export_bundle
from local_db import outbox
from provincial_gateway import bundle_keys as gateway_bundle_keys
from provincial_gateway.db import Dossier as GatewayDossier
from provincial_gateway.server import GatewayServer
from sync_contract import bundle_codec, wire
from tests.conftest import RECEIVED_AT, TEST_STATION
from tests.support.fault_proxy import FaultProxy, LinkProfile
from tests.test_intake import TEST_CATALOG, complete_draft

KiB = 1024
MiB = 1024 * 1024
CACHE_VERSION = "v1"
DAILY = 400  # receives per simulated working day (the daily counter stops at 999)
READ_TIMEOUT_S = 600.0  # the one-shot POST of 50 MB gets its answer only at the very end
# Dossier codes are per station and day, and the gateway refuses a code used by another
# dossier: each scenario's station receives on its own days (the drain's start at
# RECEIVED_AT and take n / DAILY working days).
CUT_DAY = datetime(2024, 3, 4, 8, 0)
A0_DAY = datetime(2024, 3, 5, 8, 0)


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Tally:
    """What the client handed to the socket, request by request (hooked on the session)."""

    requests: int = 0
    header_bytes: int = 0
    json_bytes: int = 0  # other bodies (health, blobs/missing, events…)
    file_bytes: int = 0  # PATCH bodies and one-shot POST bodies
    dossier_bytes: int = 0  # dossier PUT and batch bodies
    batches: int = 0  # POST /dossiers/batch requests
    puts: int = 0  # PUT /dossiers/{id} requests


def _header_size(request: Any, host: str) -> int:
    """Bytes of the request line and headers as http.client writes them (it adds Host)."""
    lines = [f"{request.method} {request.path_url} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items()]
    return sum(len(line.encode("latin-1")) + 2 for line in lines) + 2


def counted_client(base_url: str, token: str, tally: Tally) -> GatewayClient:
    client = GatewayClient(base_url, token)  # the station's own timeouts
    host = urlsplit(client.base_url).netloc
    send = client.session.send

    def hooked(request: Any, **kwargs: Any) -> Any:
        tally.requests += 1
        tally.header_bytes += _header_size(request, host)
        body = request.body or b""
        size = len(body.encode() if isinstance(body, str) else body)
        if request.method == "PATCH" or request.path_url.startswith(wire.BUNDLES):
            tally.file_bytes += size
        elif request.path_url == wire.DOSSIER_BATCH and request.method == "POST":
            tally.dossier_bytes += size
            tally.batches += 1
        elif request.path_url.startswith(wire.PREFIX + "/dossiers/") \
                and request.method == "PUT":
            tally.dossier_bytes += size
            tally.puts += 1
        else:
            tally.json_bytes += size
        return send(request, **kwargs)

    client.session.send = hooked  # type: ignore[method-assign]
    return client


def naive_post(client: GatewayClient, body: bytes, bps: int) -> wire.BundleReceipt:
    """The one-shot upload: the whole body in one POST, nothing to resume from.

    Not GatewayClient.post_bundle: urllib3 sends a request body under the *connect*
    timeout, in one sendall whose timeout is a total deadline (Python >= 3.5), so
    post_bundle's timeout=(15, 600) gives the whole body 15 s to leave the socket. Here
    the send gets four times its time at the link rate, plus two minutes."""
    send_s = len(body) * 8 / bps * 4 + 120
    resp = client.request("POST", wire.BUNDLES, data=body,
                          headers={"Content-Type": "application/octet-stream"},
                          timeout=(send_s, READ_TIMEOUT_S))
    if resp.status_code not in (200, 201):
        raise RuntimeError(f"one-shot POST: HTTP {resp.status_code} {resp.text[:200]}")
    return wire.BundleReceipt.model_validate(resp.json())


class Link(FaultProxy):
    """The fault proxy, also remembering when its random stalls happened."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stall_log: list[tuple[float, float]] = []  # (monotonic start, seconds)

    def _begin_stall(self, seconds: float) -> None:
        self.stall_log.append((time.monotonic(), seconds))  # loop.time() is monotonic
        super()._begin_stall(seconds)

    def stalled_between(self, t0: float, t1: float) -> tuple[int, float]:
        spans = [(max(s, t0), min(s + d, t1)) for s, d in self.stall_log]
        spans = [(a, b) for a, b in spans if b > a]
        return len(spans), sum(b - a for a, b in spans)


@dataclass
class Measure:
    seconds: float
    up: int  # bytes up on the wire
    down: int
    tally: Tally

    @property
    def file_on_wire(self) -> int:
        t = self.tally
        return self.up - t.header_bytes - t.json_bytes - t.dossier_bytes

    @property
    def dossiers_on_wire(self) -> int:
        t = self.tally
        return self.up - t.header_bytes - t.json_bytes - t.file_bytes


@contextmanager
def measuring(link: Link, tally: Tally) -> Iterator[dict[str, Any]]:
    box: dict[str, Any] = {}
    link.reset_counters()
    before = replace(tally)
    t0 = time.monotonic()
    try:
        yield box
    finally:
        seconds = time.monotonic() - t0
        c = link.counters()
        delta = Tally(*(getattr(tally, f) - getattr(before, f)
                        for f in Tally.__dataclass_fields__))
        box["m"] = Measure(seconds, c.bytes_up, c.bytes_down, delta)
        box["t0"], box["t1"] = t0, t0 + seconds


class DropClientDisconnect(logging.Filter):
    """The gateway logs a one-shot POST cut by the link as an unhandled ClientDisconnect
    (500 and two tracebacks): expected in the cut baseline, so kept out of the output."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[0] if record.exc_info else None
        return not ((exc is not None and exc.__name__ == "ClientDisconnect")
                    or "ClientDisconnect" in record.getMessage())


# --- the table ----------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    link: str
    nbytes: int
    seconds: float
    link_bps: int
    resent: int | None = None
    chunk: int | None = None
    baseline: str = "-"
    ratio: float | None = None
    note: str = ""

    @property
    def kbps(self) -> float:
        return self.nbytes * 8 / self.seconds / 1000 if self.seconds > 0 else 0.0

    @property
    def share(self) -> float:
        return self.nbytes * 8 / self.seconds / self.link_bps if self.seconds > 0 else 0.0


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    if abs(n) >= MiB and n % MiB == 0:
        return f"{n // MiB} MiB"
    if abs(n) >= KiB and n % KiB == 0:
        return f"{n // KiB} KiB"
    return f"{n:,}"


def render(rows: list[Row]) -> str:
    head = ["scenario", "link", "bytes", "s", "kbit/s", "% link", "re-sent B", "chunk",
            "baseline", "ratio", "note"]
    body = [[r.scenario, r.link, f"{r.nbytes:,}", f"{r.seconds:.1f}", f"{r.kbps:.1f}",
             f"{100 * r.share:.1f}", "-" if r.resent is None else f"{r.resent:,}",
             _size(r.chunk), r.baseline, "-" if r.ratio is None else f"{r.ratio:.2f}",
             r.note] for r in rows]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    right = {2, 3, 4, 5, 6, 7, 9}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [line(head), "  ".join("-" * w for w in widths)]
    out += [line(cells) for cells in body]
    return "\n".join(out)


# --- station and gateway ------------------------------------------------------------------


def station_ctx(data_dir: Path, clock: FixedClock) -> AppContext:
    return open_station(data_dir, db_url=f"sqlite:///{data_dir / 'm.db'}", clock=clock)


def new_station(data_dir: Path, clock: FixedClock) -> tuple[AppContext, ClerkInfo]:
    ctx = station_ctx(data_dir, clock)
    StationService(ctx).save(TEST_STATION)
    CatalogService(ctx).import_data(TEST_CATALOG)
    clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                             Role.CLERK)
    return ctx, clerk


def receive(ctx: AppContext, clerk: ClerkInfo, files: list[DigitizedFile] | None = None
            ) -> str:
    intake = IntakeService(ctx)
    draft = complete_draft(intake)
    draft.components[0].files = list(files or [])
    return intake.receive(draft, clerk).dossier_uuid


def store_pdf(ctx: AppContext, path: Path) -> DigitizedFile:
    part = OutputPart(path, 1, path.stat().st_size, 1, 1, 300, (ColourMode.GREY,),
                      sha256_file(path))
    return DigitizationService(ctx).store([part])[0]


def make_pdf(path: Path, size: int, seed: int) -> Path:
    """`size` bytes that do not compress, starting like a PDF (what a scan is, for a link)."""
    rng = random.Random(seed)
    head = b"%PDF-1.7\n"
    with path.open("wb") as f:
        f.write(head)
        left = size - len(head)
        while left > 0:
            n = min(left, 4 * MiB)
            f.write(rng.randbytes(n))
            left -= n
    return path


def working_day(start: datetime, k: int) -> datetime:
    day = start
    for _ in range(k):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def build_queue(cache: Path, n: int, rebuild: bool) -> tuple[Path, float, datetime]:
    """A station data dir holding n received, unsent dossiers (metadata only), cached."""
    target = cache / f"station-{n}-{CACHE_VERSION}"
    marker = target / "built.txt"
    if marker.exists() and not rebuild:
        seconds, last = marker.read_text().split()
        return target, float(seconds), datetime.fromisoformat(last)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    clock = FixedClock(RECEIVED_AT)
    ctx, clerk = new_station(target, clock)
    t0 = time.monotonic()
    for i in range(n):
        if i and i % DAILY == 0:
            clock.set(working_day(RECEIVED_AT, i // DAILY))
        receive(ctx, clerk)
    seconds = time.monotonic() - t0
    last = clock.now()
    ctx.close()
    marker.write_text(f"{seconds:.3f} {last.isoformat()}\n")
    return target, seconds, last


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.checks: list[str] = []
        self.seq = 0
        self.window = (0.0, 0.0)  # monotonic start and end of the last tus upload
        self.gw = GatewayServer(work / "gateway").start()
        self.token = self.gw.add_station(TEST_STATION.agency_code, 1, "Quầy 1")
        host, port = self.gw.host, self.gw.port
        self.link = Link(host, port).start()
        # A second gateway for the batched baselines, so both sides start empty; it holds
        # the same bundle identity, so one sealed body serves both.
        (work / "gateway2").mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "gateway" / gateway_bundle_keys.IDENTITY_FILE,
                    work / "gateway2" / gateway_bundle_keys.IDENTITY_FILE)
        self.gw2 = GatewayServer(work / "gateway2").start()
        self.gw2.add_station(TEST_STATION.agency_code, 1, "Quầy 1", token=self.token)
        self.link2 = Link(self.gw2.host, self.gw2.port).start()
        self.signer = Ed25519PrivateKey.generate()
        for gw in (self.gw, self.gw2):
            gateway_bundle_keys.register_for(gw.state, TEST_STATION.agency_code, 1,
                                             bundle_codec.public_key_hex(self.signer))
        self.recipient = gateway_bundle_keys.province_recipient(self.gw.config)
        self.extra: list[Link | GatewayServer] = []

    def fresh_gateway(self, name: str) -> tuple[GatewayServer, Link]:
        """An empty gateway of its own (the same station token) behind its own link."""
        gw = GatewayServer(self.work / name).start()
        gw.add_station(TEST_STATION.agency_code, 1, "Quầy 1", token=self.token)
        link = Link(gw.host, gw.port).start()
        self.extra += [link, gw]
        return gw, link

    def close(self) -> None:
        for thing in (self.link, self.link2, self.gw, self.gw2, *self.extra):
            try:
                thing.stop()
            except Exception as exc:  # report, do not mask the table
                print(f"warning: stopping {type(thing).__name__}: {exc!r}", file=sys.stderr)

    def next_dir(self, name: str) -> Path:
        self.seq += 1
        path = self.work / f"{self.seq:02d}-{name}"
        path.mkdir(parents=True)
        return path

    def client(self, tally: Tally, second: bool = False) -> GatewayClient:
        return counted_client((self.link2 if second else self.link).url_for(), self.token,
                              tally)

    def sealed_file(self, path: Path) -> bytes:
        """The file as a one-shot body: a sealed bundle holding just that file."""
        sha = sha256_file(path)
        member = bundle_codec.Member(bundle_codec.file_member_name(sha), path.stat().st_size,
                                     sha)
        out = io.BytesIO()
        bundle_codec.write_bundle(out, bundle_id=str(uuid.uuid4()),
                                  agency_code=TEST_STATION.agency_code, station_digit=1,
                                  created_at=RECEIVED_AT.isoformat(),
                                  members=[(member, lambda: path.open("rb"))],
                                  signing_key=self.signer, recipient=self.recipient)
        return out.getvalue()

    def bundle_ready(self, ctx: AppContext) -> None:
        """The station's signing key registered and the province's recipient known."""
        client = GatewayClient(self.gw.url, self.token)
        try:
            bundle_keys.ensure_registered(ctx, client.register_bundle_key)
        finally:
            client.close()
        # The second gateway (the baselines') verifies the same station's signature.
        key = bundle_keys.signing_key(ctx, StationService(ctx).require())
        gateway_bundle_keys.register_for(self.gw2.state, TEST_STATION.agency_code, 1,
                                         bundle_codec.public_key_hex(key))

    # --- one-shot baseline ------------------------------------------------------------------

    def one_shot(self, body: bytes, profile: LinkProfile, second: bool = False
                 ) -> tuple[Measure, Any]:
        link = self.link2 if second else self.link
        link.set_profile(profile)
        tally = Tally()
        client = self.client(tally, second)
        try:
            with measuring(link, tally) as box:
                receipt = naive_post(client, body, profile.up_bps or 1)
        finally:
            client.close()
        return box["m"], receipt

    # --- scenarios --------------------------------------------------------------------------

    def tus(self, path: Path, chunk: int, profile: LinkProfile,
            adaptive: bool = False) -> Measure:
        """Fixed ``chunk`` PATCHes, or (``adaptive``) the engine's: from ``chunk`` up."""
        self.link.set_profile(profile)
        tally = Tally()
        client = self.client(tally)
        try:
            with measuring(self.link, tally) as box:
                TusUploader(client, chunk, MAX_CHUNK if adaptive else None).upload(
                    path, sha256_file(path), filename=path.name)
        finally:
            client.close()
        self.window = (box["t0"], box["t1"])
        return box["m"]

    def goodput(self, size: int, chunks: list[int]) -> None:
        profile = LinkProfile.commune()
        label, rate, name = "commune", profile.up_bps or 1, "goodput"
        d = self.next_dir(name)
        base_path = make_pdf(d / "baseline.pdf", size, seed=1000)
        base, _ = self.one_shot(self.sealed_file(base_path), profile)
        base_row = Row(f"{name}: naive one-shot POST", label, size, base.seconds, rate,
                       baseline="(baseline)", ratio=1.0,
                       note=f"1 request, {base.up:,} B up")
        self.rows.append(base_row)
        runs = [(chunk, False) for chunk in chunks] + [(DEFAULT_CHUNK, True)]
        for chunk, adaptive in runs:
            path = make_pdf(d / f"tus-{chunk}-{adaptive}.pdf", size, seed=2000 + chunk)
            m = self.tus(path, chunk, profile, adaptive)
            what = ("tus, chunks grow from 128 KiB (engine default)" if adaptive
                    else "tus, fixed chunk")
            row = Row(f"{name}: {what}", label, size, m.seconds, rate, chunk=chunk,
                      baseline=f"{base_row.kbps:.1f} kbit/s",
                      note=f"{m.tally.requests} requests, {m.up:,} B up (headers "
                           f"{m.tally.header_bytes:,}), residual {m.file_on_wire - size:+,} B")
            row.ratio = row.kbps / base_row.kbps
            self.rows.append(row)
            if adaptive:
                verdict = "PASS" if row.share >= 0.85 else "FAIL"
                self.checks.append(f"{verdict}  goodput of the engine's upload: "
                                   f"{100 * row.share:.1f} % of the link (target >= 85 %)")

    def goodput_stalls(self, size: int, seed: int) -> None:
        """The tus upload, then the baseline; each starts the same seeded stall schedule
        (set_profile with a seed restarts it)."""
        profile = LinkProfile.commune_with_stalls(seed)
        label = f"commune+stalls seed={seed}"
        rate = profile.up_bps or 1
        d = self.next_dir("stalls")
        path = make_pdf(d / "tus.pdf", size, seed=3000 + self.seq)
        self.link.stall_log.clear()
        m = self.tus(path, DEFAULT_CHUNK, profile, adaptive=True)
        n, secs = self.link.stalled_between(*self.window)
        base_path = make_pdf(d / "baseline.pdf", size, seed=3100 + self.seq)
        self.link.stall_log.clear()
        base, _ = self.one_shot(self.sealed_file(base_path), profile)
        bn, bsecs = self.link.stalled_between(time.monotonic() - base.seconds,
                                              time.monotonic())
        base_row = Row("stalls: naive one-shot POST", label, size, base.seconds, rate,
                       baseline="(baseline)", ratio=1.0,
                       note=f"1 request, {bn} stall(s) {bsecs:.1f} s, "
                            f"{_up_share(size, base.seconds, bsecs, rate)}")
        row = Row("stalls: tus (engine default)", label, size, m.seconds, rate,
                  chunk=DEFAULT_CHUNK, baseline=f"{base_row.kbps:.1f} kbit/s",
                  note=f"{m.tally.requests} requests, {n} stall(s) {secs:.1f} s, "
                       f"{_up_share(size, m.seconds, secs, rate)}, "
                       f"residual {m.file_on_wire - size:+,} B")
        row.ratio = row.kbps / base_row.kbps
        self.rows += [base_row, row]
        verdict = "PASS" if row.share >= 0.85 else "FAIL"
        self.checks.append(f"{verdict}  stalls: goodput {100 * row.share:.1f} % of the "
                           f"stall-free link rate with {n} stall(s) totalling {secs:.1f} s "
                           f"(target >= 85 %)")

    def cut(self, size: int, chunk: int) -> None:
        """Cut the connection 80 % into the chunk that crosses 55 % of the file, let the
        engine resume on the next run; the one-shot POST is cut at the same file offset."""
        profile = LinkProfile.commune()
        label = "commune, 1 cut"
        d = self.next_dir("cut")
        ctx, clerk = new_station(d / "station", FixedClock(CUT_DAY))
        try:
            f = store_pdf(ctx, make_pdf(d / "thanh-phan.pdf", size, seed=4000))
            receive(ctx, clerk, [f])
            service = SyncService(ctx)
            cut_at = min(size - 1, (int(size * 0.55) // chunk) * chunk + int(chunk * 0.8))
            # Connection bytes before the file body reaches cut_at: one header per request
            # (health, blobs/missing, create, one PATCH per chunk so far).
            overhead = 600 * (3 + cut_at // chunk) + 200
            tally = Tally()
            client = self.client(tally)
            # Fixed chunks, so the cut lands where computed (on this link the engine's
            # growing chunks stay at their floor anyway).
            engine = service.engine(client, chunk_size=chunk, max_chunk_size=None)
            self.link.set_profile(replace(profile, cut_after_bytes_up=cut_at + overhead))
            with measuring(self.link, tally) as first_box:
                first = engine.run_once(pull=False)
            m1 = first_box["m"]
            if first.files_uploaded or not self.link.cuts:
                self.notes.append("cut: the first run was not cut (check the offsets)")
            self.link.set_profile(profile)
            service.retry()
            with measuring(self.link, tally) as second_box:
                second = engine.run_once(pull=False)
            client.close()
            m2 = second_box["m"]
            if second.files_uploaded != 1 or second.dossiers_sent != 1:
                raise RuntimeError(f"cut: the resumed run did not finish: {second}")
            with ctx.db.read() as s:
                resumed = next(e.response.get("resumed_from") for e in outbox.entries(
                    s, states=("sent",)) if e.entity_type == "file")
        finally:
            ctx.close()
        file_wire = m1.file_on_wire + m2.file_on_wire
        resent = file_wire - size
        cut_file = m1.file_on_wire
        # Baseline: the one-shot POST cut once at the same file offset, then sent whole.
        body = self.sealed_file(d / "thanh-phan.pdf")
        extra = len(body) - size
        tally_b = Tally()
        client_b = self.client(tally_b)
        self.link.set_profile(replace(profile, cut_after_bytes_up=cut_file + 400))
        with measuring(self.link, tally_b) as b1:
            try:
                naive_post(client_b, body, profile.up_bps or 1)
                self.notes.append("cut: the baseline POST was not cut")
            except LinkDown:
                pass
        client_b.close()
        self.link.set_profile(profile)
        client_b = self.client(tally_b)
        with measuring(self.link, tally_b) as b2:
            naive_post(client_b, body, profile.up_bps or 1)
        client_b.close()
        bm1, bm2 = b1["m"], b2["m"]
        base_resent = bm1.file_on_wire + bm2.file_on_wire - len(body)
        seconds = m1.seconds + m2.seconds
        base_seconds = bm1.seconds + bm2.seconds
        rate = profile.up_bps or 1
        base_row = Row("cut: naive one-shot POST", label, size, base_seconds, rate,
                       resent=base_resent, baseline="(baseline)", ratio=1.0,
                       note=f"cut after {bm1.file_on_wire:,} B of body, all sent again "
                            f"(bundle framing {extra} B)")
        row = Row("cut: engine tus, resumed", label, size, seconds, rate, resent=resent,
                  chunk=chunk, baseline=f"{base_resent:,} B",
                  ratio=resent / base_resent if base_resent else None,
                  note=f"cut after {cut_file:,} B of file ({100 * cut_file / size:.0f} %), "
                       f"resumed from {resumed:,}; 2 run_once")
        self.rows += [base_row, row]
        verdict = "PASS" if resent <= chunk else "FAIL"
        self.checks.append(f"{verdict}  cut: {resent:,} B re-sent by tus vs one chunk of "
                           f"{chunk:,} B (target <= one chunk); one-shot re-sent "
                           f"{base_resent:,} B")

    def drain_run(self, cached: Path, last: datetime, n: int, name: str,
                  batch_items: int, export_to: Path | None = None
                  ) -> tuple[Measure, int, Any]:
        """Drain a copy of the cached queue into a fresh gateway over the commune link:
        (measure, run_once calls, the USB export made first when ``export_to``)."""
        profile = LinkProfile.commune()
        d = self.next_dir(name)
        shutil.copytree(cached, d / "station")
        gw, link = self.fresh_gateway(f"gateway-{name}")
        ctx = station_ctx(d / "station", FixedClock(last + timedelta(hours=1)))
        export = None
        try:
            service = SyncService(ctx)
            service.set_token(self.token)  # file store (MOTCUA_NO_KEYRING), for the bundle
            if export_to is not None:
                self.bundle_ready(ctx)
                export = export_bundle(ctx, service, export_to)
                if export.dossiers != n:
                    raise RuntimeError(f"drain: {export.dossiers} dossiers queued, not {n}")
            tally = Tally()
            client = counted_client(link.url_for(), self.token, tally)
            engine = service.engine(client, batch_items=batch_items)
            link.set_profile(profile)
            sent = runs = 0
            with measuring(link, tally) as box:
                while True:
                    report = engine.run_once(pull=False)
                    runs += 1
                    sent += report.dossiers_sent
                    if report.errors:
                        raise RuntimeError(f"drain {name}: {report.errors}")
                    if service.status().pending == 0 or not report.dossiers_sent:
                        break
            client.close()
            if sent != n:
                raise RuntimeError(f"drain {name}: {sent} of {n} dossiers sent")
        finally:
            ctx.close()
        with gw.sessions() as s:
            stored = s.scalar(select(func.count()).select_from(GatewayDossier))
        if stored != n:
            raise RuntimeError(f"drain {name}: the gateway holds {stored} dossiers, not {n}")
        return box["m"], runs, export

    def drain(self, n: int) -> None:
        profile = LinkProfile.commune()
        label = "commune"
        rate = profile.up_bps or 1
        cached, build_s, last = build_queue(Path(self.args.cache_dir), n, self.args.rebuild)
        self.notes.append(f"drain: {n} dossiers made by IntakeService.receive in "
                          f"{build_s:.1f} s ({1000 * build_s / n:.0f} ms each, slip PDF "
                          f"included; cached in {cached})")
        bundle = self.work / "queue.bundle"
        m, runs, export = self.drain_run(cached, last, n, "drain-batched", BATCH_MAX_ITEMS,
                                         export_to=bundle)
        body = Path(export.path).read_bytes()
        base, receipt = self.one_shot(body, profile, second=True)
        if receipt.created != n:
            raise RuntimeError(f"drain baseline: {receipt}")
        base_row = Row(f"drain {n}: all in one POST (baseline)", label, base.up, base.seconds,
                       rate, baseline="(baseline)", ratio=1.0,
                       note=f"{n / base.seconds:.1f} dossiers/s, {base.up / n:,.0f} B up + "
                            f"{base.down / n:,.0f} B down per dossier (sealed bundle)")
        per_batch = n / max(1, m.tally.batches)
        batch_bytes = m.tally.dossier_bytes / max(1, m.tally.batches)
        row = Row(f"drain {n}: engine, batches (1.1)", label, m.up, m.seconds, rate,
                  chunk=BATCH_MAX_BYTES, baseline=f"{base.seconds:.1f} s",
                  ratio=m.seconds / base.seconds,
                  note=f"{n / m.seconds:.1f} dossiers/s, {m.tally.batches} batches "
                       f"(<= {BATCH_MAX_ITEMS} / {BATCH_MAX_BYTES // KiB} KiB; "
                       f"{per_batch:.0f} dossiers, {batch_bytes:,.0f} B "
                       f"each), {m.up / n:,.0f} B up + {m.down / n:,.0f} B down per "
                       f"dossier, {m.tally.requests} requests, {runs} run_once")
        self.rows += [base_row, row]
        verdict = "PASS" if row.ratio is not None and row.ratio <= 1.5 else "FAIL"
        self.checks.append(f"{verdict}  drain {n}: batches {m.seconds:.1f} s vs one request "
                           f"{base.seconds:.1f} s = {row.ratio:.2f}x (target <= 1.5x)")
        rtt = 2 * profile.latency_ms / 1000
        wire_up = m.up * 8 / rate
        wire_down = m.down * 8 / (profile.down_bps or rate)
        rest = m.seconds - wire_up - wire_down - m.tally.requests * rtt
        self.notes.append(
            f"drain {n}, batches: {m.seconds:.1f} s = {wire_up:.1f} s sending "
            f"{m.up:,} B up + {wire_down:.1f} s receiving {m.down:,} B down + "
            f"{m.tally.requests} round trips ({m.tally.requests * rtt:.1f} s) + "
            f"{rest:.1f} s the rest (station and gateway work, commits); the one-request "
            f"baseline sends {base.up:,} B (a sealed bundle)")
        if self.args.no_put_drain:
            return
        mp, runs_p, _ = self.drain_run(cached, last, n, "drain-puts", 0)
        per = mp.seconds / n
        self.rows.append(Row(
            f"drain {n}: engine, 1 PUT each (1.0)", label, mp.up, mp.seconds, rate,
            baseline=f"{base.seconds:.1f} s", ratio=mp.seconds / base.seconds,
            note=f"{n / mp.seconds:.2f} dossiers/s, {1000 * per:.0f} ms each, "
                 f"{mp.up / n:,.0f} B up + {mp.down / n:,.0f} B down per dossier, "
                 f"{mp.tally.requests} requests, {runs_p} run_once; batches "
                 f"{mp.seconds / m.seconds:.1f}x faster"))

    def cut_batch(self, n: int) -> None:
        """Dossiers in batches, the connection cut halfway through the third batch (the
        last when there are fewer), then the next run resumes: what crossed the link for
        dossiers beyond each document once is the re-sent part, at most one batch."""
        profile = LinkProfile.commune()
        label = "commune, 1 cut"
        rate = profile.up_bps or 1
        cached, _, last = build_queue(Path(self.args.cache_dir), n, self.args.rebuild)
        d = self.next_dir("cut-batch")
        shutil.copytree(cached, d / "station")
        gw, link = self.fresh_gateway("gateway-cut-batch")
        ctx = station_ctx(d / "station", FixedClock(last + timedelta(hours=1)))
        try:
            service = SyncService(ctx)
            service.set_token(self.token)
            with ctx.db.read() as s:
                docs = [dict(e.payload) for e in outbox.entries(
                    s, states=(outbox.PENDING,), limit=100_000) if e.entity_type == "dossier"]
            sizes = [len(encode_dossier(doc)) for doc in docs]
            groups = plan(sizes, BatchLimits(BATCH_MAX_ITEMS, BATCH_MAX_BYTES,
                                             wire.DOSSIER_BATCH_MAX_BYTES))

            def body_size(group: list[int]) -> int:
                return ENVELOPE_BYTES + sum(sizes[i] for i in group) + len(group) - 1

            k = min(2, len(groups) - 1)
            cut_size = body_size(groups[k])
            # Headers: health and each batch before, under 1 KB each.
            cut_at = sum(body_size(g) for g in groups[:k]) + cut_size // 2 + 900 * (k + 2)
            tally = Tally()
            client = counted_client(link.url_for(), self.token, tally)
            engine = service.engine(client)
            link.set_profile(replace(profile, cut_after_bytes_up=cut_at))
            with measuring(link, tally) as box1:
                first = engine.run_once(pull=False)
            before = sum(len(g) for g in groups[:k])
            if first.dossiers_sent != before or not link.cuts:
                self.notes.append(f"cutbatch: the cut did not land in batch {k + 1} "
                                  f"({first.dossiers_sent} sent, {link.cuts} cuts)")
            link.set_profile(profile)
            service.retry()
            sent = first.dossiers_sent
            with measuring(link, tally) as box2:
                while sent < n:
                    report = engine.run_once(pull=False)
                    if not report.dossiers_sent:
                        raise RuntimeError(f"cutbatch: stuck at {sent}: {report.errors}")
                    sent += report.dossiers_sent
            client.close()
            with ctx.db.read() as s:
                open_left = len([e for e in outbox.entries(s) if e.entity_type == "dossier"])
        finally:
            ctx.close()
        with gw.sessions() as s:
            stored = s.scalar(select(func.count()).select_from(GatewayDossier))
        if stored != n or open_left:
            raise RuntimeError(f"cutbatch: {stored} stored of {n}, {open_left} left")
        m1, m2 = box1["m"], box2["m"]
        payload = sum(sizes)
        on_wire = m1.dossiers_on_wire + m2.dossiers_on_wire
        resent = on_wire - payload
        self.rows.append(Row(
            "cut: dossier batches, resumed", label, payload, m1.seconds + m2.seconds, rate,
            resent=resent, chunk=BATCH_MAX_BYTES, baseline=f"batch {cut_size:,} B",
            ratio=resent / cut_size,
            note=f"cut in batch {k + 1} of {len(groups)} ({len(groups[k])} dossiers) after "
                 f"{m1.dossiers_on_wire - sum(body_size(g) for g in groups[:k]):,} B of it; "
                 f"{n} dossiers each stored once; {m1.tally.batches + m2.tally.batches} "
                 f"batch requests"))
        verdict = "PASS" if resent <= cut_size else "FAIL"
        self.checks.append(f"{verdict}  cut mid-batch: {resent:,} B of dossiers re-sent vs "
                           f"the cut batch of {cut_size:,} B (target <= one batch, "
                           f"<= {BATCH_MAX_BYTES // KiB} KiB); every dossier stored once")

    def big(self, size: int, rate_x: float, baseline: bool) -> None:
        base_profile = LinkProfile.commune()
        bps = int((base_profile.up_bps or 1) * rate_x)
        profile = replace(base_profile, up_bps=bps, down_bps=bps)
        label = ("commune" if rate_x == 1 else
                 f"commune x{rate_x:g} ({bps / 1000:g} kbit/s, 300 ms)")
        d = self.next_dir("a0")
        ctx, clerk = new_station(d / "station", FixedClock(A0_DAY))
        try:
            src = make_pdf(d / "A0-ban-do-dia-chinh.pdf", size, seed=5000)
            f = store_pdf(ctx, src)
            receive(ctx, clerk, [f])
            service = SyncService(ctx)
            service.set_token(self.token)
            if baseline:
                self.bundle_ready(ctx)
            export = export_bundle(ctx, service, d / "a0.bundle") if baseline else None
            tally = Tally()
            client = self.client(tally)
            engine = service.engine(client)
            self.link.set_profile(profile)
            with measuring(self.link, tally) as box:
                report = engine.run_once(pull=False)
            client.close()
            if report.files_uploaded != 1 or report.dossiers_sent != 1:
                raise RuntimeError(f"A0: {report}")
        finally:
            ctx.close()
        m = box["m"]
        name = f"A0 {size / MiB:g} MiB end to end"
        row = Row(f"{name}: engine", label, size, m.seconds, bps, chunk=DEFAULT_CHUNK,
                  note=f"file + dossier, {m.tally.requests} requests, {m.up:,} B up, "
                       f"residual {m.file_on_wire - size:+,} B")
        if export is not None:
            body = Path(export.path).read_bytes()
            base, _ = self.one_shot(body, profile, second=True)
            base_row = Row(f"{name}: naive one-shot POST", label, size, base.seconds, bps,
                           baseline="(baseline)", ratio=1.0,
                           note=f"file + dossier in 1 request, {base.up:,} B up")
            row.baseline = f"{base_row.kbps:.1f} kbit/s"
            row.ratio = row.kbps / base_row.kbps
            self.rows.append(base_row)
        self.rows.append(row)
        verdict = "PASS" if row.share >= 0.85 else "FAIL"
        self.checks.append(f"{verdict}  {name}: {m.seconds / 60:.1f} min, "
                           f"{100 * row.share:.1f} % of the link ({label}) (target >= 85 %)")


def _up_share(size: int, seconds: float, stalled: float, rate: int) -> str:
    return f"{100 * size * 8 / (seconds - stalled) / rate:.1f} % of the link while up"


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes for a smoke run (under ~2 minutes)")
    p.add_argument("--only", default="goodput,stalls,cut,cutbatch,drain,big",
                   help="comma-separated scenarios (default: all)")
    p.add_argument("--goodput-kib", type=int, help="file for the goodput rows (2048)")
    p.add_argument("--chunks-kib", default="16,64,256", help="tus chunk sizes to compare")
    p.add_argument("--stall-kib", type=int, help="file for the stalls rows (4096)")
    p.add_argument("--seed", type=int, default=7, help="stall schedule seed")
    p.add_argument("--cut-kib", type=int, help="file for the cut rows (1024)")
    p.add_argument("--dossiers", type=int, help="queued dossiers to drain (1000)")
    p.add_argument("--no-put-drain", action="store_true",
                   help="skip the drain by one PUT per dossier (about 6 minutes at 1000)")
    p.add_argument("--cut-dossiers", type=int,
                   help="queued dossiers for the mid-batch cut (200)")
    p.add_argument("--big-mb", type=float, default=None, help="the A0 PDF, MiB (50)")
    p.add_argument("--big-rate-x", type=float, default=1.0,
                   help="link rate multiplier for the A0 rows only (labelled)")
    p.add_argument("--no-big-baseline", action="store_true",
                   help="skip the one-shot POST of the A0 file (saves as long again)")
    p.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir())
                                              / "motcua-bench-sync-cache"))
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached dossier queue")
    args = p.parse_args(argv)
    quick = args.quick
    args.goodput_kib = args.goodput_kib or (192 if quick else 2048)
    args.stall_kib = args.stall_kib or (128 if quick else 4096)
    args.cut_kib = args.cut_kib or (192 if quick else 1024)
    args.dossiers = args.dossiers or (40 if quick else 1000)
    args.cut_dossiers = args.cut_dossiers or (40 if quick else 200)
    args.big_mb = args.big_mb or (0.25 if quick else 50.0)
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("uvicorn.error", "provincial_gateway"):
        logging.getLogger(name).addFilter(DropClientDisconnect())
    started = time.monotonic()
    chunks = [int(x) * KiB for x in args.chunks_kib.split(",") if x.strip()]
    if DEFAULT_CHUNK not in chunks:
        chunks.append(DEFAULT_CHUNK)
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-sync-"))
    bench = Bench(args, work)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("goodput", lambda: bench.goodput(args.goodput_kib * KiB, sorted(chunks))),
        ("stalls", lambda: bench.goodput_stalls(args.stall_kib * KiB, args.seed)),
        ("cut", lambda: bench.cut(args.cut_kib * KiB, DEFAULT_CHUNK)),
        ("cutbatch", lambda: bench.cut_batch(args.cut_dossiers)),
        ("drain", lambda: bench.drain(args.dossiers)),
        ("big", lambda: bench.big(int(args.big_mb * MiB), args.big_rate_x,
                                  not args.no_big_baseline)),
    ]
    try:
        for name, step in steps:
            if name not in args.only:
                continue
            t0 = time.monotonic()
            done = len(bench.rows)
            print(f"[{time.strftime('%H:%M:%S')}] {name} …", file=sys.stderr, flush=True)
            try:
                step()
            except Exception as exc:  # keep the other scenarios' numbers
                traceback.print_exc()
                bench.checks.append(f"ERROR {name}: {type(exc).__name__}: {exc}")
            print(f"[{time.strftime('%H:%M:%S')}] {name} done in "
                  f"{time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
            if len(bench.rows) > done:  # partial results, in case a later step hangs
                print(render(bench.rows[done:]), file=sys.stderr, flush=True)
    finally:
        bench.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"Sync over the emulated link — {'quick' if args.quick else 'full'} run, "
          f"{time.monotonic() - started:.0f} s wall, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("link: commune = 256 kbit/s each way, 150 ms one way (300 ms RTT); % link = "
          "payload bits / s / link rate; ratio = value / baseline of the same scenario "
          "(goodput rows: higher is better; cut: re-sent bytes; drain: seconds)")
    print(f"dossier batches: at most {BATCH_MAX_ITEMS} documents or "
          f"{BATCH_MAX_BYTES // KiB} KiB of body each (the \"chunk\" of a dossier cut)")
    print()
    print(render(bench.rows))
    print()
    for line in bench.checks:
        print(line)
    for line in bench.notes:
        print("note:", line)
    if args.quick:
        print("note: quick sizes: fixed costs (connect, create, last round trip) weigh more "
              "than on the full sizes; judge the targets on the full run")
    return 1 if any(line.startswith("ERROR") for line in bench.checks) else 0


if __name__ == "__main__":
    raise SystemExit(main())
