"""Two gateway processes on one database and one data folder (as two replicas behind a
load balancer): a tus upload is never lost because another replica looked at it or
started while it was being written."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from provincial_gateway import admin_cli
from provincial_gateway.server import GatewayProcess
from sync_contract import wire
from tests.gateway.tus_helpers import create, head_offset, patch, start_partial_patch, wait_for
from tests.support.gateway_fixtures import AGENCY, auth_headers

TOKEN = "replica-test-station-token-0123456789"
DATA = os.urandom(1_000_000)
SHA = hashlib.sha256(DATA).hexdigest()


@dataclass
class Replicas:
    data_dir: Path
    db_url: str | None
    started: list[GatewayProcess]

    def start(self, data_dir: Path | None = None, *extra: str) -> GatewayProcess:
        gw = GatewayProcess(data_dir or self.data_dir, db_url=self.db_url, extra_args=extra)
        self.started.append(gw)
        return gw.start()


@pytest.fixture
def replicas(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Replicas]:
    """Replicas of one gateway: the test run's database (SQLite in the data folder, or a
    fresh PostgreSQL database under MOTCUA_TEST_DB=postgresql) and one --data folder."""
    from tests.conftest import ON_POSTGRESQL

    # Replicas with data folders of their own name the SQLite file explicitly.
    own_folders = "s3_endpoint" in request.fixturenames
    db_url = f"sqlite:///{tmp_path / 'shared.db'}" if own_folders else None
    if ON_POSTGRESQL:
        name = request.getfixturevalue("pg_databases").take()
        db_url = f"{request.getfixturevalue('pg_server')}/{name}"
    data_dir = tmp_path / "gw"
    args = ["add-station", "--data", str(data_dir), "--agency", AGENCY, "--digit", "1",
            "--name", "Quầy 1", "--token", TOKEN] + (["--db", db_url] if db_url else [])
    assert admin_cli.main(args) == 0
    group = Replicas(data_dir, db_url, [])
    yield group
    for gw in group.started:
        gw.stop()
    if ON_POSTGRESQL and db_url:
        request.getfixturevalue("pg_databases").drop(db_url.rsplit("/", 1)[1])


def spooled(data_dir: Path, location: str) -> int:
    upload = location.rsplit("/", 1)[1]
    return sum(p.stat().st_size for p in (data_dir / "uploads").glob(f"patch-{upload}-*"))


def finish_patch(sock: socket.socket, rest: bytes) -> tuple[int, dict[str, str]]:
    """Send the rest of a PATCH body started by `start_partial_patch`; the answer."""
    sock.settimeout(30)
    sock.sendall(rest)
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        if not chunk:
            break
        raw += chunk
    sock.close()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip()
               for k, _, v in (line.partition(":") for line in head[1:])}
    return int(head[0].split()[1]), headers


def downloaded(gw: GatewayProcess) -> bytes:
    resp = requests.get(gw.url + wire.BLOB.format(sha256=SHA), headers=auth_headers(TOKEN),
                        timeout=10)
    assert resp.status_code == 200
    return resp.content


def test_head_on_one_replica_during_a_patch_on_the_other(replicas: Replicas) -> None:
    a, b = replicas.start(), replicas.start()
    location = create(a.url, TOKEN, DATA)
    on_b = location.replace(a.url, b.url)
    assert patch(location, TOKEN, 0, DATA[:300_000]).status_code == 204
    sock = start_partial_patch(location, TOKEN, 300_000, DATA[300_000:], 200_000)
    wait_for(lambda: spooled(replicas.data_dir, location) >= 200_000)
    # B answers what is recorded and touches nothing A is writing (it used to truncate
    # A's partial file to the recorded offset, and A's upload then failed its SHA-256).
    for _ in range(3):
        assert head_offset(on_b, TOKEN) == 300_000
    status, headers = finish_patch(sock, DATA[500_000:])
    assert (status, headers["upload-offset"]) == (204, str(len(DATA)))
    assert head_offset(on_b, TOKEN) == len(DATA)
    assert downloaded(b) == DATA and downloaded(a) == DATA


def test_a_replica_starting_during_a_patch(replicas: Replicas) -> None:
    a = replicas.start()
    location = create(a.url, TOKEN, DATA)
    assert patch(location, TOKEN, 0, DATA[:300_000]).status_code == 204
    sock = start_partial_patch(location, TOKEN, 300_000, DATA[300_000:], 200_000)
    wait_for(lambda: spooled(replicas.data_dir, location) >= 200_000)
    # B's start-up sweep (expiry, unfinished uploads, dead spools) runs now; A's upload
    # is held by A's live request, and A's spool belongs to a live process.
    b = replicas.start()
    assert spooled(replicas.data_dir, location) >= 200_000
    status, headers = finish_patch(sock, DATA[500_000:])
    assert (status, headers["upload-offset"]) == (204, str(len(DATA)))
    assert downloaded(b) == DATA


def test_an_upload_moves_between_replicas(replicas: Replicas) -> None:
    """Chunks of one upload land on alternate replicas (no sticky sessions needed)."""
    a, b = replicas.start(), replicas.start()
    location = create(a.url, TOKEN, DATA)
    targets = [location, location.replace(a.url, b.url)]
    offset = 0
    for n, start in enumerate(range(0, len(DATA), 250_000)):
        resp = patch(targets[n % 2], TOKEN, offset, DATA[start:start + 250_000])
        assert resp.status_code == 204, resp.text
        offset = int(resp.headers["Upload-Offset"])
    assert offset == len(DATA)
    assert downloaded(a) == DATA


def test_replicas_on_two_machines_share_uploads_through_a_bucket(
        replicas: Replicas, s3_endpoint: str, tmp_path: Path) -> None:
    """Two replicas with nothing on disk in common — each its own data folder, as on two
    machines — one database and one S3 bucket (a real S3 server process): an upload begun
    on one is finished on the other while the first answers HEADs, and either serves it."""
    from tests.support.s3_server import BUCKET, make_client

    store = ("--blob-store", f"s3://{BUCKET}/replicas-{tmp_path.name}/")
    a = replicas.start(tmp_path / "machine-a", *store)
    b = replicas.start(tmp_path / "machine-b", *store)
    location = create(a.url, TOKEN, DATA)
    on_b = location.replace(a.url, b.url)
    assert patch(location, TOKEN, 0, DATA[:300_000]).status_code == 204
    sock = start_partial_patch(on_b, TOKEN, 300_000, DATA[300_000:], 200_000)
    upload = location.rsplit("/", 1)[1]
    wait_for(lambda: sum(p.stat().st_size for p in
                         (tmp_path / "machine-b" / "scratch").glob(f"patch-{upload}-*"))
             >= 200_000)
    assert head_offset(location, TOKEN) == 300_000
    status, headers = finish_patch(sock, DATA[500_000:])
    assert (status, headers["upload-offset"]) == (204, str(len(DATA)))
    assert downloaded(a) == DATA and downloaded(b) == DATA
    keys = [o["Key"] for o in make_client().list_objects_v2(
        Bucket=BUCKET, Prefix=f"replicas-{tmp_path.name}/").get("Contents", [])]
    assert keys == [f"replicas-{tmp_path.name}/blobs/{SHA[:2]}/{SHA[2:]}"]  # segments gone
    for machine in ("machine-a", "machine-b"):
        assert not list((tmp_path / machine).glob("blobs/*/*"))


def test_the_same_dossier_sent_to_both_replicas_at_once(replicas: Replicas) -> None:
    """A station that timed out on one replica resends to the other while the first is
    still storing it: one `created`, one `unchanged`, never two dossiers or two feed rows."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from provincial_gateway.config import GatewayConfig
    from provincial_gateway.db import Change, Dossier
    from provincial_gateway.state import open_state
    from tests.support.gateway_fixtures import sample_document

    a, b = replicas.start(), replicas.start()
    rounds = 40
    docs = [sample_document(ma_ho_so=f"{AGENCY}-231027-1{n:03d}") for n in range(rounds)]

    def put(url: str, doc: dict[str, object]) -> str:
        resp = requests.put(url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                            headers=auth_headers(TOKEN), timeout=30)
        assert resp.status_code == 200, resp.text
        return str(resp.json()["result"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        for doc in docs:
            results = sorted(pool.map(put, (a.url, b.url), (doc, doc)))
            assert results == ["created", "unchanged"]
    state = open_state(GatewayConfig(data_dir=replicas.data_dir, db_url=replicas.db_url))
    try:
        with state.sessions() as s:
            assert s.scalar(select(func.count(Dossier.id))) == rounds
            assert s.scalar(select(func.count(Change.seq))) == rounds
    finally:
        state.close()
