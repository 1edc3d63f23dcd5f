"""tus 1.0 uploads: protocol details, durability after cuts, checksums, tuspy interop."""

from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest
import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusUploadFailed

from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.gateway.tus_helpers import create, head_offset, patch, start_partial_patch, wait_for
from tests.support.gateway_fixtures import add_station, auth_headers, tus_headers, tus_metadata

DATA = os.urandom(300_000)
SHA = hashlib.sha256(DATA).hexdigest()


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def blob_on_disk(gateway: GatewayServer, sha: str) -> bytes | None:
    path = gateway.state.blobs.path(sha)
    return path.read_bytes() if path.exists() else None


def upload_id(location: str) -> str:
    return location.rsplit("/", 1)[1]


def recorded_bytes(gateway: GatewayServer, location: str) -> bytes:
    """The upload's bytes as its recorded segments hold them."""
    from sqlalchemy import select

    from provincial_gateway.db import UploadSegment

    with gateway.sessions() as s:
        segments = s.scalars(select(UploadSegment).where(
            UploadSegment.upload_id == upload_id(location)).order_by(UploadSegment.offset))
        return b"".join(gateway.state.blobs.segment_path(seg.upload_id, seg.name).read_bytes()
                        for seg in segments)


def segment_files(gateway: GatewayServer, location: str) -> list[str]:
    folder = gateway.state.blobs.segments / upload_id(location)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def spooled(gateway: GatewayServer, location: str) -> int:
    """Bytes of this upload's PATCH body being received (0 when none is)."""
    return sum(p.stat().st_size
               for p in gateway.state.blobs.scratch.glob(f"patch-{upload_id(location)}-*"))


