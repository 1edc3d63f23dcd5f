"""tus 1.0 resumable uploads under /api/v1/files/ (core, creation, checksum, termination).

Built for several replicas sharing one database and one blob store:

- Each PATCH body is spooled to this process's scratch folder and fsynced, stored in the
  blob store as a *segment* under a fresh name, and only then recorded: one transaction
  inserts the segment row and moves `uploads.offset` — if the offset is still where the
  PATCH began (compare-and-set). So the recorded offset never points past stored bytes,
  and a PATCH that lost a race (or its lease) cannot overwrite the winner's bytes.
- Nothing is ever truncated: bytes that were not recorded are simply not named by any
  segment row. A HEAD only reads the database, on whatever replica it lands.
- Who writes an upload at a time is a lease row in the database (`upload_leases`), not
  a lock in one process's memory; a replica starting up touches only uploads no live
  request holds.
- When the last segment is recorded the whole file's SHA-256 is checked over the
  segments and the blob store composes them into the finished blob.

A chunk sent with Upload-Checksum is applied whole or not at all; one cut mid-way
without a checksum keeps what arrived."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import anyio
import psutil
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from provincial_gateway import upload_leases as leases
from provincial_gateway.auth import CurrentStation, StationAuth
from provincial_gateway.blob_records import add_blob
from provincial_gateway.blobstore import is_sha256, segment_name
from provincial_gateway.db import Station, Upload, UploadSegment, utcnow
from provincial_gateway.dossiers import retrying
from provincial_gateway.errors import E_LOCKED, E_NOT_FOUND, INVALID, WireError
from provincial_gateway.state import GatewayState, gateway_state, public_base
from sync_contract import wire

log = logging.getLogger("provincial_gateway.tus")

EXTENSIONS = "creation,checksum,termination,expiration"
EXPIRY_SWEEP_EVERY = timedelta(hours=1)
STATUS_CHECKSUM_MISMATCH = 460
OFFSET_MEDIA_TYPE = "application/offset+octet-stream"
LOCK_WAIT_S = 15.0
SPOOL_PREFIX = "patch"
SPOOL_MAX_AGE_S = 24 * 3600  # a spool this old belongs to a process that is gone
UPLOAD_PATH = wire.FILES + "{upload_id}"
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
# Only ASCII digits ("²".isdigit() is True) and no more than fit a 64-bit column.
_UINT = re.compile(r"^[0-9]{1,19}$")
_UINT_MAX = 2**63 - 1
_METADATA_KEY = re.compile(r"^[!-~]{1,100}$")  # printable ASCII, no space or comma (tus)
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]{0,50}/[A-Za-z0-9][\w.+-]{0,60}$", re.ASCII)


def require_tus_resumable(request: Request) -> None:
    parse_tus_resumable(request.headers.get("tus-resumable"))


TUS = [Depends(require_tus_resumable)]


def _bad(message: str) -> WireError:
    return WireError(400, wire.E_INVALID, message)


def _not_found() -> WireError:
    return WireError(404, E_NOT_FOUND, "Không có phiên tải tệp này (đã hủy, hỏng hoặc hết hạn).")


def parse_metadata(raw: str) -> dict[str, str]:
    """`key base64,key2 base64,flag` → dict (tus creation extension)."""
    out: dict[str, str] = {}
    for pair in raw.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        if not _METADATA_KEY.match(key) or key in out:
            raise _bad("Upload-Metadata: tên khoá không hợp lệ hoặc bị lặp.")
        try:
            # ValueError covers binascii.Error, UnicodeDecodeError and non-ASCII input.
            out[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except ValueError as exc:
            raise _bad(f"Upload-Metadata: giá trị của “{key}” không phải base64 UTF-8.") from exc
    return out


def parse_checksum(raw: str | None) -> tuple[str, bytes] | None:
    if not raw:
        return None
    algo, _, value = raw.strip().partition(" ")
    algo = algo.lower()
    if algo not in wire.TUS_CHECKSUM_ALGORITHMS:
        raise _bad(f"Upload-Checksum: thuật toán “{algo}” không được hỗ trợ.")
    try:
        return algo, base64.b64decode(value.strip(), validate=True)
    except ValueError as exc:  # binascii.Error, or characters outside ASCII
        raise _bad("Upload-Checksum: giá trị không phải base64.") from exc


def parse_uint(raw: str | None, name: str) -> int:
    """Upload-Length / Upload-Offset: a non-negative integer in ASCII digits."""
    value = (raw or "").strip()
    if not _UINT.match(value) or int(value) > _UINT_MAX:
        raise _bad(f"Thiếu hoặc sai tiêu đề {name}.")
    return int(value)


def parse_tus_resumable(raw: str | None) -> str:
    if raw != wire.TUS_VERSION:
        raise WireError(412, wire.E_INVALID,
                        "Cổng tỉnh chỉ nhận giao thức tus 1.0.0 (thiếu hoặc sai Tus-Resumable).",
                        headers={"Tus-Version": wire.TUS_VERSION})
    return raw


def media_type_of(meta: dict[str, str]) -> str:
    """The declared type, only when it looks like one (it is recorded, never served)."""
    declared = meta.get("media_type", "").strip()
    return declared if _MEDIA_TYPE.match(declared) else "application/octet-stream"


def _int_header(request: Request, name: str) -> int:
    return parse_uint(request.headers.get(name), name)


@dataclass(frozen=True)
class UploadView:
    id: str
    length: int
    offset: int
    sha256: str
    state: str
    metadata_raw: str


def _view(up: Upload) -> UploadView:
    return UploadView(up.id, up.length, up.offset, up.sha256, up.state, up.metadata_raw)


def _owned(s: Any, upload_id: str, station: StationAuth | None) -> Upload:
    up = s.get(Upload, upload_id) if UPLOAD_ID.match(upload_id) else None
    if up is None or up.state in ("failed", "deleted", "expired"):
        raise _not_found()
    if station is not None and up.station_id != station.id:
        raise _not_found()  # not "forbidden": do not reveal other stations' uploads
    return up


def _peek(state: GatewayState, upload_id: str, station: StationAuth | None) -> UploadView:
    with state.sessions() as s:
        return _view(_owned(s, upload_id, station))


def _settle(state: GatewayState, upload_id: str, station: StationAuth | None) -> UploadView:
    """The recorded state; an upload whose last segment was recorded but which was not
    finished (the replica stopped in between) is finished now; the caller holds its lease."""
    view = _peek(state, upload_id, station)
    if view.state == "open" and view.offset == view.length:
        finalize(state, upload_id)
        return UploadView(view.id, view.length, view.length, view.sha256, "done",
                          view.metadata_raw)
    return view


def expires_at(state: GatewayState, updated_at: datetime) -> str:
    """``Upload-Expires`` (an HTTP date) for an upload last written at ``updated_at``."""
    moment = updated_at + timedelta(hours=state.config.upload_expiry_hours)
    return format_datetime(moment.replace(tzinfo=UTC), usegmt=True)


def expire_uploads(state: GatewayState, now: datetime | None = None) -> int:
    """Discard open uploads idle past the expiry, with their segments. Any replica may
    sweep: an upload whose lease another request holds is left for the next sweep."""
    moment = now or utcnow()
    cutoff = moment - timedelta(hours=state.config.upload_expiry_hours)
    with state.sessions() as s:
        ids = list(s.scalars(select(Upload.id).where(Upload.state == "open",
                                                     Upload.updated_at < cutoff)))
    expired = 0
    for upload_id in ids:
        holder = leases.new_holder()
        if not leases.try_take(state, upload_id, holder):
            continue
        try:
            with state.sessions.begin() as s:
                up = s.get(Upload, upload_id)
                if up is None or up.state != "open" or up.updated_at >= cutoff:
                    continue  # written meanwhile
                up.state = "expired"
            state.blobs.drop_segments(upload_id)
            expired += 1
        finally:
            leases.release(state, upload_id, holder)
    leases.forget_stale(state)
    if expired:
        log.info("%d abandoned upload(s) expired", expired)
    state.last_expiry_sweep = moment
    return expired


def _maybe_expire(state: GatewayState) -> None:
    if state.last_expiry_sweep is None or utcnow() - state.last_expiry_sweep > \
            EXPIRY_SWEEP_EVERY:
        expire_uploads(state)


def startup_sweep(state: GatewayState) -> int:
    """When a replica starts: expire abandoned uploads, finish uploads whose last segment
    was recorded by a replica that stopped before finishing, carry partial files of the
    single-file layout over as segments, and delete spools left by dead processes.
    Nothing here touches an upload another replica holds; nothing is truncated."""
    expire_uploads(state)
    with state.sessions() as s:
        rows = s.execute(select(Upload.id, Upload.offset, Upload.length)
                         .where(Upload.state == "open")).all()
    for upload_id, offset, length in rows:
        holder = leases.new_holder()
        if not leases.try_take(state, upload_id, holder):
            continue  # a live request on another replica has it
        try:
            _adopt_legacy_partial(state, upload_id)
            if offset == length:
                finalize(state, upload_id)
        except WireError as exc:
            log.warning("upload %s discarded at start-up: %s", upload_id, exc.code)
        finally:
            leases.release(state, upload_id, holder)
    _drop_dead_spools(state)
    return len(rows)


def _adopt_legacy_partial(state: GatewayState, upload_id: str) -> None:
    """`uploads/<id>.part` (one growing file per upload, before segments): its recorded
    bytes become the upload's first segment."""
    legacy = state.blobs.scratch / f"{upload_id}.part"
    if not legacy.is_file():
        return
    with state.sessions.begin() as s:
        up = s.get(Upload, upload_id)
        has_segments = s.scalar(select(UploadSegment.offset)
                                .where(UploadSegment.upload_id == upload_id).limit(1))
        if up is None or up.state != "open" or has_segments is not None:
            legacy.unlink(missing_ok=True)
            return
        size = legacy.stat().st_size
        if up.offset == 0 or size < up.offset:
            up.offset = 0  # bytes the offset counted are gone: the station starts over
            legacy.unlink(missing_ok=True)
            return
        with legacy.open("r+b") as f:
            f.truncate(up.offset)  # bytes past the offset were never acknowledged
            os.fsync(f.fileno())
        name = segment_name(0)
        state.blobs.put_segment(upload_id, name, legacy)
        s.add(UploadSegment(upload_id=upload_id, offset=0, length=up.offset, name=name))
    log.info("upload %s: partial file carried over as a segment", upload_id)


