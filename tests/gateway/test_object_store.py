"""The gateway's blob stores against one contract: the local folder and an S3 bucket on a
real S3 server (moto's, as a separate process on loopback), and downloads from a gateway
whose files live in the bucket (HTTP Range, the station's own resumable client)."""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from desktop_app.sync.client import GatewayClient
from provincial_gateway import admin_cli
from provincial_gateway.blob_records import record_blob
from provincial_gateway.blobstore import BlobStore, LocalBlobStore, segment_name
from provincial_gateway.config import GatewayConfig
from provincial_gateway.object_store import (
    PART_MIN,
    ObjectStoreError,
    S3BlobStore,
    make_client,
    open_blob_store,
)
from provincial_gateway.server import GatewayServer, free_port
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers
from tests.support.s3_server import AWS_ENV, BUCKET

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_client(s3_endpoint: str) -> Any:
    return make_client()  # one for the module: building a client costs about a second


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "data")
    # PART_MIN parts: a few MiB of test data already spans several parts.
    return S3BlobStore(BUCKET, f"t-{uuid.uuid4().hex[:8]}/", scratch=tmp_path / "scratch",
                       client=request.getfixturevalue("s3_client"), part_size=PART_MIN)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def scratch_with(store: BlobStore, data: bytes) -> Path:
    path = store.scratch_file("test")
    path.write_bytes(data)
    return path


def read(store: BlobStore, digest: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(store.iter_range(digest, start, end))


@pytest.mark.nodb
def test_put_file_put_bytes_exists_size(store: BlobStore) -> None:
    data = os.urandom(300_000)
    digest = sha(data)
    assert not store.exists(digest) and store.size(digest) is None
    src = scratch_with(store, data)
    store.put_file(src, digest)
    assert not src.exists()  # consumed
    assert store.exists(digest) and store.size(digest) == len(data)
    assert read(store, digest) == data

    small = b"giay khai sinh"
    store.put_bytes(small, sha(small))
    assert store.size(sha(small)) == len(small) and read(store, sha(small)) == small

    # Storing a blob already held is a no-op that still consumes the scratch file.
    again = scratch_with(store, b"not these bytes")
    store.put_file(again, digest)
    assert not again.exists() and read(store, digest) == data
    store.put_bytes(b"nor these", sha(small))
    assert read(store, sha(small)) == small


@pytest.mark.nodb
def test_iter_range(store: BlobStore) -> None:
    data = os.urandom(3 * MIB + 123)  # more than one read chunk
    digest = sha(data)
    store.put_bytes(data, digest)
    assert read(store, digest) == data
    assert read(store, digest, 1000, 2 * MIB + 7) == data[1000:2 * MIB + 7]
    assert read(store, digest, 3 * MIB) == data[3 * MIB:]
    assert read(store, digest, len(data) - 1, len(data) + 50) == data[-1:]
    assert read(store, digest, 10, 10) == b""
    assert read(store, digest, len(data) + 5) == b""
    empty = b""
    store.put_bytes(empty, sha(empty))
    assert store.size(sha(empty)) == 0 and read(store, sha(empty)) == b""


@pytest.mark.nodb
@pytest.mark.parametrize(("sizes", "s3_parts"), [
    ([200_000], 0),  # a server-side copy, no multipart upload
    ([1000, 1, 70_000], 1),
    ([2 * MIB] * 3 + [777], 2),  # parts gathered from segments across boundaries
    ([PART_MIN + 1000, 1000, PART_MIN, 10], 3),  # one copied server-side, two gathered
], ids=["one", "several-small", "over-5MiB", "big-segments"])
def test_compose(store: BlobStore, sizes: list[int], s3_parts: int) -> None:
    upload_id = uuid.uuid4().hex
    pieces = [os.urandom(n) for n in sizes]
    names: list[str] = []
    offset = 0
    for piece in pieces:
        names.append(segment_name(offset))
        src = scratch_with(store, piece)
        store.put_segment(upload_id, names[-1], src)
        assert not src.exists()
        offset += len(piece)
    assert b"".join(store.iter_segment(upload_id, names[-1])) == pieces[-1]
    whole = b"".join(pieces)
    digest = sha(whole)
    store.compose(upload_id, names, digest)
    assert store.size(digest) == len(whole)
    got = hashlib.sha256()
    for chunk in store.iter_range(digest):
        got.update(chunk)
    assert got.hexdigest() == digest
    if isinstance(store, S3BlobStore):  # a multipart object's ETag ends in "-<parts>"
        etag = store.client.head_object(Bucket=BUCKET, Key=store.blob_key(digest))["ETag"]
        assert etag.strip('"').partition("-")[2] == (str(s3_parts) if s3_parts else "")
    store.drop_segments(upload_id)
    # Composing a blob already held changes nothing, whatever the segments say.
    store.put_segment(upload_id, names[0], scratch_with(store, b"other bytes"))
    store.compose(upload_id, names[:1], digest)
    assert store.size(digest) == len(whole)


class FailingReads(S3BlobStore):
    """Reading a segment back breaks after its first chunk, as a dropped connection."""

    def _iter_object(self, key: str, start: int = 0, end: int | None = None
                     ) -> Iterator[bytes]:
        chunks = super()._iter_object(key, start, end)
        yield next(chunks)
        chunks.close()
        raise ObjectStoreError("Không kết nối được kho tệp S3; hãy thử lại sau.", "cut")


@pytest.mark.nodb
def test_a_failed_compose_leaves_no_multipart_upload(s3_client: Any, tmp_path: Path) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}/"
    store = FailingReads(BUCKET, prefix, scratch=tmp_path, client=s3_client,
                         part_size=PART_MIN)
    upload_id = uuid.uuid4().hex
    pieces = [os.urandom(2 * MIB), os.urandom(100)]
    names = [segment_name(0), segment_name(2 * MIB)]
    for name, piece in zip(names, pieces, strict=True):
        store.put_segment(upload_id, name, scratch_with(store, piece))
    digest = sha(b"".join(pieces))
    with pytest.raises(ObjectStoreError):
        store.compose(upload_id, names, digest)
    assert not store.exists(digest)
    pending = s3_client.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
    assert pending.get("Uploads", []) == []  # aborted: no hidden parts left behind


