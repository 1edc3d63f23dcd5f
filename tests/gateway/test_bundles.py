"""USB bundle import endpoint (the codec lives in sync_contract.bundle_codec)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
import requests

from provincial_gateway import admin_cli
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, auth_headers, sample_document


def test_garbage_bundle_is_rejected(gateway: GatewayServer, station_token: str) -> None:
    pytest.importorskip("sync_contract.bundle_codec")
    resp = requests.post(gateway.url + wire.BUNDLES, data=b"not a bundle at all", timeout=5,
                         headers={**auth_headers(station_token),
                                  "Content-Type": "application/octet-stream"})
    assert resp.status_code == 400 and resp.json()["code"] == wire.E_BUNDLE


def test_bundles_need_a_station_token(gateway: GatewayServer) -> None:
    resp = requests.post(gateway.url + wire.BUNDLES, data=b"x", timeout=5)
    assert resp.status_code == 401


def test_bundle_round_trip_is_idempotent(gateway: GatewayServer, station_token: str) -> None:
    codec = pytest.importorskip("sync_contract.bundle_codec")
    if not hasattr(codec, "seal_bundle"):
        pytest.skip("bundle_codec cannot write bundles")
    scan = b"%PDF-1.7 ban sao CCCD" * 500
    sha = hashlib.sha256(scan).hexdigest()
    doc = sample_document(shas=[sha])
    event = {"EventId": str(uuid.uuid4()), "ClientId": doc["ClientId"], "MaHoSo": doc["MaHoSo"],
             "Loai": "returned", "ThoiDiem": "20231103093200", "TrangThaiHoSo": 10}
    orphan = {**event, "EventId": str(uuid.uuid4()), "ClientId": str(uuid.uuid4())}
    contents = codec.BundleContents(agency_code=AGENCY, station_digit=1, bundle_id="usb-001",
                                    created_at="20231103100000", dossiers=[doc],
                                    events=[event, orphan], files={sha: scan})
    data = codec.seal_bundle(contents, codec.bundle_key(station_token))
    headers = {**auth_headers(station_token), "Content-Type": "application/octet-stream"}

    first = requests.post(gateway.url + wire.BUNDLES, data=data, headers=headers, timeout=10)
    receipt = wire.BundleReceipt.model_validate(first.json())
    assert (receipt.bundle_id, receipt.dossiers, receipt.created, receipt.files) == (
        "usb-001", 1, 1, 1)
    assert receipt.conflicts == [orphan["EventId"]]
    second = requests.post(gateway.url + wire.BUNDLES, data=data, headers=headers, timeout=10)
    assert (second.json()["created"], second.json()["unchanged"]) == (0, 1)
    blob = requests.get(gateway.url + wire.BLOB.format(sha256=sha),
                        headers=auth_headers(station_token), timeout=5)
    assert blob.content == scan

    forged = data[:-1] + bytes([data[-1] ^ 1])
    resp = requests.post(gateway.url + wire.BUNDLES, data=forged, headers=headers, timeout=10)
    assert resp.status_code == 400 and resp.json()["code"] == wire.E_BUNDLE


def test_token_derived_bundle_key_matches_the_codec(gateway: GatewayServer) -> None:
    codec = pytest.importorskip("sync_contract.bundle_codec")
    token = gateway.add_station(AGENCY, 4)
    from provincial_gateway.bundles import key_lookup

    assert key_lookup(gateway.state)(AGENCY, 4) == codec.bundle_key(token)
    assert key_lookup(gateway.state)(AGENCY, 5) is None


def test_cli_imports_a_bundle_file(gateway: GatewayServer, station_token: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    codec = pytest.importorskip("sync_contract.bundle_codec")
    if not hasattr(codec, "seal_bundle"):
        pytest.skip("bundle_codec cannot write bundles")
    doc = sample_document()
    contents = codec.BundleContents(agency_code=AGENCY, station_digit=1, bundle_id="usb-002",
                                    created_at="20231103100000", dossiers=[doc])
    path = tmp_path / "ho-so.motcua"
    path.write_bytes(codec.seal_bundle(contents, codec.bundle_key(station_token)))
    data = ["--data", str(gateway.config.data_dir)]
    assert admin_cli.main(["import-bundle", *data, str(path)]) == 0
    assert "usb-002: 1 hồ sơ (1 mới/cập nhật" in capsys.readouterr().out
    path.write_bytes(b"MOTCUA-BUNDLE-1\n" + b"\0" * 10)
    assert admin_cli.main(["import-bundle", *data, str(path)]) == 1
    assert "không hợp lệ" in capsys.readouterr().err
    assert admin_cli.main(["stations", *data]) == 0
    assert "000.00.12.H12\tquầy 1" in capsys.readouterr().out