def _drop_dead_spools(state: GatewayState) -> None:
    """PATCH spools of processes that are gone (the scratch folder is this machine's;
    replicas sharing it keep theirs), and any over a day old."""
    cutoff = time.time() - SPOOL_MAX_AGE_S
    for spool in state.blobs.scratch.glob(f"{SPOOL_PREFIX}-*"):
        parts = spool.name.split("-")
        pid = int(parts[2]) if len(parts) >= 4 and parts[2].isdigit() else 0
        try:
            if not psutil.pid_exists(pid) or spool.stat().st_mtime < cutoff:
                spool.unlink()
        except FileNotFoundError:
            pass


def _segments(state: GatewayState, upload_id: str) -> list[UploadSegment]:
    with state.sessions() as s:
        return list(s.scalars(select(UploadSegment).where(UploadSegment.upload_id == upload_id)
                              .order_by(UploadSegment.offset)))


def _set_state(state: GatewayState, upload_id: str, new_state: str) -> None:
    with state.sessions.begin() as s:
        up = s.get(Upload, upload_id)
        if up is not None:
            up.state = new_state
            up.updated_at = utcnow()


def _fail(state: GatewayState, upload_id: str) -> None:
    _set_state(state, upload_id, "failed")
    state.blobs.drop_segments(upload_id)


