"""Crash test of intake + sync: SIGKILL the station (and the gateway) at random moments,
hundreds of times, then check the invariants against both databases.

    .venv/bin/python bench/crash_harness.py --kills 300 [--gateway-kills 50] [--seed N]

Set-up: one station data directory (SQLite, real SystemClock) and one gateway started
as a subprocess (GatewayProcess, SQLite), both under a temporary directory, with the
gateway behind tests/support/fault_proxy.py capped at --up-bps (2 Mbit/s) so kills land
in the middle of tus uploads. Each run starts bench/crash_child.py `work` (receive
dossiers with 0-2 files of 100-400 KB, attach files to earlier ones, sync with a 32 KiB
chunk) and kills it with SIGKILL: 0-1.5 s after it is ready; or, in a share of the runs,
a few milliseconds after a chosen phase starts (a dossier PUT, the answer to one, the end
of an upload, intake, pull: the child echoes its phase markers on a pipe); or during
start-up. Gateway kills are spread over the runs: the gateway gets SIGKILL while the
child syncs and is restarted on the same port.

After the last kill the link is set to full speed, `motcua sync --once` drains the
outbox (the same command a technician or a scheduled task runs) and the harness checks:

  * every dossier the station received (a row with a code) is on the gateway exactly
    once, with the station's latest revision and the same file list;
  * no duplicate client_id or MaHoSo on the gateway, no gateway dossier unknown to the
    station;
  * every file a gateway dossier references is a blob whose file hashes to its name (and
    every blob the gateway holds does);
  * no outbox entry is left pending or refused after the drain;
  * the station's blob store holds only whole files named by their hash, no leftover
    temporary files, and both SQLite databases pass PRAGMA integrity_check.

When entries are left, the harness prints them and repeats the checks after a
diagnostic drain whose clock runs past every lease (so the other invariants can still
be judged), and reports both. Where the kills landed comes from phase markers the child
writes; the invariants come from the databases only.

Deterministic given --seed except for timing (where in the child's work a kill lands).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from desktop_app.blobs import BlobStore, BlobStoreError, blob_key  # noqa: E402
from desktop_app.db_encryption import existing_key  # noqa: E402
from desktop_app.files import sha256_file  # noqa: E402
from desktop_app.paths import DataPaths  # noqa: E402
from local_db.engine import connect_sqlite  # noqa: E402
from provincial_gateway import admin_cli  # noqa: E402
from provincial_gateway.config import DEFAULT_CATALOG  # noqa: E402
from provincial_gateway.server import GatewayProcess  # noqa: E402
from tests.support.fault_proxy import FaultProxy, LinkProfile  # noqa: E402

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CHILD = Path(__file__).resolve().parent / "crash_child.py"
AGENCY = "000.00.12.H12"
TOKEN = "crash-harness-station-token-0123456789abcdef"
READY_TIMEOUT_S = 60.0
# A lease outlives the process that took it (desktop_app/sync/engine.py LEASE_S);
# the diagnostic drain runs its clock this far ahead.
LEASE_SKEW_S = 700.0

# Last phase marker written by the child -> where the kill landed.
PHASES = {
    "boot": "startup", "ready": "other",
    "intake": "intake", "intake-done": "intake", "attach": "intake", "attach-done": "intake",
    "sync": "other", "health": "other", "health-done": "other",
    "files": "upload", "files-done": "upload", "upload": "upload", "upload-done": "upload",
    "dossiers": "dossier PUT", "dossiers-done": "dossier PUT", "put": "dossier PUT",
    "put-done": "dossier PUT",
    "events": "other", "events-done": "other",
    "pull": "pull", "pull-done": "pull", "idle": "other",
}
# Aimed kills: (weight, max delay in seconds after the phase marker). `put-done` and
# `upload-done` are the windows where the gateway has the item but the station has not
# recorded it yet; `put` straddles the gateway's commit.
TARGETS = {
    "put": (0.35, 0.04),
    "put-done": (0.2, 0.01),
    "upload-done": (0.15, 0.01),
    "intake": (0.15, 0.25),
    "pull": (0.15, 0.05),
}
TARGET_TIMEOUT_S = 3.0
CATEGORIES = ("startup", "intake", "upload", "dossier PUT", "pull", "other")


@dataclass
class Config:
    kills: int = 300
    gateway_kills: int = 0
    seed: int = 1
    max_delay_s: float = 1.5
    startup_share: float = 0.1  # runs whose kill delay counts from process start
    target_share: float = 0.4  # runs killed just after a chosen phase starts (TARGETS)
    chunk: int = 32 * 1024
    up_bps: int = 2_000_000
    workdir: Path | None = None  # default: a fresh temporary directory, removed if clean
    keep: bool = False
    # Use procedures of the sample catalog the gateway also serves (reproduces the catalog
    # pull failing on procedures that dossiers reference) instead of station-own codes.
    sample_procedures: bool = False
    # PostgreSQL instead of the SQLite files (the station's database shared on a LAN).
    station_db_url: str = ""
    gateway_db_url: str = ""


@dataclass
class Check:
    """Invariants read from the two databases and the two blob stores."""

    local_dossiers: int = 0
    gateway_dossiers: int = 0
    missing: list[str] = field(default_factory=list)  # local code not on the gateway
    duplicate_client_ids: int = 0
    duplicate_codes: int = 0
    unknown_on_gateway: list[str] = field(default_factory=list)
    code_mismatch: list[str] = field(default_factory=list)
    stale_revision: list[str] = field(default_factory=list)  # gateway revision != local
    file_list_mismatch: list[str] = field(default_factory=list)
    blobs_referenced: int = 0
    blob_missing: list[str] = field(default_factory=list)  # referenced, no row or no file
    blob_hash_mismatch: list[str] = field(default_factory=list)
    outbox_counts: dict[str, int] = field(default_factory=dict)
    outbox_stuck: list[dict] = field(default_factory=list)
    local_blob_bad: list[str] = field(default_factory=list)  # final name, wrong content
    local_blob_row_missing_file: list[str] = field(default_factory=list)
    local_tmp_files: list[str] = field(default_factory=list)
    station_integrity: str = ""
    gateway_integrity: str = ""
    gateway_partials_left: int = 0  # informational: tus .part files still on disk
    gateway_open_uploads: int = 0  # informational: tus uploads never finished

    def violations(self) -> list[str]:
        out = []
        for name in ("missing", "unknown_on_gateway", "code_mismatch", "stale_revision",
                     "file_list_mismatch", "blob_missing", "blob_hash_mismatch",
                     "outbox_stuck", "local_blob_bad", "local_blob_row_missing_file",
                     "local_tmp_files"):
            items = getattr(self, name)
            if items:
                out.append(f"{name}: {len(items)} (e.g. {items[0]})")
        if self.duplicate_client_ids or self.duplicate_codes:
            out.append(f"duplicates on the gateway: client_id {self.duplicate_client_ids}, "
                       f"MaHoSo {self.duplicate_codes}")
        if self.station_integrity != "ok":
            out.append(f"station DB integrity_check: {self.station_integrity}")
        if self.gateway_integrity != "ok":
            out.append(f"gateway DB integrity_check: {self.gateway_integrity}")
        return out


@dataclass
class Result:
    config: Config
    workdir: Path
    runs: int = 0
    kills: Counter = field(default_factory=Counter)  # by category
    targeted: Counter = field(default_factory=Counter)  # aimed kills that found their phase
    gateway_kills: int = 0
    child_errors: list[str] = field(default_factory=list)  # children that died on their own
    drain_exits: list[int] = field(default_factory=list)  # `motcua sync --once` exit codes
    drain_output: str = ""
    after_drain: Check = field(default_factory=Check)
    after_lease_expiry: Check | None = None
    wall_s: float = 0.0

    @property
    def final(self) -> Check:
        """The state everything converged to: after the diagnostic drain past the leases
        when the real drain left entries, else after the real drain."""
        return self.after_lease_expiry or self.after_drain

    def safety_violations(self) -> list[str]:
        """Lost, doubled or damaged data, judged on the converged state."""
        return self.final.violations()

    def liveness_violations(self) -> list[str]:
        """What `motcua sync --once` right after the last kill did not get done."""
        out = self.after_drain.violations()
        if self.drain_exits and self.drain_exits[-1] != 0:
            out.append(f"`motcua sync --once` exit codes {self.drain_exits} (0 = drained)")
        return out

    def violations(self) -> list[str]:
        out = [f"after `motcua sync --once`: {v}" for v in self.liveness_violations()]
        if self.after_lease_expiry is not None:
            out += [f"after the leases expired: {v}" for v in self.safety_violations()]
        if self.child_errors:
            out.append(f"children that exited on their own: {len(self.child_errors)} "
                       f"(e.g. {self.child_errors[0]})")
        return out

    def table(self) -> str:
        c = self.after_drain
        rows: list[tuple[str, object]] = [
            ("runs (child processes killed)", self.runs),
            *[(f"  client kills during {cat}", self.kills.get(cat, 0)) for cat in CATEGORIES],
            ("  of which aimed at a phase", " ".join(
                f"{k}={v}" for k, v in sorted(self.targeted.items())) or 0),
            ("gateway kills (SIGKILL + restart)", self.gateway_kills),
            ("children that exited on their own", len(self.child_errors)),
            ("`motcua sync --once` exit codes", " ".join(map(str, self.drain_exits))),
            ("dossiers received locally (with a code)", c.local_dossiers),
            ("dossiers on the gateway", c.gateway_dossiers),
            ("  local dossiers missing on the gateway", len(c.missing)),
            ("  duplicates (client_id / MaHoSo)",
             f"{c.duplicate_client_ids} / {c.duplicate_codes}"),
            ("  gateway dossiers unknown locally", len(c.unknown_on_gateway)),
            ("  stale revision / code or file list differs",
             f"{len(c.stale_revision)} / {len(c.code_mismatch) + len(c.file_list_mismatch)}"),
            ("blobs referenced on the gateway", c.blobs_referenced),
            ("  blob missing / hash mismatch",
             f"{len(c.blob_missing)} / {len(c.blob_hash_mismatch)}"),
            ("outbox stuck after the final drain", len(c.outbox_stuck)),
            ("station blob store: bad / row without file / temp files",
             f"{len(c.local_blob_bad)} / {len(c.local_blob_row_missing_file)} / "
             f"{len(c.local_tmp_files)}"),
            ("integrity_check station / gateway", f"{c.station_integrity} / "
                                                   f"{c.gateway_integrity}"),
            ("gateway: unfinished tus uploads / .part files (info)",
             f"{c.gateway_open_uploads} / {c.gateway_partials_left}"),
        ]
        if self.after_lease_expiry is not None:
            e = self.after_lease_expiry
            rows += [
                (f"after leases expired (clock +{LEASE_SKEW_S:.0f} s):", ""),
                ("  dossiers on the gateway / missing",
                 f"{e.gateway_dossiers} / {len(e.missing)}"),
                ("  duplicates (client_id / MaHoSo)",
                 f"{e.duplicate_client_ids} / {e.duplicate_codes}"),
                ("  stale revision / blob missing / hash mismatch",
                 f"{len(e.stale_revision)} / {len(e.blob_missing)} / "
                 f"{len(e.blob_hash_mismatch)}"),
                ("  outbox stuck", len(e.outbox_stuck)),
            ]
        rows.append(("wall time", f"{self.wall_s:.0f} s"))
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


# --- the two databases ---------------------------------------------------------------


class _Db:
    """Read-only access to a station's or the gateway's database: its SQLite file, or
    a PostgreSQL URL. Rows come back as plain tuples either way (times as ISO text)."""

    def __init__(self, sqlite_path: Path, url: str = "", key: bytes | None = None) -> None:
        self._sqlite: sqlite3.Connection | None = None
        self._engine: sa.Engine | None = None
        if url:
            self._engine = sa.create_engine(url)
            self._conn = self._engine.connect()
        else:
            # The station's file is encrypted under its data directory's key (``key``).
            self._sqlite = connect_sqlite(sqlite_path, key, read_only=True)

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            return list(self._sqlite.execute(sql))
        return [tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in row)
                for row in self._conn.exec_driver_sql(sql)]

    def integrity(self) -> str:
        """SQLite: PRAGMA integrity_check. PostgreSQL: amcheck on every B-tree index of
        the schema, with the heap cross-check (needs a superuser, as the tests' server)."""
        if self._sqlite is not None:
            return ", ".join(r[0] for r in self._sqlite.execute("PRAGMA integrity_check"))
        try:
            self._conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
            indexes = [r[0] for r in self._conn.exec_driver_sql(
                "SELECT c.oid::regclass::text FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = 'public'")]
            for index in indexes:
                self._conn.exec_driver_sql(f"SELECT bt_index_check('{index}'::regclass, true)")
            self._conn.commit()
        except sa.exc.DBAPIError as exc:
            return f"amcheck: {str(exc.orig).splitlines()[0]}"
        return "ok" if indexes else "no index checked"

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        else:
            self._conn.close()
            assert self._engine is not None
            self._engine.dispose()


def check(station_dir: Path, gateway_dir: Path, now: datetime | None = None, *,
          station_url: str = "", gateway_url: str = "") -> Check:
    """Read the invariants from the station's and the gateway's data directories (both
    processes stopped, or at least idle), their databases being SQLite files there or
    the given PostgreSQL URLs."""
    c = Check()
    now = now or datetime.now()
    st = _Db(station_dir / "motcua.sqlite3", station_url,
             None if station_url else existing_key(
                 DataPaths(station_dir), f"sqlite:///{station_dir / 'motcua.sqlite3'}"))
    gw = _Db(gateway_dir / "gateway.db", gateway_url)
    try:
        c.station_integrity = st.integrity()
        c.gateway_integrity = gw.integrity()

        # Station: received dossiers, their current files, the outbox.
        local = {uuid: (code, rev) for uuid, code, rev in st.execute(
            "SELECT uuid, code, revision FROM dossiers WHERE code IS NOT NULL")}
        all_local = {r[0] for r in st.execute("SELECT uuid FROM dossiers")}
        local_files: dict[str, set[str]] = {u: set() for u in local}
        comps: dict[int, tuple[str, str | None]] = {
            cid: (uuid, blob) for cid, uuid, blob in st.execute(
                "SELECT c.id, d.uuid, c.blob_sha256 FROM dossier_components c "
                "JOIN dossiers d ON d.id = c.dossier_id WHERE d.code IS NOT NULL")}
        with_files: set[int] = set()
        for cid, sha in st.execute("SELECT component_id, blob_sha256 FROM component_files "
                                   "WHERE superseded_at IS NULL"):
            if cid in comps:
                local_files[comps[cid][0]].add(sha)
                with_files.add(cid)
        for cid, (uuid, blob) in comps.items():
            if cid not in with_files and blob:
                local_files[uuid].add(blob)
        c.local_dossiers = len(local)
        c.outbox_counts = {s: n for s, n in st.execute(
            "SELECT state, count(*) FROM outbox GROUP BY state")}
        for row in st.execute(
                "SELECT id, entity_type, entity_id, state, attempts, last_error, leased_by, "
                "lease_until, next_attempt_at, upload_url FROM outbox "
                "WHERE state != 'sent' ORDER BY id"):
            keys = ("id", "type", "entity", "state", "attempts", "last_error", "leased_by",
                    "lease_until", "next_attempt_at", "upload_url")
            c.outbox_stuck.append(dict(zip(keys, row, strict=True)))
        local_blob_rows = [r[0] for r in st.execute("SELECT sha256 FROM blobs")]

        # Gateway: dossiers, duplicates, referenced blobs.
        rows = list(gw.execute("SELECT client_id, ma_ho_so, revision, body FROM dossiers"))
        c.gateway_dossiers = len(rows)
        c.duplicate_client_ids = sum(n - 1 for (n,) in gw.execute(
            "SELECT count(*) FROM dossiers GROUP BY client_id HAVING count(*) > 1"))
        c.duplicate_codes = sum(n - 1 for (n,) in gw.execute(
            "SELECT count(*) FROM dossiers WHERE ma_ho_so IS NOT NULL "
            "GROUP BY ma_ho_so HAVING count(*) > 1"))
        blob_rows = {sha for (sha,) in gw.execute("SELECT sha256 FROM blobs")}
        on_gateway: dict[str, tuple[str | None, int, set[str]]] = {}
        referenced: set[str] = set()
        for client_id, code, rev, body in rows:
            shas = {t.get("TepDinhKemSha256") for t in json.loads(body).get("TaiLieuNop") or []
                    if isinstance(t, dict) and t.get("TepDinhKemSha256")}
            on_gateway[client_id] = (code, rev, shas)
            referenced |= shas
            if client_id not in all_local:
                c.unknown_on_gateway.append(client_id)
        for uuid, (code, rev) in sorted(local.items(), key=lambda kv: kv[1][0]):
            if uuid not in on_gateway:
                c.missing.append(f"{code} ({uuid})")
                continue
            g_code, g_rev, g_shas = on_gateway[uuid]
            if g_code != code:
                c.code_mismatch.append(f"{uuid}: local {code}, gateway {g_code}")
            if g_rev != rev:
                c.stale_revision.append(f"{code}: local revision {rev}, gateway {g_rev}")
            elif g_shas != local_files[uuid]:
                c.file_list_mismatch.append(
                    f"{code}: local {sorted(local_files[uuid])}, gateway {sorted(g_shas)}")
        c.blobs_referenced = len(referenced)
        gw_blobs = gateway_dir / "blobs"
        for sha in sorted(referenced | blob_rows):
            path = gw_blobs / sha[:2] / sha[2:]
            if sha in referenced and (sha not in blob_rows or not path.is_file()):
                c.blob_missing.append(f"{sha} (row {sha in blob_rows}, file {path.is_file()})")
            elif path.is_file() and sha256_file(path) != sha:
                c.blob_hash_mismatch.append(sha)
        c.gateway_partials_left = len(list((gateway_dir / "uploads").glob("*.part")))
        c.gateway_open_uploads = gw.execute(
            "SELECT count(*) FROM uploads WHERE state = 'open'")[0][0]
    finally:
        st.close()
        gw.close()

    # Station blob store: whole files that decrypt to their hash, nothing half-written
    # left over.
    root = station_dir / "blobs"
    store = BlobStore(root, None, blob_key(station_dir, root))
    on_disk: set[str] = set()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name.startswith(".tmp-"):
            c.local_tmp_files.append(str(path.relative_to(root)))
    for path, held in store.local_files():
        rel = str(path.relative_to(root))
        if held is None:
            c.local_blob_bad.append(rel)
            continue
        on_disk.add(held)
        try:
            if hashlib.sha256(store.read_bytes(held)).hexdigest() != held:
                c.local_blob_bad.append(rel)
        except BlobStoreError:
            c.local_blob_bad.append(rel)
    c.local_blob_row_missing_file = sorted(set(local_blob_rows) - on_disk)
    return c


# --- processes -----------------------------------------------------------------------


def child_env(db_url: str = "") -> dict[str, str]:
    env = dict(os.environ)
    for name in ("MOTCUA_DB_URL", "MOTCUA_STATION_TOKEN", "MOTCUA_DATA_DIR"):
        env.pop(name, None)
    if db_url:
        env["MOTCUA_DB_URL"] = db_url
    env["MOTCUA_NO_KEYRING"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", ""))
                                        if p)
    return env


def _last_marker(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return "boot"
    return lines[-1] if lines else "boot"


def _wait_ready(proc: subprocess.Popen[bytes], markers: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(FileNotFoundError):
            if "ready" in markers.read_text(encoding="utf-8").split():
                return True
        time.sleep(0.02)
    return False


def _wait_phase(stream: IO[bytes], phase: str, timeout: float) -> bool:
    """Read the child's echoed markers until `phase` starts; False on timeout or EOF.
    With timeout 0, just skip what is already there."""
    fd = stream.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    want = phase.encode()
    while (left := deadline - time.monotonic()) > 0 or timeout == 0:
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            return False
        data = os.read(fd, 4096)
        if not data:
            return False
        buf += data
        *lines, buf = buf.split(b"\n")
        if want in lines:
            return True
    return False


def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _tail(path: Path, n: int = 6) -> str:
    try:
        return " | ".join(path.read_text(encoding="utf-8", errors="replace")
                          .strip().splitlines()[-n:])
    except FileNotFoundError:
        return ""


class Harness:
    def __init__(self, config: Config, log: Callable[[str], None] = print) -> None:
        self.config = config
        self.log = log
        self.rng = random.Random(config.seed)
        self.env = child_env(config.station_db_url)

    def _run(self, args: list[str], log: Path, timeout: float = 600) -> int:
        with log.open("ab") as out:
            return subprocess.run([sys.executable, *args], env=self.env, cwd=str(REPO),
                                  stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode

    def run(self) -> Result:
        cfg = self.config
        started = time.monotonic()
        base = Path(cfg.workdir or tempfile.mkdtemp(prefix="motcua-crash-"))
        base.mkdir(parents=True, exist_ok=True)
        station_dir, gw_dir, logs = base / "station", base / "gateway", base / "logs"
        logs.mkdir(exist_ok=True)
        result = Result(cfg, base)

        db = ["--db", cfg.gateway_db_url] if cfg.gateway_db_url else []
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the token
            rc = admin_cli.main(["add-station", "--data", str(gw_dir), *db, "--agency", AGENCY,
                                 "--digit", "1", "--name", "Quầy 1", "--token", TOKEN])
        if rc != 0:
            raise RuntimeError("could not add the station to the gateway")
        gateway = GatewayProcess(gw_dir, catalog_file=DEFAULT_CATALOG,
                                 db_url=cfg.gateway_db_url or None)
        urls = {"station_url": cfg.station_db_url, "gateway_url": cfg.gateway_db_url}
        gateway.start()
        proxy = FaultProxy(gateway.host, gateway.port,
                           profile=LinkProfile(up_bps=cfg.up_bps, seed=cfg.seed)).start()
        try:
            rc = self._run([str(CHILD), "setup", "--data", str(station_dir),
                            "--gateway-url", proxy.url_for(), "--token", TOKEN],
                           logs / "setup.log")
            if rc != 0:
                raise RuntimeError(f"station set-up failed; see {logs / 'setup.log'}")
            plan = Counter(self.rng.randrange(cfg.kills) for _ in range(cfg.gateway_kills)
                           ) if cfg.kills else Counter()
            for i in range(cfg.kills):
                self._one_run(i, plan[i], gateway, station_dir, logs, result)
                if (i + 1) % 25 == 0 or i + 1 == cfg.kills:
                    self.log(f"[{time.monotonic() - started:6.0f} s] run {i + 1}/{cfg.kills}: "
                             f"kills {dict(result.kills)}, gateway kills "
                             f"{result.gateway_kills}, child errors {len(result.child_errors)}")

            # The final drain: full-speed link, the real command.
            proxy.set_profile(LinkProfile())
            gateway.start()
            drain_log = logs / "drain.log"
            for _ in range(2):  # a second time in case the first one crashed
                rc = self._run(["-m", "desktop_app.cli", "sync", "--once", "--json",
                                "--data-dir", str(station_dir)], drain_log)
                result.drain_exits.append(rc)
                if rc == 0:
                    break
            result.drain_output = _tail(drain_log, 3)
            gateway.stop()
            result.after_drain = check(station_dir, gw_dir, **urls)

            if result.after_drain.outbox_stuck:
                # Diagnostic: past every lease, do the other invariants converge?
                gateway.start()
                self._run([str(CHILD), "drain", "--data", str(station_dir),
                           "--clock-skew", str(LEASE_SKEW_S)], logs / "drain-skewed.log")
                gateway.stop()
                result.after_lease_expiry = check(station_dir, gw_dir, **urls)
        finally:
            proxy.stop()
            gateway.kill()
        result.wall_s = time.monotonic() - started
        return result

    def _one_run(self, i: int, gateway_kills: int, gateway: GatewayProcess,
                 station_dir: Path, logs: Path, result: Result) -> None:
        cfg = self.config
        mode = self.rng.choices(("startup", "target", "random"), weights=(
            cfg.startup_share, cfg.target_share, 1 - cfg.startup_share - cfg.target_share))[0]
        delay = self.rng.uniform(0, cfg.max_delay_s)
        target = self.rng.choices(list(TARGETS), weights=[w for w, _ in TARGETS.values()])[0]
        target_delay = self.rng.uniform(0, TARGETS[target][1])
        gw_delays = sorted(self.rng.uniform(0, cfg.max_delay_s) for _ in range(gateway_kills))
        child_seed = self.rng.getrandbits(48)
        markers = logs / f"run-{i:04d}.markers"
        out = logs / f"run-{i:04d}.log"
        cmd = [sys.executable, str(CHILD), "work", "--data", str(station_dir),
               "--markers", str(markers), "--seed", str(child_seed), "--chunk",
               str(cfg.chunk), "--incoming", str(station_dir.parent / "incoming"),
               "--procedures", "sample" if cfg.sample_procedures else "own"]
        if mode == "target":
            cmd.append("--echo-markers")
        with out.open("wb") as fh:
            proc = subprocess.Popen(
                cmd, env=self.env, cwd=str(REPO), stderr=fh,
                stdout=subprocess.PIPE if mode == "target" else fh)
        try:
            t0 = time.monotonic()
            if mode != "startup":
                if _wait_ready(proc, markers, READY_TIMEOUT_S):
                    t0 = time.monotonic()
                elif proc.poll() is None:
                    result.child_errors.append(f"run {i}: not ready in {READY_TIMEOUT_S} s")
            for gd in gw_delays:
                _sleep_until(t0 + gd)
                gateway.kill()
                result.gateway_kills += 1
                gateway.start()
                t0 = time.monotonic()  # give the child time against the restarted gateway
            if mode == "target" and proc.stdout is not None:
                if gw_delays:
                    _wait_phase(proc.stdout, "", 0)  # skip phases from before the restart
                if _wait_phase(proc.stdout, target, TARGET_TIMEOUT_S):
                    time.sleep(target_delay)
                    result.targeted[target] += 1
            else:
                _sleep_until(t0 + delay)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                result.kills[PHASES.get(_last_marker(markers), "other")] += 1
            else:
                result.child_errors.append(f"run {i} (seed {child_seed}): exit "
                                           f"{proc.returncode}: {_tail(out)}")
            if proc.stdout is not None:
                proc.stdout.close()
        result.runs += 1


def run(config: Config, log: Callable[[str], None] = print) -> Result:
    return Harness(config, log).run()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=300, help="client SIGKILLs (runs)")
    p.add_argument("--gateway-kills", type=int, default=0, help="gateway SIGKILL + restart")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-delay", type=float, default=1.5,
                   help="kill 0..this many seconds after the child is ready")
    p.add_argument("--chunk", type=int, default=32 * 1024, help="tus chunk size (bytes)")
    p.add_argument("--up-bps", type=int, default=2_000_000, help="uplink cap (bit/s)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="keep everything here (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--sample-procedures", action="store_true",
                   help="receive procedures of the sample catalog the gateway also serves")
    p.add_argument("--station-db", default="",
                   help="station database URL (PostgreSQL) instead of its SQLite file")
    p.add_argument("--gateway-db", default="",
                   help="gateway database URL (PostgreSQL) instead of its SQLite file")
    args = p.parse_args(argv)
    cfg = Config(kills=args.kills, gateway_kills=args.gateway_kills, seed=args.seed,
                 max_delay_s=args.max_delay, chunk=args.chunk, up_bps=args.up_bps,
                 workdir=args.workdir, keep=args.keep,
                 sample_procedures=args.sample_procedures,
                 station_db_url=args.station_db, gateway_db_url=args.gateway_db)
    result = run(cfg)
    print()
    print(result.table())
    violations = result.violations()
    stuck = result.after_drain.outbox_stuck
    if stuck:
        now = datetime.now(VN_TZ).replace(tzinfo=None)  # the station's clock: naive VN time
        leased = [e for e in stuck if e["lease_until"]
                  and datetime.fromisoformat(e["lease_until"]) > now]
        print(f"\nOutbox entries left after `motcua sync --once` at {now:%H:%M:%S} "
              f"(station time): {len(stuck)}, of which {len(leased)} still leased "
              "(leased_by/lease_until set by a killed process), the others waiting for them:")
        for e in stuck[:8]:
            print(f"  {e}")
        if len(stuck) > 8:
            print(f"  … {len(stuck) - 8} more")
        print(f"  last drain output: {result.drain_output}")
    print(f"\ndata: {result.workdir}")
    if violations:
        print("\nINVARIANT VIOLATIONS:")
        for v in violations:
            print(f"  - {v}")
        return 1
    print("\nall invariants hold")
    if cfg.workdir is None and not cfg.keep:
        import shutil

        shutil.rmtree(result.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
