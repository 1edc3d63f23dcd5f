"""Offline USB bundles: a commune without any link carries its pending dossiers by hand.

The bundle format belongs to the shared contract (`sync_contract.bundle_codec`). The
import streams: the body is spooled to disk, decrypted chunk by chunk, the signed
manifest is checked (known station, registered key, signature, limits) before any member
byte is accepted, and each member is checked against its declared size and hash while it
arrives; files go to the blob store's upload area, never into memory. Only when the
whole age stream has authenticated are files adopted and dossiers and events applied,
with exactly the rules of the online endpoints, so importing the same bundle twice
changes nothing."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from provincial_gateway import bundle_keys
from provincial_gateway.auth import CurrentStation
from provincial_gateway.blob_records import record_blob
from provincial_gateway.dossiers import record_event, upsert_dossier
from provincial_gateway.errors import INVALID, WireError
from provincial_gateway.state import GatewayState, gateway_state
from sync_contract import bundle_codec as codec
from sync_contract import wire

log = logging.getLogger("provincial_gateway.bundles")
router = APIRouter(tags=["bundles"])

_REEXPORT = "Hãy xuất lại gói trên máy trạm bằng phiên bản mới."


def _refusal(exc: codec.BundleError) -> WireError:
    if isinstance(exc, codec.OldFormatBundle):
        return WireError(400, wire.E_BUNDLE_OLD, "Gói USB theo định dạng cũ (không có chữ ký "
                         "của máy trạm) không còn được nhận. " + _REEXPORT)
    if isinstance(exc, codec.OtherProvinceBundle):
        return WireError(400, wire.E_BUNDLE_PROVINCE, "Gói USB này được mã hóa cho hệ thống "
                         "của tỉnh khác (hoặc khóa cũ của tỉnh), máy chủ này không mở được.")
    if isinstance(exc, codec.SignatureRefused):
        return WireError(403, wire.E_BUNDLE_SIGNATURE, "Chữ ký của gói USB không hợp lệ hoặc "
                         "máy trạm tạo gói chưa đăng ký với tỉnh; gói không được nhập.")
    if isinstance(exc, codec.OverLimit):
        return WireError(413, wire.E_TOO_LARGE, "Gói USB hoặc một tệp trong gói vượt giới "
                         "hạn cho phép; gói không được nhập.")
    return WireError(400, wire.E_BUNDLE, "Gói dữ liệu USB không hợp lệ hoặc bị hỏng; gói "
                     "không được nhập. " + _REEXPORT)


class _Staging:
    """Members as they arrive: JSON lists in memory (bounded), files in the upload area."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.dir = state.blobs.scratch_file("bundle", "")
        self.dir.mkdir(parents=True)
        self.json: dict[str, _JsonSink] = {}
        self.files: dict[str, tuple[Path, int]] = {}
        self.sinks: list[_FileSink] = []
        self.station_id = 0

    def check(self, manifest: codec.Manifest, raw: bytes, signature: bytes) -> None:
        """Everything about the manifest, before a single member byte is accepted."""
        found = bundle_keys.station_keys(self.state, manifest.agency_code,
                                         manifest.station_digit)
        if found is None:
            raise codec.SignatureRefused(
                f"unknown or revoked station {manifest.agency_code}/{manifest.station_digit}")
        self.station_id, keys = found
        if manifest.signing_key not in keys:
            raise codec.SignatureRefused("signing key not registered for this station")
        if not codec.signature_valid(raw, signature, manifest.signing_key):
            raise codec.SignatureRefused("manifest signature does not verify")
        config = self.state.config
        for m in manifest.members:
            limit = (config.max_bundle_json_bytes if m.name in (codec.DOSSIERS, codec.EVENTS)
                     else config.max_file_bytes)
            if m.size > limit:
                raise codec.OverLimit(f"member {m.name} declares {m.size} bytes (max {limit})")
        if manifest.total_bytes > config.max_bundle_bytes:
            raise codec.OverLimit(f"members total {manifest.total_bytes} bytes "
                                  f"(max {config.max_bundle_bytes})")

    def open_member(self, member: codec.Member) -> codec.MemberSink:
        if member.name in (codec.DOSSIERS, codec.EVENTS):
            sink = self.json[member.name] = _JsonSink()
            return sink
        path = self.dir / f"{member.sha256}.part"
        self.files[member.sha256] = (path, member.size)
        sink = _FileSink(path.open("wb"))
        self.sinks.append(sink)
        return sink

    def adopt_files(self, agency: str) -> None:
        for sha, (path, size) in self.files.items():
            self.state.blobs.put_file(path, sha)
            record_blob(self.state, sha, size, "application/octet-stream", agency)

    def json_list(self, name: str) -> list[Any]:
        sink = self.json.get(name)
        if sink is None:
            return []
        try:
            value = json.loads(sink.data)
        except ValueError as exc:
            raise codec.MalformedBundle(f"{name} is not JSON") from exc
        if not isinstance(value, list):
            raise codec.MalformedBundle(f"{name} is not a list")
        return value

    def remove(self) -> None:
        for sink in self.sinks:
            sink.f.close()  # the member a refusal interrupted is still open
        shutil.rmtree(self.dir, ignore_errors=True)