def finalize(state: GatewayState, upload_id: str) -> None:
    """Verify the whole file's SHA-256 over its segments, then store it as a blob. The
    caller holds the upload's lease. A blob already held under that SHA-256 (stored by a
    finish that stopped before its commit, or by another station) is simply used."""
    with state.sessions() as s:
        up = s.get(Upload, upload_id)
        if up is None or up.state != "open":
            return
        agency = s.scalar(select(Station.agency_code).where(Station.id == up.station_id))
        view = _view(up)
        media_type = up.media_type
    if not state.blobs.exists(view.sha256):
        segments = _segments(state, upload_id)
        end = 0
        for seg in segments:
            if seg.offset != end:
                break
            end += seg.length
        if end != view.length:
            log.error("upload %s: segments end at %d, not %d", upload_id, end, view.length)
            _fail(state, upload_id)
            raise _not_found()
        h = hashlib.sha256()
        for seg in segments:
            for chunk in state.blobs.iter_segment(upload_id, seg.name):
                h.update(chunk)
        if h.hexdigest() != view.sha256:
            _fail(state, upload_id)
            raise WireError(STATUS_CHECKSUM_MISMATCH, wire.E_CHECKSUM,
                            "Mã SHA-256 của tệp nhận được không khớp với mã khai báo; "
                            "tệp đã bị loại bỏ, hãy tải lại từ đầu.")
        state.blobs.compose(upload_id, [seg.name for seg in segments], view.sha256)

    def done() -> None:  # the blob's rows and the upload's end in one transaction
        with state.sessions.begin() as s:
            add_blob(s, view.sha256, view.length, media_type, agency or "")
            up = s.get(Upload, upload_id)
            if up is not None:
                up.state, up.updated_at = "done", utcnow()

    retrying(done)
    state.blobs.drop_segments(upload_id)


