"""Offline USB bundles: a commune without any link carries its pending dossiers by hand.

The bundle format belongs to the shared contract (`sync_contract.bundle_codec`); this
module only applies the contents, with exactly the rules of the online endpoints, so
importing the same bundle twice changes nothing."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from provincial_gateway.auth import CurrentStation
from provincial_gateway.blob_records import record_blob
from provincial_gateway.blobstore import is_sha256
from provincial_gateway.db import Station
from provincial_gateway.dossiers import record_event, upsert_dossier
from provincial_gateway.errors import WireError
from provincial_gateway.state import GatewayState, gateway_state
from sync_contract import bundle_codec, wire

log = logging.getLogger("provincial_gateway.bundles")
router = APIRouter(tags=["bundles"])


def _bad(message: str) -> WireError:
    return WireError(400, wire.E_BUNDLE, message)


def key_lookup(state: GatewayState) -> Any:
    def key_for(agency_code: str, station_digit: int) -> bytes | None:
        with state.sessions() as s:
            row = s.scalar(select(Station).where(Station.agency_code == agency_code,
                                                 Station.station_digit == station_digit,
                                                 Station.active.is_(True)))
            return bytes.fromhex(row.bundle_key) if row else None

    return key_for


def import_bundle(state: GatewayState, data: bytes) -> wire.BundleReceipt:
    try:
        contents = bundle_codec.open_bundle(data, key_lookup(state))
    except bundle_codec.BundleError as exc:
        raise _bad("Gói dữ liệu USB không hợp lệ, bị hỏng hoặc không do máy trạm đã đăng ký "
                   "tạo ra.") from exc
    agency, digit = contents.agency_code, contents.station_digit
    with state.sessions() as s:
        station_id = s.scalar(select(Station.id).where(Station.agency_code == agency,
                                                       Station.station_digit == digit))
    files = {sha.lower(): content for sha, content in contents.files.items()}
    for sha, content in files.items():  # verify everything before writing anything
        if not is_sha256(sha) or hashlib.sha256(content).hexdigest() != sha:
            raise _bad("Một tệp trong gói USB không khớp mã SHA-256 của nó.")
    for sha, content in files.items():
        state.blobs.put_bytes(content, sha)
        record_blob(state, sha, len(content), "application/octet-stream", agency)

    counts = {"created": 0, "updated": 0, "unchanged": 0, "stale": 0}
    conflicts: list[str] = []
    for doc in contents.dossiers:
        try:
            counts[upsert_dossier(state, doc, agency, station_id).result] += 1
        except WireError as exc:
            log.warning("bundle %s: dossier refused: %s", contents.bundle_id, exc.code)
            conflicts.append(str(doc.get("ClientId", "")) if isinstance(doc, dict) else "")
    events = {"created": 0, "unchanged": 0}
    for raw in contents.events:
        try:
            events[record_event(state, wire.EventIn.model_validate(raw), agency)] += 1
        except (ValidationError, WireError):
            log.warning("bundle %s: event refused", contents.bundle_id)
            conflicts.append(str(raw.get("EventId", "")) if isinstance(raw, dict) else "")
    return wire.BundleReceipt(
        bundle_id=contents.bundle_id, dossiers=len(contents.dossiers),
        created=counts["created"] + counts["updated"],
        unchanged=counts["unchanged"] + counts["stale"], files=len(files), conflicts=conflicts,
        updated=counts["updated"], stale=counts["stale"], events_created=events["created"],
        events_unchanged=events["unchanged"])


@router.post(
    wire.BUNDLES, response_model=wire.BundleReceipt, summary="Import an offline USB bundle",
    description="`created` counts dossiers created or updated, `unchanged` those already "
                "known (including stale revisions); `conflicts` lists the ClientId/EventId "
                "of items that were refused. Extra fields: `updated`, `stale`, "
                "`events_created`, `events_unchanged`.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}}},
    responses={400: {"model": wire.ErrorBody, "description": "bad_bundle"},
               401: {"model": wire.ErrorBody}, 413: {"model": wire.ErrorBody}})
async def post_bundle(request: Request, station: CurrentStation) -> wire.BundleReceipt:
    state = gateway_state(request)
    limit = state.config.max_bundle_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise WireError(413, wire.E_TOO_LARGE, "Gói dữ liệu USB quá lớn.")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise WireError(413, wire.E_TOO_LARGE, "Gói dữ liệu USB quá lớn.")
    return await run_in_threadpool(import_bundle, state, bytes(data))
