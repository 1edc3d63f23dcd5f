"""`serve --workers N`: several worker processes behind one socket, started and stopped
as one server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests

from provincial_gateway import admin_cli
from provincial_gateway.config import GatewayConfig
from provincial_gateway.db import POOL_MARGIN
from provincial_gateway.server import GatewayProcess
from provincial_gateway.workers import config_from_json, config_to_json
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, auth_headers, sample_document

TOKEN = "workers-test-station-token-0123456789"
READY = re.compile(r"worker process (\d+) ready")


@pytest.fixture
def db_args(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """`--db URL` of a fresh PostgreSQL database under MOTCUA_TEST_DB=postgresql, else
    nothing (SQLite in --data)."""
    from tests.conftest import ON_POSTGRESQL

    if not ON_POSTGRESQL:
        yield []
        return
    databases = request.getfixturevalue("pg_databases")
    name = databases.take()
    yield ["--db", f"{request.getfixturevalue('pg_server')}/{name}"]
    databases.drop(name)


def worker_children(parent: psutil.Process) -> list[psutil.Process]:
    """uvicorn's spawned workers (not multiprocessing's resource tracker)."""
    return [p for p in parent.children()
            if "multiprocessing.spawn" in " ".join(p.cmdline())]


def wait_for_ready_lines(log: Path, count: int, limit: float = 30.0) -> set[int]:
    """The pids of the workers that logged they built the app."""
    import time

    deadline = time.monotonic() + limit
    pids: set[int] = set()
    while time.monotonic() < deadline:
        pids = {int(m) for m in READY.findall(log.read_text(encoding="utf-8", errors="replace"))}
        if len(pids) >= count:
            break
        time.sleep(0.1)
    return pids


def test_two_workers_serve_and_stop_together(tmp_path: Path, db_args: list[str]) -> None:
    data_dir = tmp_path / "gw"
    assert admin_cli.main(["add-station", "--data", str(data_dir), *db_args, "--agency",
                           AGENCY, "--digit", "1", "--name", "Quầy 1", "--token", TOKEN]) == 0
    db_url = db_args[1] if db_args else None
    gw = GatewayProcess(data_dir, db_url=db_url, extra_args=("--workers", "2"))
    gw.start()
    assert gw.pid is not None
    parent = psutil.Process(gw.pid)
    workers = worker_children(parent)
    try:
        ready = wait_for_ready_lines(gw.log_path, 2)
        assert len(workers) == 2
        assert ready == {w.pid for w in workers}  # both built the app and serve
        log = gw.log_path.read_text(encoding="utf-8")
        assert "2 tiến trình xử lý" in log
        # The default pool (20) and the spare connections, per worker.
        per_worker = f"{20 + POOL_MARGIN} kết nối PostgreSQL"
        assert (per_worker in log) if db_args else ("SQLite" in log)

        # Fresh connections, several at once: the kernel hands them to either worker.
        docs = [sample_document(ma_ho_so=f"{AGENCY}-231027-1{i:03d}") for i in range(8)]

        def put(doc: dict[str, object]) -> str:
            resp = requests.put(gw.url + wire.DOSSIER.format(client_id=doc["ClientId"]),
                                json=doc, headers=auth_headers(TOKEN), timeout=30)
            assert resp.status_code == 200, resp.text
            return str(resp.json()["result"])

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(put, docs)) == ["created"] * len(docs)
        assert put(docs[0]) == "unchanged"
        catalog = requests.get(gw.url + wire.CATALOG, headers=auth_headers(TOKEN), timeout=10)
        assert catalog.status_code == 200 and catalog.json()["procedures"]

        assert admin_cli.main(["set-status", str(docs[0]["MaHoSo"]), "4", "--data",
                               str(data_dir), *db_args, "--note", "Đang thẩm định"]) == 0
        feed = requests.get(gw.url + wire.CHANGES, headers=auth_headers(TOKEN), timeout=10)
        assert feed.status_code == 200
        changes = feed.json()["changes"]
        # One feed in order, whichever worker took each PUT: every receipt, then the move.
        assert [c["seq"] for c in changes] == list(range(1, len(docs) + 2))
        assert {c["ClientId"] for c in changes[:-1]} == {d["ClientId"] for d in docs}
        assert {c["TrangThaiHoSo"] for c in changes[:-1]} == {2}
        assert (changes[-1]["ClientId"], changes[-1]["TrangThaiHoSo"]) == (
            docs[0]["ClientId"], 4)

        everything = [parent, *parent.children(recursive=True)]
        gw.proc.terminate()  # SIGTERM to the parent only, as a service manager sends it
        _, alive = psutil.wait_procs(everything, timeout=20)
        assert alive == []
        assert gw.proc.wait(timeout=5) == 0
    finally:
        gw.kill()
        for worker in workers:
            if worker.is_running():
                worker.kill()


@pytest.mark.nodb
@pytest.mark.parametrize("flag,value", [("--workers", "0"), ("--workers", "65"),
                                        ("--db-pool", "0")])
def test_out_of_range_counts_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         flag: str, value: str) -> None:
    data_dir = tmp_path / "gw"
    code = admin_cli.main(["serve", "--data", str(data_dir), flag, value])
    assert code == 1
    err = capsys.readouterr().err
    assert f"({flag}) phải từ 1 đến" in err and f"không phải {value}" in err
    assert not data_dir.exists()  # refused before anything was created


@pytest.mark.nodb
def test_the_config_travels_to_workers_whole(tmp_path: Path) -> None:
    config = GatewayConfig(data_dir=tmp_path / "gw", db_url="postgresql+psycopg://h/db",
                           catalog_file=tmp_path / "catalog.json", admin_token="s3cret",
                           public_url="https://cong.example.vn", serve_docs=True,
                           accept_heartbeats=False, db_pool_size=4, upload_expiry_hours=5)
    back, level = config_from_json(config_to_json(config, "debug"))
    assert level == "debug"
    assert back.data_dir == tmp_path / "gw" and isinstance(back.data_dir, Path)
    assert back.catalog_file is None  # imported once by the parent
    config.catalog_file = None
    assert back == config