def _record_segment(state: GatewayState, upload_id: str, start: int, length: int,
                    spool: Path) -> bool:
    """Store the spooled bytes as a segment, then move the offset from `start` to
    `start + length` — only if it is still at `start` (compare-and-set). False, with the
    segment dropped, when another request got there first."""
    name = segment_name(start)
    state.blobs.put_segment(upload_id, name, spool)
    with state.sessions.begin() as s:
        moved = s.execute(update(Upload).where(
            Upload.id == upload_id, Upload.offset == start, Upload.state == "open")
            .values(offset=start + length, updated_at=utcnow())).rowcount
        if moved:
            s.add(UploadSegment(upload_id=upload_id, offset=start, length=length, name=name))
    if not moved:
        state.blobs.drop_segment(upload_id, name)
    return bool(moved)


router = APIRouter(tags=["files (tus 1.0)"], responses=INVALID, default_response_class=Response)

_TUS_HEADER = {"name": "Tus-Resumable", "in": "header", "required": True,
               "schema": {"type": "string", "enum": [wire.TUS_VERSION]}}
_ERR = {"model": wire.ErrorBody}
_OFFSET_HEADERS = {"Upload-Offset": {"schema": {"type": "integer"}},
                   "Tus-Resumable": {"schema": {"type": "string"}}}


@router.options(wire.FILES, status_code=204, summary="tus capabilities",
                responses={204: {"description": "tus server capabilities", "headers": {
                    "Tus-Version": {"schema": {"type": "string"}},
                    "Tus-Extension": {"schema": {"type": "string"}},
                    "Tus-Max-Size": {"schema": {"type": "integer"}},
                    "Tus-Checksum-Algorithm": {"schema": {"type": "string"}}}}})
def tus_options(request: Request) -> Response:
    return Response(status_code=204, headers={
        "Tus-Version": wire.TUS_VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(gateway_state(request).config.max_file_bytes),
        "Tus-Checksum-Algorithm": ",".join(wire.TUS_CHECKSUM_ALGORITHMS),
    })