@pytest.mark.nodb
def test_drop_segment_and_segments(store: BlobStore) -> None:
    upload_id = uuid.uuid4().hex
    other = uuid.uuid4().hex
    names = [segment_name(i * 10) for i in range(5)]
    for name in names:
        store.put_segment(upload_id, name, scratch_with(store, name.encode()))
    store.put_segment(other, names[0], scratch_with(store, b"kept"))
    store.drop_segment(upload_id, names[1])
    with pytest.raises(FileNotFoundError):
        b"".join(store.iter_segment(upload_id, names[1]))
    assert b"".join(store.iter_segment(upload_id, names[2])) == names[2].encode()
    store.drop_segments(upload_id)
    for name in names:
        with pytest.raises(FileNotFoundError):
            b"".join(store.iter_segment(upload_id, name))
    assert b"".join(store.iter_segment(other, names[0])) == b"kept"
    store.drop_segments(uuid.uuid4().hex)  # nothing there: fine


@pytest.mark.nodb
def test_unreachable_store_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")  # nobody
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = make_client(connect_timeout=0.5, read_timeout=0.5, max_attempts=2)
    store = S3BlobStore(BUCKET, scratch=tmp_path / "scratch", client=client)
    with pytest.raises(ObjectStoreError) as err:
        store.exists("a" * 64)
    assert "Không kết nối được kho tệp S3" in err.value.message
    assert "HeadObject" in err.value.detail
    assert any("object store s3://motcua-test: HeadObject" in r.getMessage()
               for r in caplog.records)
    with pytest.raises(ObjectStoreError) as err:
        b"".join(store.iter_range("a" * 64))
    assert "EndpointConnectionError" in err.value.detail
    # At start: the bucket named in the message.
    with pytest.raises(ObjectStoreError) as err:
        S3BlobStore(BUCKET, scratch=tmp_path / "scratch", client=client).check_bucket()
    assert f"“{BUCKET}”" in err.value.message


