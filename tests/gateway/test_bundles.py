"""USB bundles at the gateway: sealed to the province, signed by the station's registered
key, imported as a stream (the format lives in sync_contract.bundle_codec)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import struct
import tracemalloc
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyrage
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from provincial_gateway import admin_cli, admin_ops, bundle_keys
from provincial_gateway.bundles import import_bundle
from provincial_gateway.db import Station
from provincial_gateway.errors import WireError
from provincial_gateway.server import GatewayServer
from sync_contract import bundle_codec as codec
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, auth_headers, sample_document

Members = Sequence[tuple[codec.Member, codec.Opener]]


def register(gateway: GatewayServer, token: str) -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    resp = requests.put(gateway.url + wire.BUNDLE_KEY, timeout=5, headers=auth_headers(token),
                        json={"public_key": codec.public_key_hex(key)})
    assert resp.status_code == 200, resp.text
    return key, resp.json()["bundle_recipient"]


def seal(key: Ed25519PrivateKey, recipient: str, members: Members, digit: int = 1,
         bundle_id: str = "usb-001") -> bytes:
    out = io.BytesIO()
    codec.write_bundle(out, bundle_id=bundle_id, agency_code=AGENCY, station_digit=digit,
                       created_at="2026-12-07T08:00:00", members=members, signing_key=key,
                       recipient=recipient)
    return out.getvalue()


def json_members(dossiers: list[Any], events: Sequence[Any] = ()) -> list[Any]:
    return [codec.bytes_member(codec.DOSSIERS, json.dumps(dossiers).encode()),
            codec.bytes_member(codec.EVENTS, json.dumps(list(events)).encode())]


def file_member(data: bytes) -> tuple[codec.Member, codec.Opener]:
    sha = hashlib.sha256(data).hexdigest()
    return codec.bytes_member(codec.file_member_name(sha), data)


def post(gateway: GatewayServer, token: str, data: bytes) -> requests.Response:
    return requests.post(gateway.url + wire.BUNDLES, data=data, timeout=10,
                         headers={**auth_headers(token),
                                  "Content-Type": "application/octet-stream"})


def refused(resp: requests.Response) -> tuple[int, str]:
    return resp.status_code, resp.json()["code"]


def raw_bundle(recipient: str, raw_manifest: bytes, signature: bytes, body: bytes = b"") -> bytes:
    """A hand-made plaintext (any manifest, any trailing bytes), sealed."""
    out = io.BytesIO()
    codec.seal([codec.MAGIC, struct.pack(">I", len(raw_manifest)), raw_manifest, signature,
                body], recipient, out)
    return out.getvalue()


def test_bundles_need_a_station_token(gateway: GatewayServer) -> None:
    assert requests.post(gateway.url + wire.BUNDLES, data=b"x", timeout=5).status_code == 401
    assert requests.put(gateway.url + wire.BUNDLE_KEY, json={"public_key": "0" * 64},
                        timeout=5).status_code == 401


def test_province_identity_is_made_once_owner_only(gateway: GatewayServer,
                                                   station_token: str) -> None:
    key, recipient = register(gateway, station_token)
    path = gateway.config.data_dir / bundle_keys.IDENTITY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and recipient.startswith("age1")
    assert register(gateway, station_token)[1] == recipient
    # Registering the same key twice keeps one row; the token's old v1 key is gone.
    again = requests.put(gateway.url + wire.BUNDLE_KEY, headers=auth_headers(station_token),
                         json={"public_key": codec.public_key_hex(key)}, timeout=5)
    assert again.status_code == 200
    assert bundle_keys.station_keys(gateway.state, AGENCY, 1)[1] >= {  # type: ignore[index]
        codec.public_key_hex(key)}
    bad = requests.put(gateway.url + wire.BUNDLE_KEY, headers=auth_headers(station_token),
                       json={"public_key": "not hex"}, timeout=5)
    assert bad.status_code == 422
    # A database from before keeps a token-derived key per station: blanked at start-up.
    with gateway.state.sessions.begin() as s:
        s.execute(update(Station).values(bundle_key="ab" * 32))
    bundle_keys.prepare(gateway.state)
    with gateway.state.sessions() as s:
        assert set(s.scalars(select(Station.bundle_key))) == {""}


def test_enrolment_registers_the_signing_key_and_hands_out_the_recipient(
        gateway: GatewayServer) -> None:
    code, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 3, "Quầy 3")
    key = Ed25519PrivateKey.generate()
    resp = requests.post(gateway.url + wire.ENROL, timeout=5, json={
        "agency_code": AGENCY, "station_digit": 3, "enrolment_code": code,
        "bundle_signing_key": codec.public_key_hex(key)})
    assert resp.status_code == 201, resp.text
    answer = wire.EnrolResponse.model_validate(resp.json())
    assert answer.bundle_recipient == bundle_keys.province_recipient(gateway.config)
    data = seal(key, answer.bundle_recipient, json_members([sample_document()]), digit=3)
    assert post(gateway, answer.token, data).status_code == 200


def test_bundle_round_trip_is_idempotent(gateway: GatewayServer, station_token: str) -> None:
    key, recipient = register(gateway, station_token)
    scan = b"%PDF-1.7 ban sao CCCD" * 500
    sha = hashlib.sha256(scan).hexdigest()
    doc = sample_document(shas=[sha])
    event = {"EventId": str(uuid.uuid4()), "ClientId": doc["ClientId"], "MaHoSo": doc["MaHoSo"],
             "Loai": "returned", "ThoiDiem": "20231103093200", "TrangThaiHoSo": 10}
    orphan = {**event, "EventId": str(uuid.uuid4()), "ClientId": str(uuid.uuid4())}
    data = seal(key, recipient, [*json_members([doc], [event, orphan]), file_member(scan)])
    assert scan not in data and b"CCCD" not in data

    first = post(gateway, station_token, data)
    receipt = wire.BundleReceipt.model_validate(first.json())
    assert (receipt.bundle_id, receipt.dossiers, receipt.created, receipt.files) == (
        "usb-001", 1, 1, 1)
    assert receipt.conflicts == [orphan["EventId"]]
    second = post(gateway, station_token, data)
    assert (second.json()["created"], second.json()["unchanged"]) == (0, 1)
    blob = requests.get(gateway.url + wire.BLOB.format(sha256=sha),
                        headers=auth_headers(station_token), timeout=5)
    assert blob.content == scan

    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 1
    assert refused(post(gateway, station_token, bytes(damaged))) == (400, wire.E_BUNDLE)
    assert refused(post(gateway, station_token, data[:-20])) == (400, wire.E_BUNDLE)
    assert list(gateway.state.blobs.scratch.iterdir()) == []  # nothing staged is left


def test_bundle_still_imports_after_the_token_is_reissued(gateway: GatewayServer,
                                                          station_token: str) -> None:
    key, recipient = register(gateway, station_token)
    data = seal(key, recipient, json_members([sample_document()]))
    new_token = gateway.add_station(AGENCY, 1, "Quầy 1")
    assert new_token != station_token
    assert post(gateway, new_token, data).json()["created"] == 1


def test_forged_or_foreign_bundles_are_refused(gateway: GatewayServer,
                                               station_token: str) -> None:
    key, recipient = register(gateway, station_token)
    other_key, _ = register(gateway, gateway.add_station(AGENCY, 2, "Quầy 2"))
    members = json_members([sample_document()])
    signature_error = (403, wire.E_BUNDLE_SIGNATURE)

    # Station 2 signs with its own registered key but claims to be station 1.
    assert refused(post(gateway, station_token, seal(other_key, recipient, members))
                   ) == signature_error
    # A valid-looking manifest naming station 1's key, signed by someone else.
    manifest = codec.Manifest("usb-x", AGENCY, 1, "2026-12-07", codec.public_key_hex(key),
                              tuple(m for m, _ in members))
    raw = manifest.encode()
    body = b"".join(open_member().read() for _, open_member in members)
    forged = raw_bundle(recipient, raw, codec.sign_manifest(raw, Ed25519PrivateKey.generate()),
                        body)
    assert refused(post(gateway, station_token, forged)) == signature_error
    # Unknown station, and a revoked one.
    assert refused(post(gateway, station_token, seal(key, recipient, members, digit=7))
                   ) == signature_error
    admin_ops.revoke_station(gateway.state, AGENCY, 2)
    assert refused(post(gateway, station_token, seal(other_key, recipient, members, digit=2))
                   ) == signature_error
    # Sealed to another province.
    elsewhere = str(pyrage.x25519.Identity.generate().to_public())
    assert refused(post(gateway, station_token, seal(key, elsewhere, members))) == (
        400, wire.E_BUNDLE_PROVINCE)
    # The old token-keyed format, and garbage.
    old = post(gateway, station_token, codec.OLD_MAGIC + b"\0\0\0\2{}" + b"\0" * 64)
    assert refused(old) == (400, wire.E_BUNDLE_OLD) and "xuất lại" in old.json()["message"]
    assert refused(post(gateway, station_token, b"not a bundle at all")) == (400, wire.E_BUNDLE)


@pytest.mark.parametrize("manifest", [
    b"{not json",
    json.dumps({"format": 2, "bundle_id": "b", "agency_code": AGENCY, "station_digit": 1,
                "created_at": "", "signing_key": "00" * 32,
                "members": [{"name": "dossiers.json", "size": -5, "sha256": "00" * 32}]}
               ).encode(),
    json.dumps({"format": 2, "bundle_id": "b", "agency_code": AGENCY, "station_digit": 1,
                "created_at": "", "signing_key": "00" * 32,
                "members": [{"name": "../../etc/passwd", "size": 1, "sha256": "00" * 32}]}
               ).encode(),
    json.dumps({"format": 2, "bundle_id": "b", "agency_code": AGENCY, "station_digit": 1,
                "created_at": "", "signing_key": "00" * 32, "members": {"a": 1}}).encode(),
    json.dumps(["format", 2]).encode(),
], ids=["not-json", "negative-size", "path-name", "members-not-list", "not-object"])
def test_malformed_manifests_are_a_clear_400(gateway: GatewayServer, station_token: str,
                                             manifest: bytes) -> None:
    key, recipient = register(gateway, station_token)
    data = raw_bundle(recipient, manifest, codec.sign_manifest(manifest, key))
    assert refused(post(gateway, station_token, data)) == (400, wire.E_BUNDLE)


def test_manifest_length_beyond_the_cap_is_refused(gateway: GatewayServer,
                                                   station_token: str) -> None:
    _, recipient = register(gateway, station_token)
    out = io.BytesIO()
    codec.seal([codec.MAGIC, struct.pack(">I", 0xFFFFFFFF), b"{" * 1000], recipient, out)
    assert refused(post(gateway, station_token, out.getvalue())) == (400, wire.E_BUNDLE)


def _import(gateway: GatewayServer, data: bytes | Path) -> wire.BundleReceipt:
    if isinstance(data, Path):
        with data.open("rb") as f:
            return import_bundle(gateway.state, f)
    return import_bundle(gateway.state, io.BytesIO(data))


def _peak(gateway: GatewayServer, data: bytes | Path) -> tuple[int, Any]:
    tracemalloc.start()
    try:
        try:
            result: Any = _import(gateway, data)
        except WireError as exc:
            result = (exc.status, exc.code)
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_bomb_style_bundles_are_refused_without_memory_growth(
        gateway: GatewayServer, station_token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key, recipient = register(gateway, station_token)
    # A member declared as 1 KiB followed by 8 MiB: reading stops at the declared size.
    small = os.urandom(1024)
    member = codec.Member(codec.file_member_name(hashlib.sha256(small).hexdigest()), 1024,
                          hashlib.sha256(small).hexdigest())
    manifest = codec.Manifest("bomb", AGENCY, 1, "", codec.public_key_hex(key), (member,))
    raw = manifest.encode()
    bomb = raw_bundle(recipient, raw, codec.sign_manifest(raw, key), os.urandom(8 << 20))
    peak, result = _peak(gateway, bomb)
    assert result == (400, wire.E_BUNDLE) and peak < 2 << 20

    # A member over the per-file limit, and members over the total: refused from the
    # signed manifest, before a byte of them is read.
    monkeypatch.setattr(gateway.state.config, "max_file_bytes", 64 * 1024)
    big = seal(key, recipient, [file_member(os.urandom(100 * 1024))])
    assert _peak(gateway, big)[1] == (413, wire.E_TOO_LARGE)
    monkeypatch.setattr(gateway.state.config, "max_file_bytes", 1 << 20)
    monkeypatch.setattr(gateway.state.config, "max_bundle_bytes", 150 * 1024)
    total = seal(key, recipient, [file_member(os.urandom(100 * 1024)),
                                  file_member(os.urandom(100 * 1024))])
    assert _peak(gateway, total)[1] == (413, wire.E_TOO_LARGE)
    monkeypatch.setattr(gateway.state.config, "max_bundle_json_bytes", 100)
    docs = seal(key, recipient, json_members([sample_document()]))
    assert _peak(gateway, docs)[1] == (413, wire.E_TOO_LARGE)
    assert list(gateway.state.blobs.scratch.iterdir()) == []


def _file_bundle(path: Path, key: Ed25519PrivateKey, recipient: str, mib: int,
                 tmp: Path) -> Path:
    scan = tmp / f"scan-{mib}.bin"
    digest = hashlib.sha256()
    with scan.open("wb") as f:
        for _ in range(mib):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            f.write(chunk)
    sha = digest.hexdigest()
    member = codec.Member(codec.file_member_name(sha), mib << 20, sha)
    with path.open("wb") as out:
        codec.write_bundle(out, bundle_id=f"flat-{mib}", agency_code=AGENCY, station_digit=1,
                           created_at="", members=[(member, lambda: scan.open("rb"))],
                           signing_key=key, recipient=recipient)
    return path


def test_import_memory_stays_flat_as_bundles_grow(gateway: GatewayServer,
                                                  station_token: str, tmp_path: Path) -> None:
    key, recipient = register(gateway, station_token)
    small = _file_bundle(tmp_path / "small.mcb", key, recipient, 3, tmp_path)
    large = _file_bundle(tmp_path / "large.mcb", key, recipient, 30, tmp_path)
    peak_small, receipt = _peak(gateway, small)
    assert receipt.files == 1
    peak_large, receipt = _peak(gateway, large)
    assert receipt.files == 1
    # Ten times the bytes, not ten times the memory (both well under one member).
    assert peak_large < 2 * peak_small + (512 << 10) and peak_large < 3 << 20


def test_cli_imports_a_bundle_file(gateway: GatewayServer, station_token: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    key, recipient = register(gateway, station_token)
    path = tmp_path / "ho-so.mcb"
    path.write_bytes(seal(key, recipient, json_members([sample_document()]),
                          bundle_id="usb-002"))
    data = ["--data", str(gateway.config.data_dir)]
    assert admin_cli.main(["import-bundle", *data, str(path)]) == 0
    assert "usb-002: 1 hồ sơ (1 mới/cập nhật" in capsys.readouterr().out
    path.write_bytes(codec.OLD_MAGIC + b"\0" * 10)
    assert admin_cli.main(["import-bundle", *data, str(path)]) == 1
    assert "định dạng cũ" in capsys.readouterr().err
    assert admin_cli.main(["stations", *data]) == 0
    assert "000.00.12.H12\tquầy 1" in capsys.readouterr().out