def test_options_advertise_the_extensions(gateway: GatewayServer) -> None:
    resp = requests.options(gateway.url + wire.FILES, timeout=5)
    assert resp.status_code == 204
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert set(resp.headers["Tus-Extension"].split(",")) == {
        "creation", "checksum", "termination", "expiration"}
    assert int(resp.headers["Tus-Max-Size"]) == wire.MAX_FILE_BYTES
    assert set(resp.headers["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256", "md5"}


def test_requests_without_tus_resumable_get_412(gateway: GatewayServer,
                                                station_token: str) -> None:
    resp = requests.post(gateway.url + wire.FILES, headers={
        **auth_headers(station_token), "Upload-Length": "10", "Upload-Metadata": tus_metadata(SHA)},
        timeout=5)
    assert resp.status_code == 412
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert resp.headers["Tus-Resumable"] == "1.0.0"


def test_creation_checks_its_headers(gateway: GatewayServer, station_token: str) -> None:
    h = tus_headers(station_token)
    url = gateway.url + wire.FILES
    no_length = requests.post(url, headers={**h, "Upload-Metadata": tus_metadata(SHA)}, timeout=5)
    assert no_length.status_code == 400
    no_sha = requests.post(url, headers={**h, "Upload-Length": "10",
                                         "Upload-Metadata": "filename YS5wZGY="}, timeout=5)
    assert no_sha.status_code == 400 and no_sha.json()["code"] == wire.E_INVALID
    too_big = requests.post(url, timeout=5, headers={
        **h, "Upload-Length": str(wire.MAX_FILE_BYTES + 1), "Upload-Metadata": tus_metadata(SHA)})
    assert too_big.status_code == 413 and too_big.json()["code"] == wire.E_TOO_LARGE
    no_auth = requests.post(url, timeout=5, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": tus_metadata(SHA)})
    assert no_auth.status_code == 401 and no_auth.headers["Tus-Resumable"] == "1.0.0"


def test_patch_head_and_offset_rules(gateway: GatewayServer, station_token: str) -> None:
    location = create(gateway.url, station_token, DATA)
    assert location.startswith(gateway.url + wire.FILES)
    head = requests.head(location, headers=tus_headers(station_token), timeout=5)
    assert head.status_code == 200
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("0", "300000")
    assert head.headers["Cache-Control"] == "no-store"
    assert head.headers["Tus-Resumable"] == "1.0.0"

    first = patch(location, station_token, 0, DATA[:100_000])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "100000"
    stale = patch(location, station_token, 0, DATA[:100_000])
    assert stale.status_code == 409 and stale.headers["Upload-Offset"] == "100000"
    wrong_type = requests.patch(location, data=DATA[100_000:], timeout=5, headers={
        **tus_headers(station_token), "Upload-Offset": "100000",
        "Content-Type": "application/octet-stream"})
    assert wrong_type.status_code == 415
    too_long = patch(location, station_token, 100_000, DATA[100_000:] + b"extra")
    assert too_long.status_code == 400
    assert head_offset(location, station_token) == 100_000

    other = add_station(gateway, digit=2)
    assert requests.head(location, headers=tus_headers(other), timeout=5).status_code == 404
    for bogus in ("0" * 32, "..%2F..%2Fgateway.db"):
        resp = requests.head(gateway.url + wire.FILES + bogus,
                             headers=tus_headers(station_token), timeout=5)
        assert resp.status_code == 404

    last = patch(location, station_token, 100_000, DATA[100_000:])
    assert last.status_code == 204 and last.headers["Upload-Offset"] == "300000"
    assert blob_on_disk(gateway, SHA) == DATA
    assert head_offset(location, station_token) == 300_000
    # Resending the final (empty) PATCH of a completed upload is harmless.
    assert patch(location, station_token, 300_000, b"").status_code == 204


@pytest.mark.parametrize("algo", ["sha1", "sha256", "md5"])
def test_chunk_checksum(gateway: GatewayServer, station_token: str, algo: str) -> None:
    location = create(gateway.url, station_token, DATA)
    chunk = DATA[:50_000]
    wrong = patch(location, station_token, 0, chunk,
                  f"{algo} {b64(hashlib.new(algo, b'other').digest())}")
    assert wrong.status_code == 460
    assert wrong.json()["code"] == wire.E_CHECKSUM
    assert head_offset(location, station_token) == 0
    assert recorded_bytes(gateway, location) == b"" and segment_files(gateway, location) == []
    right = patch(location, station_token, 0, chunk,
                  f"{algo} {b64(hashlib.new(algo, chunk).digest())}")
    assert right.status_code == 204 and right.headers["Upload-Offset"] == "50000"
    unknown = patch(location, station_token, 50_000, DATA[50_000:], "crc32 AAAA")
    assert unknown.status_code == 400


def test_whole_file_sha256_mismatch_discards_the_upload(gateway: GatewayServer,
                                                       station_token: str) -> None:
    claimed = hashlib.sha256(b"the file the station meant").hexdigest()
    location = create(gateway.url, station_token, DATA, sha256=claimed)
    assert patch(location, station_token, 0, DATA[:150_000]).status_code == 204
    resp = patch(location, station_token, 150_000, DATA[150_000:])
    assert resp.status_code == 460
    assert wire.ErrorBody.model_validate(resp.json()).code == wire.E_CHECKSUM
    assert requests.head(location, headers=tus_headers(station_token), timeout=5
                         ).status_code == 404
    assert blob_on_disk(gateway, claimed) is None and blob_on_disk(gateway, SHA) is None
    missing = requests.post(gateway.url + wire.BLOBS_MISSING, json={"sha256": [claimed]},
                            headers=auth_headers(station_token), timeout=5)
    assert missing.json()["missing"] == [claimed]
    assert segment_files(gateway, location) == []


def test_cut_mid_patch_keeps_what_arrived_and_resumes(gateway: GatewayServer,
                                                      station_token: str) -> None:
    location = create(gateway.url, station_token, DATA)
    assert patch(location, station_token, 0, DATA[:100_000]).status_code == 204
    sock = start_partial_patch(location, station_token, 100_000, DATA[100_000:], 70_000)
    wait_for(lambda: spooled(gateway, location) >= 70_000)
    sock.close()  # the link drops in the middle of the chunk
    wait_for(lambda: head_offset(location, station_token) == 170_000)
    assert recorded_bytes(gateway, location) == DATA[:170_000]
    assert spooled(gateway, location) == 0
    assert patch(location, station_token, 170_000, DATA[170_000:]).status_code == 204
    assert blob_on_disk(gateway, SHA) == DATA


def test_cut_mid_patch_with_checksum_applies_nothing(gateway: GatewayServer,
                                                     station_token: str) -> None:
    location = create(gateway.url, station_token, DATA)
    assert patch(location, station_token, 0, DATA[:100_000]).status_code == 204
    chunk = DATA[100_000:]
    sock = start_partial_patch(location, station_token, 100_000, chunk, 70_000,
                               checksum=f"sha256 {b64(hashlib.sha256(chunk).digest())}")
    wait_for(lambda: spooled(gateway, location) >= 70_000)
    sock.close()
    # A chunk that cannot be verified against its checksum is not applied at all.
    wait_for(lambda: spooled(gateway, location) == 0)
    assert head_offset(location, station_token) == 100_000
    assert recorded_bytes(gateway, location) == DATA[:100_000]
    assert len(segment_files(gateway, location)) == 1


def test_drop_after_patch_is_visible_through_head(gateway: GatewayServer,
                                                  station_token: str) -> None:
    location = create(gateway.url, station_token, DATA)
    gateway.faults.add("drop_after", method="PATCH", path="/files/", times=1)
    with pytest.raises(requests.ConnectionError):
        patch(location, station_token, 0, DATA[:100_000])
    assert head_offset(location, station_token) == 100_000


def test_delete_terminates_an_upload(gateway: GatewayServer, station_token: str) -> None:
    location = create(gateway.url, station_token, DATA)
    patch(location, station_token, 0, DATA[:1000])
    resp = requests.delete(location, headers=tus_headers(station_token), timeout=5)
    assert resp.status_code == 204 and resp.headers["Tus-Resumable"] == "1.0.0"
    assert requests.head(location, headers=tus_headers(station_token), timeout=5
                         ).status_code == 404
    assert patch(location, station_token, 1000, DATA[1000:2000]).status_code == 404
    assert segment_files(gateway, location) == []


def test_abandoned_uploads_expire(gateway: GatewayServer, station_token: str) -> None:
    """An upload idle past the expiry (a week) is discarded with its partial file; the
    station that comes back gets 404 and starts again. A fresh one is kept."""
    from datetime import timedelta
    from email.utils import parsedate_to_datetime

    from provincial_gateway import tus
    from provincial_gateway import upload_leases as leases
    from provincial_gateway.db import Upload, utcnow

    old = create(gateway.url, station_token, DATA)
    resp = patch(old, station_token, 0, DATA[:1000])
    expires = parsedate_to_datetime(resp.headers["Upload-Expires"]).replace(tzinfo=None)
    assert timedelta(days=6, hours=23) < expires - utcnow() <= timedelta(days=7)
    fresh = create(gateway.url, station_token, DATA)
    old_id = old.rsplit("/", 1)[1]
    with gateway.sessions.begin() as s:
        s.get(Upload, old_id).updated_at = utcnow() - timedelta(days=7, minutes=1)
    assert len(segment_files(gateway, old)) == 1
    # An upload a request holds (on any replica) is left for the next sweep.
    holder = leases.new_holder()
    assert leases.try_take(gateway.state, old_id, holder)
    assert tus.expire_uploads(gateway.state) == 0
    leases.release(gateway.state, old_id, holder)
    assert tus.expire_uploads(gateway.state) == 1
    assert segment_files(gateway, old) == []
    assert requests.head(old, headers=tus_headers(station_token), timeout=5).status_code == 404
    assert patch(old, station_token, 1000, DATA[1000:2000]).status_code == 404
    assert head_offset(fresh, station_token) == 0
    # The sweep also runs when uploads are created (at most hourly) and at start-up.
    gateway.state.last_expiry_sweep = utcnow() - timedelta(hours=2)
    with gateway.sessions.begin() as s:
        s.get(Upload, fresh.rsplit("/", 1)[1]).updated_at = utcnow() - timedelta(days=8)
    create(gateway.url, station_token, DATA)
    assert requests.head(fresh, headers=tus_headers(station_token),
                         timeout=5).status_code == 404


def test_empty_file_and_already_held_blob(gateway: GatewayServer, station_token: str) -> None:
    location = create(gateway.url, station_token, b"")
    assert head_offset(location, station_token) == 0
    assert blob_on_disk(gateway, hashlib.sha256(b"").hexdigest()) == b""
    for _ in range(2):  # the second upload of the same content completes normally
        location = create(gateway.url, station_token, DATA)
        assert patch(location, station_token, 0, DATA).status_code == 204
    assert blob_on_disk(gateway, SHA) == DATA


def uploader(gateway: GatewayServer, token: str, data: bytes, **options: object) -> object:
    client = tus_client.TusClient(gateway.url + wire.FILES, headers=auth_headers(token))
    return client.uploader(file_stream=io.BytesIO(data), chunk_size=64 * 1024,
                           metadata={"sha256": hashlib.sha256(data).hexdigest(),
                                     "filename": "Giấy khai sinh.pdf",
                                     "media_type": "application/pdf"},
                           upload_checksum=True, **options)


def test_tuspy_uploads_and_resumes(gateway: GatewayServer, station_token: str) -> None:
    up = uploader(gateway, station_token, DATA)
    up.upload(stop_at=3 * 64 * 1024)  # type: ignore[attr-defined]
    url = up.url  # type: ignore[attr-defined]
    assert head_offset(url, station_token) == 3 * 64 * 1024
    resumed = uploader(gateway, station_token, DATA, url=url)
    assert resumed.offset == 3 * 64 * 1024  # type: ignore[attr-defined]
    resumed.upload()  # type: ignore[attr-defined]
    assert blob_on_disk(gateway, SHA) == DATA


@pytest.mark.parametrize("kind", ["drop_before", "drop_after", "status_5xx"])
def test_tuspy_retries_through_faults(gateway: GatewayServer, station_token: str,
                                      kind: str) -> None:
    gateway.faults.add(kind, method="PATCH", path="/files/", times=2)  # type: ignore[arg-type]
    up = uploader(gateway, station_token, DATA, retries=3, retry_delay=0)
    up.upload()  # type: ignore[attr-defined]
    assert blob_on_disk(gateway, SHA) == DATA
    assert len(gateway.faults.hits) == 2


def test_tuspy_sees_a_sha256_mismatch(gateway: GatewayServer, station_token: str) -> None:
    client = tus_client.TusClient(gateway.url + wire.FILES,
                                  headers=auth_headers(station_token))
    up = client.uploader(file_stream=io.BytesIO(DATA), chunk_size=100_000,
                         metadata={"sha256": "0" * 64})
    with pytest.raises(TusUploadFailed) as info:
        up.upload()
    assert info.value.status_code == 460
    assert b"checksum_mismatch" in info.value.response_content
    assert blob_on_disk(gateway, SHA) is None


def test_a_partial_file_of_the_older_layout_is_carried_over(gateway: GatewayServer,
                                                            station_token: str) -> None:
    """An upload left open by a gateway version that kept one growing `<id>.part` file:
    at start-up its recorded bytes become the first segment, and bytes past the recorded
    offset (never acknowledged) are dropped; the station resumes where HEAD says."""
    from provincial_gateway import tus
    from provincial_gateway.db import Upload

    location = create(gateway.url, station_token, DATA)
    legacy = gateway.state.blobs.scratch / f"{upload_id(location)}.part"
    legacy.write_bytes(DATA[:150_000])
    with gateway.sessions.begin() as s:
        s.get(Upload, upload_id(location)).offset = 100_000
    tus.startup_sweep(gateway.state)
    assert not legacy.exists()
    assert head_offset(location, station_token) == 100_000
    assert recorded_bytes(gateway, location) == DATA[:100_000]
    assert patch(location, station_token, 100_000, DATA[100_000:]).status_code == 204
    assert blob_on_disk(gateway, SHA) == DATA
