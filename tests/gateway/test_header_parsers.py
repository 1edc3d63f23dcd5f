"""Every header the gateway parses either parses or is refused with a clean 4xx ErrorBody,
whatever the bytes: never an exception of another kind, never a 500."""

from __future__ import annotations

import base64

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provincial_gateway import tus
from provincial_gateway.errors import WireError
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import auth_headers, upload_blob

# What an HTTP header value can carry once h11 has read it: latin-1 text without CR/LF.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)
digits_like = st.one_of(
    header_text,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(st.sampled_from("0123456789²³¹⁰٠١۲０１ +-_."), max_size=30),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n))
metadata_like = st.one_of(
    header_text,
    st.lists(st.tuples(st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF),
                               max_size=10),
                       st.one_of(st.binary(max_size=20).map(
                           lambda b: base64.b64encode(b).decode()), header_text)),
             max_size=5).map(lambda pairs: ",".join(f"{k} {v}" for k, v in pairs)))
checksum_like = st.one_of(
    header_text,
    st.tuples(st.sampled_from(["sha1", "SHA256", "md5", "crc32", "", "sha256 "]),
              st.one_of(st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
                        header_text)).map(" ".join))

PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(digits_like)
def test_upload_length_and_offset(raw: str) -> None:
    try:
        value = tus.parse_uint(raw, "Upload-Offset")
    except WireError as err:
        assert err.status == 400 and err.code == wire.E_INVALID
    else:
        assert 0 <= value < 2**63 and raw.strip().isascii() and raw.strip().isdigit()


@PROPERTY
@given(metadata_like)
def test_upload_metadata(raw: str) -> None:
    try:
        meta = tus.parse_metadata(raw)
    except WireError as err:
        assert err.status == 400 and err.code == wire.E_INVALID
    else:
        assert all(k.isascii() and " " not in k and "," not in k for k in meta)
        for value in meta.values():
            value.encode("utf-8")  # storable: no lone surrogate
        assert tus.media_type_of(meta).isascii()


@PROPERTY
@given(checksum_like)
def test_upload_checksum(raw: str) -> None:
    try:
        parsed = tus.parse_checksum(raw)
    except WireError as err:
        assert err.status == 400 and err.code == wire.E_INVALID
    else:
        assert parsed is None or parsed[0] in wire.TUS_CHECKSUM_ALGORITHMS


@PROPERTY
@given(st.one_of(header_text, st.just("1.0.0"), st.just("1.0.0 "), st.just("0.2.2")))
def test_tus_resumable(raw: str) -> None:
    try:
        assert tus.parse_tus_resumable(raw) == wire.TUS_VERSION
    except WireError as err:
        assert err.status == 412 and err.headers["Tus-Version"] == wire.TUS_VERSION


range_like = st.one_of(
    # Latin-1 as a header can carry; not NEL or NBSP first, which requests itself refuses
    # to send as leading whitespace.
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), min_size=1, max_size=40)
    .filter(lambda t: t[0] not in "\x85\xa0"),
    st.lists(st.tuples(st.one_of(st.none(), st.integers(-5, 2**70)),
                       st.one_of(st.none(), st.integers(-5, 2**70))), min_size=1, max_size=4)
    .map(lambda rs: "bytes=" + ",".join(f"{'' if a is None else a}-{'' if b is None else b}"
                                        for a, b in rs)))


_uploaded: dict[str, str] = {}  # one blob per gateway, not one per example


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(range_like)
def test_range_on_a_blob_download(gateway: GatewayServer, station_token: str,
                                  raw: str) -> None:
    """Range is Starlette's FileResponse's to parse: 200, 206, 400 or 416, never 500."""
    sha = _uploaded.get(gateway.url) or _uploaded.setdefault(
        gateway.url, upload_blob(gateway, station_token, b"0123456789" * 10))
    resp = requests.get(gateway.url + wire.BLOB.format(sha256=sha), timeout=10,
                        headers={**auth_headers(station_token), "Range": raw})
    assert resp.status_code in (200, 206, 400, 416), (raw, resp.status_code)