@router.post(
    wire.FILES, status_code=201, dependencies=TUS, summary="Create an upload (tus creation)",
    description="`Upload-Metadata` must carry `sha256` (hex of the whole file); "
                "`filename` and `media_type` are optional.",
    openapi_extra={"parameters": [
        _TUS_HEADER,
        {"name": "Upload-Length", "in": "header", "required": True,
         "schema": {"type": "integer", "minimum": 0, "maximum": wire.MAX_FILE_BYTES}},
        {"name": "Upload-Metadata", "in": "header", "required": True,
         "schema": {"type": "string"}, "example": "sha256 <base64>,filename <base64>"}]},
    responses={201: {"description": "Created", "headers": {
                   "Location": {"description": "Absolute upload URL",
                                "schema": {"type": "string"}}}},
               400: _ERR, 401: _ERR, 412: _ERR, 413: _ERR,
               460: {"model": wire.ErrorBody,
                     "description": "An empty file whose SHA-256 does not match"}})
def create_upload(request: Request, station: CurrentStation) -> Response:
    state = gateway_state(request)
    if request.headers.get("upload-defer-length") is not None:
        raise _bad("Cổng tỉnh không hỗ trợ Upload-Defer-Length; hãy gửi Upload-Length.")
    if request.headers.get("upload-concat") is not None:
        # Not silently a whole upload: a partial upload would be taken for a finished file.
        raise _bad("Cổng tỉnh không hỗ trợ ghép tệp tus (concatenation, Upload-Concat).")
    if request.headers.get("content-length", "0").strip() not in ("", "0") or \
            "transfer-encoding" in request.headers:
        raise _bad("Cổng tỉnh không hỗ trợ gửi dữ liệu ngay khi tạo (creation-with-upload); "
                   "hãy gửi bằng PATCH.")
    length = _int_header(request, "upload-length")
    if length > state.config.max_file_bytes:
        raise WireError(413, wire.E_TOO_LARGE,
                        f"Tệp {length} byte vượt giới hạn {state.config.max_file_bytes} byte "
                        "của cổng tỉnh.")
    raw_meta = request.headers.get("upload-metadata", "")
    meta = parse_metadata(raw_meta)
    sha = meta.get("sha256", "").strip().lower()
    if not is_sha256(sha):
        raise _bad("Upload-Metadata phải có sha256 (64 ký tự thập lục phân) của tệp.")
    _maybe_expire(state)
    upload_id = uuid.uuid4().hex
    with state.sessions.begin() as s:
        s.add(Upload(id=upload_id, station_id=station.id, length=length, offset=0, sha256=sha,
                     media_type=media_type_of(meta),
                     metadata_raw=raw_meta[:2000]))
    if length == 0:
        finalize(state, upload_id)
    return Response(status_code=201,
                    headers={"Location": f"{public_base(request)}{wire.FILES}{upload_id}",
                             "Upload-Expires": expires_at(state, utcnow())})