@pytest.mark.nodb
def test_configuration_picks_and_remembers_the_store(s3_endpoint: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_GATEWAY_BLOB_STORE", raising=False)
    data = tmp_path / "gw"
    assert isinstance(open_blob_store(GatewayConfig(data_dir=data)), LocalBlobStore)
    config = GatewayConfig(data_dir=data, blob_store=f"s3://{BUCKET}/tinh/h12/")
    s3 = open_blob_store(config)
    assert isinstance(s3, S3BlobStore) and (s3.bucket, s3.prefix) == (BUCKET, "tinh/h12/")
    assert s3.blob_key("ab" + "c" * 62) == "tinh/h12/blobs/ab/" + "c" * 62
    config.remember_blob_store()
    # A later command on the same data directory reaches the same bucket…
    assert GatewayConfig(data_dir=data).blob_store_url == f"s3://{BUCKET}/tinh/h12/"
    # …unless told otherwise; the environment variable counts as explicit too.
    monkeypatch.setenv("MOTCUA_GATEWAY_BLOB_STORE", f"s3://{BUCKET}")
    assert GatewayConfig(data_dir=data).blob_store_url == f"s3://{BUCKET}"
    monkeypatch.delenv("MOTCUA_GATEWAY_BLOB_STORE")
    GatewayConfig(data_dir=data, blob_store="local").remember_blob_store()
    assert GatewayConfig(data_dir=data).blob_store_url == ""
    with pytest.raises(ObjectStoreError) as err:
        open_blob_store(GatewayConfig(data_dir=data, blob_store="s3://no-such-bucket/x"))
    assert "Không có bucket “no-such-bucket”" in err.value.message


@pytest.mark.nodb
def test_cli_refuses_a_missing_bucket(s3_endpoint: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code = admin_cli.main(["stations", "--data", str(tmp_path / "gw"),
                           "--blob-store", "s3://no-such-bucket"])
    assert code == 1
    err = capsys.readouterr().err
    assert "Không có bucket “no-such-bucket”" in err and "Traceback" not in err
    assert not (tmp_path / "gw" / "gateway.db").exists()  # stopped before any change
    code = admin_cli.main(["stations", "--data", str(tmp_path / "gw"), "--blob-store", "ftp://x"])
    assert code == 1 and "s3://tên-bucket" in capsys.readouterr().err


@pytest.mark.nodb
def test_cli_without_boto3_says_what_to_install(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # As in an install without the `s3` extra: importing boto3 fails.
    monkeypatch.setitem(sys.modules, "boto3", None)
    code = admin_cli.main(["stations", "--data", str(tmp_path / "gw"),
                           "--blob-store", f"s3://{BUCKET}"])
    assert code == admin_cli.EXIT_NOT_INSTALLED == 2
    err = capsys.readouterr().err
    assert "Cài thêm: pip install 'motcua-offline[s3]'" in err and "“boto3”" in err


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_downloads(kind: str, request: pytest.FixtureRequest,
                   gateway_factory: Callable[..., GatewayServer]) -> None:
    """The same answers whether the bytes come from a local file (sendfile) or are
    streamed from the bucket."""
    if kind == "s3":
        request.getfixturevalue("s3_endpoint")
        gw = gateway_factory(blob_store=f"s3://{BUCKET}/gw-{uuid.uuid4().hex[:8]}")
        assert isinstance(gw.state.blobs, S3BlobStore)
    else:
        gw = gateway_factory()
    data = os.urandom(2 * MIB + 4321)
    digest = sha(data)
    gw.state.blobs.put_bytes(data, digest)
    record_blob(gw.state, digest, len(data), "application/pdf", AGENCY)
    token = add_station(gw)
    url = gw.url + wire.BLOB.format(sha256=digest)
    headers = auth_headers(token)

    resp = requests.get(url, headers=headers, timeout=10)
    assert resp.status_code == 200 and resp.content == data
    assert resp.headers["Content-Length"] == str(len(data))
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["ETag"] == f'"{digest}"'
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{digest}"'

    for rng, start, end in [("bytes=100-199", 100, 200), ("bytes=2000000-", 2_000_000, None),
                            ("bytes=-10", len(data) - 10, None),
                            ("bytes=5-99999999", 5, None)]:
        resp = requests.get(url, headers={**headers, "Range": rng}, timeout=10)
        want = data[start:end]
        assert resp.status_code == 206, rng
        assert resp.content == want, rng
        assert resp.headers["Content-Range"] == (
            f"bytes {start}-{start + len(want) - 1}/{len(data)}")
        assert resp.headers["Content-Length"] == str(len(want))

    resp = requests.get(url, headers={**headers, "Range": f"bytes={len(data)}-"}, timeout=10)
    assert resp.status_code == 416
    assert resp.headers["Content-Range"] == f"bytes */{len(data)}"
    # An If-Range for other bytes: the whole file.
    resp = requests.get(url, headers={**headers, "Range": "bytes=0-1", "If-Range": '"other"'},
                        timeout=10)
    assert resp.status_code == 200 and resp.content == data
    if kind == "s3":  # several ranges or a malformed one: the whole file, never a 500
        for rng in ("bytes=0-1,5-6", "bytes=abc", "bytes=5-2", "items=0-1", "bytes=-",
                    "bytes= 1 - 2", "bytes=1-2-3", "bytes=--5"):
            resp = requests.get(url, headers={**headers, "Range": rng}, timeout=10)
            assert resp.status_code in (200, 206), rng
            assert resp.content == (data[1:3] if resp.status_code == 206 else data), rng

    # The station's resumable downloader, chunk by chunk.
    client = GatewayClient(gw.url, token)
    path = wire.BLOB.format(sha256=digest)
    step = MIB
    got = b"".join(
        client.range_chunk(path, digest, first, min(first + step, len(data)) - 1, "result",
                           total=len(data))
        for first in range(0, len(data), step))
    assert got == data

    # A blob the bucket lost: 404, as a missing local file.
    gone = sha(b"gone")
    record_blob(gw.state, gone, 4, "application/pdf", AGENCY)
    resp = requests.get(gw.url + wire.BLOB.format(sha256=gone), headers=headers, timeout=10)
    assert resp.status_code == 404