class _JsonSink:
    """The dossiers or events list (its declared size is capped before it arrives)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: memoryview) -> int:
        self.data += data
        return len(data)

    def close(self) -> None:
        pass


class _FileSink:
    """A staged blob file, fsynced when complete (adopting it is then a rename)."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f

    def write(self, data: memoryview) -> int:
        return self.f.write(data)

    def close(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()


def import_bundle(state: GatewayState, source: BinaryIO) -> wire.BundleReceipt:
    """Import a bundle from a seekable file; every refusal is a 4xx `WireError`."""
    staging = _Staging(state)
    parser = codec.BundleParser(staging.check, staging.open_member)
    try:
        try:
            manifest = codec.open_bundle(source, [bundle_keys.province_identity(state.config)],
                                         parser)
            dossiers = staging.json_list(codec.DOSSIERS)
            events = staging.json_list(codec.EVENTS)
        except codec.BundleError as exc:
            # The reason is safe to log: it never holds member content.
            log.warning("bundle refused: %s: %s", type(exc).__name__, exc)
            raise _refusal(exc) from exc
        staging.adopt_files(manifest.agency_code)
        return _apply(state, manifest, staging.station_id, dossiers, events,
                      len(staging.files))
    finally:
        staging.remove()


def _apply(state: GatewayState, manifest: codec.Manifest, station_id: int,
           dossiers: list[Any], events: list[Any], files: int) -> wire.BundleReceipt:
    agency = manifest.agency_code
    counts = {"created": 0, "updated": 0, "unchanged": 0, "stale": 0}
    conflicts: list[str] = []
    for doc in dossiers:
        try:
            counts[upsert_dossier(state, doc, agency, station_id).result] += 1
        except WireError as exc:
            log.warning("bundle %s: dossier refused: %s", manifest.bundle_id, exc.code)
            conflicts.append(str(doc.get("ClientId", "")) if isinstance(doc, dict) else "")
    done = {"created": 0, "unchanged": 0}
    for raw in events:
        try:
            done[record_event(state, wire.EventIn.model_validate(raw), agency)] += 1
        except (ValidationError, WireError):
            log.warning("bundle %s: event refused", manifest.bundle_id)
            conflicts.append(str(raw.get("EventId", "")) if isinstance(raw, dict) else "")
    log.info("bundle %s from %s/%s imported: %d dossiers, %d events, %d files",
             manifest.bundle_id, agency, manifest.station_digit, len(dossiers), len(events),
             files)
    return wire.BundleReceipt(
        bundle_id=manifest.bundle_id, dossiers=len(dossiers),
        created=counts["created"] + counts["updated"],
        unchanged=counts["unchanged"] + counts["stale"], files=files, conflicts=conflicts,
        updated=counts["updated"], stale=counts["stale"], events_created=done["created"],
        events_unchanged=done["unchanged"])


def import_bundle_file(state: GatewayState, path: Path) -> wire.BundleReceipt:
    with path.open("rb") as f:
        return import_bundle(state, f)


def body_limit(state: GatewayState) -> int:
    return codec.sealed_size_limit(state.config.max_bundle_bytes)


@router.post(
    wire.BUNDLES, response_model=wire.BundleReceipt, summary="Import an offline USB bundle",
    description="The body is an age file sealed to the province's recipient holding a "
                "manifest signed by the station's registered key (`sync_contract."
                "bundle_codec`). `created` counts dossiers created or updated, `unchanged` "
                "those already known (including stale revisions); `conflicts` lists the "
                "ClientId/EventId of items that were refused. Extra fields: `updated`, "
                "`stale`, `events_created`, `events_unchanged`. Refusals: 400 `bad_bundle`, "
                "`bundle_old_format`, `bundle_other_province`; 403 `bundle_signature`; 413 "
                "`too_large`.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}}},
    responses={400: {"model": wire.ErrorBody, "description": "bad_bundle"},
               401: {"model": wire.ErrorBody}, 403: {"model": wire.ErrorBody},
               413: {"model": wire.ErrorBody}})
async def post_bundle(request: Request, station: CurrentStation) -> wire.BundleReceipt:
    state = gateway_state(request)
    limit = body_limit(state)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise WireError(413, wire.E_TOO_LARGE, "Gói dữ liệu USB quá lớn.")
    spool = state.blobs.scratch_file("bundle", ".body")
    try:
        received = 0
        with spool.open("wb") as f:
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    raise WireError(413, wire.E_TOO_LARGE, "Gói dữ liệu USB quá lớn.")
                f.write(chunk)
        log.info("bundle of %d bytes received from %s", received, station.label)
        return await run_in_threadpool(import_bundle_file, state, spool)
    finally:
        spool.unlink(missing_ok=True)


@router.put(wire.BUNDLE_KEY, response_model=wire.BundleKeyResponse,
            responses={401: {"model": wire.ErrorBody}, **INVALID},
            summary="Register the key that signs this station's USB bundles")
def put_bundle_key(request: Request, body: wire.BundleKeyRequest,
                   station: CurrentStation) -> wire.BundleKeyResponse:
    state = gateway_state(request)
    bundle_keys.register_key(state, station.id, body.public_key)
    return wire.BundleKeyResponse(bundle_recipient=bundle_keys.province_recipient(state.config))
