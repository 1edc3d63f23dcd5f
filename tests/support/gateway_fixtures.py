"""Fixtures for tests that talk to the real provincial gateway over loopback HTTP.

Import them into a test module or a conftest.py::

    from tests.support.gateway_fixtures import gateway, gateway_factory, station_token  # noqa: F401
    from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers

Fixtures
    gateway -> provincial_gateway.server.GatewayServer
        Started on 127.0.0.1:<free port> with a fresh database (SQLite under tmp_path, or
        a fresh PostgreSQL database under MOTCUA_TEST_DB=postgresql) and data directory
        under tmp_path, the sample catalog (resources/catalog/procedures.json) loaded and
        the admin token `TEST_ADMIN_TOKEN`; stopped after the test. Useful attributes:
        `.url` (base URL, no trailing slash), `.faults` (the live FaultPlan:
        `gateway.faults.add("drop_after", path="/dossiers/", times=1)`), `.state` /
        `.sessions` (database access for assertions), `.set_status(ma_ho_so, 9, note=...)`
        (the processing side moves a dossier; appears in the change feed),
        `.add_station(agency, digit)`.
    gateway_factory -> Callable[..., GatewayServer]
        `gateway_factory(db_url=pg_url, ssl_certfile=..., ssl_keyfile=..., data_dir=...)`
        starts another server (same keyword arguments as GatewayServer); all are stopped
        at teardown.
    station_token -> str
        A token for station digit 1 of AGENCY on `gateway`.

Helpers
    AGENCY = "000.00.12.H12" (the agency of tests/conftest.py's TEST_STATION)
    add_station(gateway, agency=AGENCY, digit=1, name="Quầy 1") -> token (str)
    auth_headers(token) -> {"Authorization": "Bearer <token>"}
    sample_document(client_id=None, ma_ho_so=None, revision=1, shas=(), agency=AGENCY,
                    **fields) -> dict  (a national dossier document as the station sends it)
    upload_blob(gateway, token, data, chunk_size=None) -> sha256 hex (tus create + PATCHes)
    tus_headers(token) -> auth headers plus Tus-Resumable: 1.0.0
    tus_metadata(sha256, filename="tep.pdf", media_type="application/pdf") -> Upload-Metadata
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import uuid
from base64 import b64encode
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests

from provincial_gateway.server import TEST_ADMIN_TOKEN, GatewayServer
from sync_contract import wire

__all__ = ["AGENCY", "TEST_ADMIN_TOKEN", "add_station", "auth_headers", "gateway",
           "gateway_factory", "sample_document", "station_token", "tus_headers", "tus_metadata",
           "upload_blob"]

AGENCY = "000.00.12.H12"


@pytest.fixture
def gateway_factory(tmp_path: Path,
                    request: pytest.FixtureRequest) -> Iterator[Callable[..., GatewayServer]]:
    from tests.conftest import ON_POSTGRESQL

    servers: list[GatewayServer] = []
    databases: list[str] = []  # made here (under MOTCUA_TEST_DB=postgresql), dropped after

    def start(data_dir: Path | None = None, **options: Any) -> GatewayServer:
        if ON_POSTGRESQL and options.get("db_url") is None:
            server_url = request.getfixturevalue("pg_server")
            databases.append(request.getfixturevalue("pg_databases").take())
            options["db_url"] = f"{server_url}/{databases[-1]}"
        server = GatewayServer(data_dir or tmp_path / f"gateway{len(servers)}", **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
    for name in databases:
        request.getfixturevalue("pg_databases").drop(name)


@pytest.fixture
def gateway(gateway_factory: Callable[..., GatewayServer]) -> GatewayServer:
    return gateway_factory()


@pytest.fixture
def station_token(gateway: GatewayServer) -> str:
    return add_station(gateway)


def add_station(gateway: GatewayServer, agency: str = AGENCY, digit: int = 1,
                name: str = "Quầy 1") -> str:
    return gateway.add_station(agency, digit, name)


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_CODE_NUMBERS = itertools.count(secrets.randbelow(1000))


def sample_document(client_id: str | None = None, ma_ho_so: str | None = None,
                    revision: int = 1, shas: Sequence[str] = (), agency: str = AGENCY,
                    **fields: Any) -> dict[str, Any]:
    # A code of its own for each new document (drawn from the client id, three random
    # documents shared one about once in 330 tests, and the second PUT got 409).
    number = int(uuid.UUID(client_id)) % 1000 if client_id else next(_CODE_NUMBERS) % 1000
    client_id = client_id or str(uuid.uuid4())
    doc: dict[str, Any] = {
        "ClientId": client_id,
        "MaDonVi": agency,
        "MaHoSo": ma_ho_so if ma_ho_so is not None else f"{agency}-231027-1{number:03d}",
        "PhienBan": revision,
        "MaTTHC": "1.001193",
        "TenTTHC": "Đăng ký khai sinh",
        "KenhThucHien": 1,
        "ChuHoSo": "Nguyễn Văn An",
        "SoGiayToChuHoSo": "001099012345",
        "NgayTiepNhan": "20231027093200",
        "NgayHenTra": "20231027170000",
        "TrangThaiHoSo": 2,
        "TaiLieuNop": [
            {"MaThanhPhanHoSo": f"TP{i + 1}", "TenTepDinhKem": f"Thành phần {i + 1}",
             "TepDinhKemSha256": sha, "DuocSoHoa": 1}
            for i, sha in enumerate(shas)
        ],
    }
    doc.update(fields)
    return doc


def tus_headers(token: str) -> dict[str, str]:
    return {"Tus-Resumable": wire.TUS_VERSION, **auth_headers(token)}


def tus_metadata(sha256: str, filename: str = "tep.pdf",
                 media_type: str = "application/pdf") -> str:
    """An Upload-Metadata header value with the keys the gateway reads."""
    return ",".join(f"{k} {b64encode(v.encode()).decode()}" for k, v in
                    (("sha256", sha256), ("filename", filename), ("media_type", media_type)))


def upload_blob(gateway: GatewayServer, token: str, data: bytes,
                chunk_size: int | None = None, media_type: str = "application/pdf") -> str:
    """Upload `data` by plain tus requests; returns its SHA-256."""
    sha = hashlib.sha256(data).hexdigest()
    tus = tus_headers(token)
    resp = requests.post(gateway.url + wire.FILES, timeout=10, headers={
        **tus, "Upload-Length": str(len(data)),
        "Upload-Metadata": tus_metadata(sha, media_type=media_type)})
    assert resp.status_code == 201, resp.text
    location = resp.headers["Location"]
    step = chunk_size or max(len(data), 1)
    for offset in range(0, len(data), step):
        resp = requests.patch(location, data=data[offset:offset + step], timeout=30, headers={
            **tus, "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
        assert resp.status_code == 204, resp.text
    return sha