@router.head(
    UPLOAD_PATH, dependencies=TUS, summary="Upload offset (tus core)",
    openapi_extra={"parameters": [_TUS_HEADER]},
    responses={200: {"description": "The durably recorded offset", "headers": {
                   **_OFFSET_HEADERS, "Upload-Length": {"schema": {"type": "integer"}},
                   "Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}}},
               401: _ERR, 404: _ERR, 412: _ERR})
async def head_upload(upload_id: str, request: Request, station: CurrentStation) -> Response:
    state = gateway_state(request)
    if not UPLOAD_ID.match(upload_id):
        raise _not_found()
    # Only reads what is recorded: a HEAD on any replica never touches stored bytes.
    view = await run_in_threadpool(_peek, state, upload_id, station)
    if view.state == "open" and view.offset == view.length:
        view = await run_in_threadpool(_settle_if_free, state, upload_id, station)
    headers = {"Upload-Offset": str(view.offset), "Upload-Length": str(view.length),
               "Cache-Control": "no-store"}
    if view.metadata_raw:
        headers["Upload-Metadata"] = view.metadata_raw
    return Response(status_code=200, headers=headers)


def _settle_if_free(state: GatewayState, upload_id: str, station: StationAuth) -> UploadView:
    holder = leases.new_holder()
    if not leases.try_take(state, upload_id, holder):
        return _peek(state, upload_id, station)  # whoever holds it is finishing it
    try:
        return _settle(state, upload_id, station)
    finally:
        leases.release(state, upload_id, holder)


async def _acquire(state: GatewayState, upload_id: str) -> str:
    """Take the upload's lease, waiting up to LOCK_WAIT_S for another request's."""
    if not UPLOAD_ID.match(upload_id):
        raise _not_found()
    holder = leases.new_holder()
    deadline = time.monotonic() + LOCK_WAIT_S
    pause = 0.05
    while not await run_in_threadpool(leases.try_take, state, upload_id, holder):
        if time.monotonic() + pause > deadline:
            raise WireError(423, E_LOCKED,
                            "Tệp đang được ghi bởi một yêu cầu khác; hãy thử lại.")
        await anyio.sleep(pause)
        pause = min(pause * 2, 0.5)
    return holder


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@router.patch(
    UPLOAD_PATH, status_code=204, dependencies=TUS, summary="Append a chunk (tus core)",
    openapi_extra={
        "parameters": [
            _TUS_HEADER,
            {"name": "Upload-Offset", "in": "header", "required": True,
             "schema": {"type": "integer", "minimum": 0}},
            {"name": "Upload-Checksum", "in": "header", "required": False,
             "schema": {"type": "string"}, "description": "`<sha1|sha256|md5> <base64>`"}],
        "requestBody": {"required": True, "content": {OFFSET_MEDIA_TYPE: {
            "schema": {"type": "string", "format": "binary"}}}}},
    responses={204: {"description": "Chunk stored", "headers": _OFFSET_HEADERS},
               400: _ERR, 401: _ERR, 404: _ERR,
               409: {"model": wire.ErrorBody, "description": "Upload-Offset mismatch"},
               412: _ERR, 415: _ERR, 423: _ERR,
               460: {"model": wire.ErrorBody,
                     "description": "Chunk checksum mismatch (chunk not applied), or the "
                                    "completed file's SHA-256 mismatch (upload discarded)"}})
async def patch_upload(upload_id: str, request: Request, station: CurrentStation) -> Response:
    state = gateway_state(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != OFFSET_MEDIA_TYPE:
        raise WireError(415, wire.E_INVALID, f"Content-Type phải là {OFFSET_MEDIA_TYPE}.")
    offset = _int_header(request, "upload-offset")
    checksum = parse_checksum(request.headers.get("upload-checksum"))
    holder = await _acquire(state, upload_id)
    try:
        return await _patch_held(state, upload_id, request, station, offset, checksum, holder)
    finally:
        await run_in_threadpool(leases.release, state, upload_id, holder)


def _offset_moved(stored: int) -> WireError:
    return WireError(409, wire.E_CONFLICT,
                     f"Upload-Offset không khớp với vị trí đã lưu {stored}.",
                     headers={"Upload-Offset": str(stored)})


async def _patch_held(state: GatewayState, upload_id: str, request: Request,
                      station: StationAuth, offset: int, checksum: tuple[str, bytes] | None,
                      holder: str) -> Response:
    up = await run_in_threadpool(_settle, state, upload_id, station)
    if up.state == "done" and offset == up.length:
        return Response(status_code=204, headers={"Upload-Offset": str(up.length)})
    if offset != up.offset:
        raise WireError(409, wire.E_CONFLICT,
                        f"Upload-Offset {offset} không khớp với vị trí đã lưu {up.offset}.",
                        headers={"Upload-Offset": str(up.offset)})
    declared = request.headers.get("content-length")
    remaining = up.length - up.offset
    if declared is not None and parse_uint(declared, "Content-Length") > remaining:
        raise _bad("Đoạn dữ liệu vượt quá Upload-Length.")
    # The pid in the name lets a restart on this machine drop spools of dead processes.
    spool = state.blobs.scratch_file(f"{SPOOL_PREFIX}-{upload_id}-{os.getpid()}", ".part")
    try:
        written, cut, refused = await _spool_body(state, upload_id, request, spool, remaining,
                                                  checksum, holder)
        if refused is not None and not cut:
            raise refused
        new_offset = up.offset
        if written and refused is None:
            if not await run_in_threadpool(_record_segment, state, upload_id, up.offset,
                                           written, spool):
                stored = await run_in_threadpool(_peek, state, upload_id, station)
                raise _offset_moved(stored.offset)
            new_offset += written
    finally:
        spool.unlink(missing_ok=True)
    if cut:
        log.info("upload %s: connection cut mid-PATCH, kept offset %d", upload_id, new_offset)
        return Response(status_code=400)  # nobody is listening any more
    if new_offset == up.length:
        await run_in_threadpool(finalize, state, upload_id)
    return Response(status_code=204, headers={"Upload-Offset": str(new_offset),
                                              "Upload-Expires": expires_at(state, utcnow())})


async def _spool_body(state: GatewayState, upload_id: str, request: Request, spool: Path,
                      remaining: int, checksum: tuple[str, bytes] | None, holder: str,
                      ) -> tuple[int, bool, WireError | None]:
    """Write the PATCH body to a local spool, fsynced: (bytes kept, connection cut, why
    the chunk is refused). Bytes are kept after a cut unless a checksum was sent (a
    chunk that cannot be verified is not applied at all)."""
    hasher = hashlib.new(checksum[0]) if checksum else None
    written, cut = 0, False
    refused: WireError | None = None
    renew_at = time.monotonic() + leases.RENEW_EVERY_S
    fd = os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o600)
    try:
        try:
            async for chunk in request.stream():
                if written + len(chunk) > remaining:
                    refused = _bad("Đoạn dữ liệu vượt quá Upload-Length.")
                    break
                _write_all(fd, chunk)
                if hasher is not None:
                    hasher.update(chunk)
                written += len(chunk)
                if time.monotonic() >= renew_at:
                    if not await run_in_threadpool(leases.renew, state, upload_id, holder):
                        refused = WireError(423, E_LOCKED, "Phiên ghi tệp đã hết hạn; "
                                            "hãy hỏi lại vị trí (HEAD) rồi gửi tiếp.")
                        break
                    renew_at = time.monotonic() + leases.RENEW_EVERY_S
        except ClientDisconnect:
            cut = True
        if refused is None and hasher is not None and checksum is not None and (
                cut or hasher.digest() != checksum[1]):
            refused = WireError(STATUS_CHECKSUM_MISMATCH, wire.E_CHECKSUM,
                                "Upload-Checksum của đoạn dữ liệu không khớp; đoạn này chưa "
                                "được ghi, hãy gửi lại.")
        if written and refused is None:
            await run_in_threadpool(os.fsync, fd)
    finally:
        os.close(fd)
    return written, cut, refused


@router.delete(UPLOAD_PATH, status_code=204, dependencies=TUS,
               summary="Abandon an upload (tus termination)",
               openapi_extra={"parameters": [_TUS_HEADER]},
               responses={401: _ERR, 404: _ERR, 412: _ERR})
async def delete_upload(upload_id: str, request: Request, station: CurrentStation) -> Response:
    state = gateway_state(request)
    holder = await _acquire(state, upload_id)
    try:
        await run_in_threadpool(_terminate, state, upload_id, station)
    finally:
        await run_in_threadpool(leases.release, state, upload_id, holder)
    return Response(status_code=204)


def _terminate(state: GatewayState, upload_id: str, station: StationAuth) -> None:
    with state.sessions.begin() as s:
        up = _owned(s, upload_id, station)
        up.state = "deleted"
    state.blobs.drop_segments(upload_id)
