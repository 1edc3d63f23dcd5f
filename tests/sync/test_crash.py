"""The crash test of the sync issue, small enough for CI: bench/crash_harness.py with 25
SIGKILLs of the station process (during intake, tus upload, dossier PUT, pull) and 5 of
the gateway, then `motcua sync --once` and the invariants read from both databases.

The harness runs once for the module (about a minute); each test judges one invariant,
so a failure names what broke. Safety (nothing lost, doubled or damaged) is judged on the
state the system converges to; liveness (the drain right after the crashes empties the
outbox) separately. Under MOTCUA_TEST_DB=postgresql both databases are on the PostgreSQL
server (a killed station then leaves its transaction to the server, and the integrity
check is amcheck). The full run is `.venv/bin/python bench/crash_harness.py --kills 300
--gateway-kills 50 [--station-db URL --gateway-db URL]`."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from desktop_app.blobs import BlobStore, blob_key
from desktop_app.clock import FixedClock
from desktop_app.startup import open_station

from ..conftest import ON_POSTGRESQL, RECEIVED_AT, _create_pg_database

KILLS = 25
GATEWAY_KILLS = 5
SEED = 20231027


def _harness() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "crash_harness.py"
    spec = importlib.util.spec_from_file_location("crash_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


harness = _harness()


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> harness.Result:
    urls: dict[str, str] = {}
    if ON_POSTGRESQL:  # the station's and the gateway's databases on the PostgreSQL server
        server = request.getfixturevalue("pg_server")
        urls = {"station_db_url": f"{server}/{_create_pg_database(server)}",
                "gateway_db_url": f"{server}/{_create_pg_database(server)}"}
    config = harness.Config(kills=KILLS, gateway_kills=GATEWAY_KILLS, seed=SEED,
                            workdir=tmp_path_factory.mktemp("crash"), **urls)
    outcome = harness.run(config, log=lambda line: None)
    print("\n" + outcome.table())  # shown with -s or on failure
    return outcome


def _explain(result: harness.Result) -> str:
    return "\n" + result.table() + "\n" + "\n".join(result.violations())


def test_kills_landed_where_they_should(result: harness.Result) -> None:
    assert result.runs == KILLS
    assert result.gateway_kills == GATEWAY_KILLS
    assert sum(result.kills.values()) == KILLS - len(result.child_errors)
    assert result.kills["upload"] > 0, _explain(result)  # the link is slow on purpose


def test_the_station_only_dies_by_the_kill(result: harness.Result) -> None:
    assert result.child_errors == [], _explain(result)


def test_every_received_dossier_arrives_exactly_once(result: harness.Result) -> None:
    final = result.final
    assert final.local_dossiers > 0
    assert (final.duplicate_client_ids, final.duplicate_codes) == (0, 0), _explain(result)
    assert final.missing == [], _explain(result)
    assert final.unknown_on_gateway == [], _explain(result)
    assert final.code_mismatch == [], _explain(result)
    assert final.stale_revision == [], _explain(result)  # the latest revision won
    assert final.file_list_mismatch == [], _explain(result)
    assert final.gateway_dossiers == final.local_dossiers


def test_every_blob_arrives_whole(result: harness.Result) -> None:
    final = result.final
    assert final.blobs_referenced > 0
    assert final.blob_missing == [], _explain(result)
    assert final.blob_hash_mismatch == [], _explain(result)


def test_stores_and_databases_are_intact(result: harness.Result) -> None:
    for check in (result.after_drain, result.final):
        assert (check.station_integrity, check.gateway_integrity) == ("ok", "ok")
        assert check.local_blob_bad == [], _explain(result)
        assert check.local_blob_row_missing_file == [], _explain(result)
        assert check.local_tmp_files == [], _explain(result)


def test_sync_once_after_the_crashes_drains_the_outbox(result: harness.Result) -> None:
    """No entry stuck: the first `motcua sync --once` after the last kill sends it all."""
    assert result.after_drain.outbox_stuck == [], _explain(result)
    assert result.after_drain.missing == [], _explain(result)
    assert result.drain_exits[-1] == 0, _explain(result)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a POSIX named pipe")
def test_kill_while_storing_a_file_leaves_nothing_half_written(tmp_path: Path) -> None:
    """SIGKILL inside BlobStore.put_file (the source is a pipe, so the copy is surely under
    way), then the app starts again: no partial blob under a final name, and no
    temporary file left behind in the blob store."""
    data_dir = tmp_path / "station"
    open_station(data_dir, clock=FixedClock(RECEIVED_AT)).close()
    source = tmp_path / "scan.pdf"
    os.mkfifo(source)
    code = ("import sys; from pathlib import Path; "
            "from desktop_app.blobs import BlobStore, blob_key; root = Path(sys.argv[1]); "
            "BlobStore(root, None, blob_key(root.parent, root)).put_file(Path(sys.argv[2]))")
    blobs = data_dir / "blobs"
    proc = subprocess.Popen([sys.executable, "-c", code, str(blobs), str(source)],
                            env=harness.child_env(), cwd=str(harness.REPO))
    # Only a safety net against a child that hangs: it fails on its own, seen by poll().
    deadline = time.monotonic() + 600
    try:
        while True:  # opening a pipe for writing without a reader would block
            try:
                fd = os.open(source, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "child failed"
                time.sleep(0.01)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(os.urandom(3 << 20))  # more than one read: the copy has begun
            pipe.flush()
            while not any(p.stat().st_size >= 1 << 20 for p in blobs.glob(".tmp-*")):
                assert proc.poll() is None and time.monotonic() < deadline, "child failed"
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)  # blocked reading the rest of the scan
            proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    open_station(data_dir, clock=FixedClock(RECEIVED_AT)).close()  # the app starts again
    files = [p for p in blobs.rglob("*") if p.is_file()]
    left = [str(p.relative_to(blobs)) for p in files if p.name.startswith(".tmp-")]
    assert left == [], "temporary files left in the blob store after a kill during put_file"
    store = BlobStore(blobs, None, blob_key(data_dir, blobs))
    for _, held in store.local_files():  # every file whole: it decrypts to its hash
        assert held is not None
        assert hashlib.sha256(store.read_bytes(held)).hexdigest() == held
