"""tus 1.0 resumable uploads under /api/v1/files/ (core, creation, checksum, termination).

Durability rule: chunk bytes are written to the partial file and fsynced *before* the
new offset is committed to the database, so after a crash or a cut connection the
recorded offset never points past bytes that are really on disk; bytes past it (a PATCH
cut mid-way, or killed before its commit) are truncated the next time the upload is
touched. A chunk sent with Upload-Checksum is applied whole or not at all."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from provincial_gateway.auth import CurrentStation, StationAuth
from provincial_gateway.blob_records import record_blob
from provincial_gateway.blobstore import file_sha256, fsync_dir, is_sha256
from provincial_gateway.db import Station, Upload, utcnow
from provincial_gateway.errors import E_LOCKED, E_NOT_FOUND, INVALID, WireError
from provincial_gateway.state import GatewayState, gateway_state, public_base
from sync_contract import wire

log = logging.getLogger("provincial_gateway.tus")

EXTENSIONS = "creation,checksum,termination,expiration"
EXPIRY_SWEEP_EVERY = timedelta(hours=1)
STATUS_CHECKSUM_MISMATCH = 460
OFFSET_MEDIA_TYPE = "application/offset+octet-stream"
LOCK_WAIT_S = 15.0
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


def reconcile(state: GatewayState, upload_id: str, station: StationAuth | None) -> UploadView:
    """Bring the partial file and the recorded offset back in line (see module docstring)."""
    with state.sessions.begin() as s:
        up = _owned(s, upload_id, station)
        if up.state == "done":
            return _view(up)
        partial = state.blobs.partial_path(up.id)
        if not partial.exists():
            if up.offset == up.length and state.blobs.exists(up.sha256):
                pass  # crashed between the rename into the store and the commit
            else:
                partial.touch()
                up.offset = 0
        else:
            size = partial.stat().st_size
            if size != up.offset:
                with partial.open("r+b") as f:
                    f.truncate(min(size, up.offset))
                    f.flush()
                    os.fsync(f.fileno())
                up.offset = min(size, up.offset)
        view = _view(up)
    if view.offset == view.length:
        finalize(state, upload_id)
        return UploadView(view.id, view.length, view.length, view.sha256, "done",
                          view.metadata_raw)
    return view


def expires_at(state: GatewayState, updated_at: datetime) -> str:
    """``Upload-Expires`` (an HTTP date) for an upload last written at ``updated_at``."""
    moment = updated_at + timedelta(hours=state.config.upload_expiry_hours)
    return format_datetime(moment.replace(tzinfo=UTC), usegmt=True)


def expire_uploads(state: GatewayState, now: datetime | None = None) -> int:
    """Discard open uploads idle past the expiry, with their partial files. Uploads that
    a PATCH or HEAD holds the lock of are left for the next sweep."""
    moment = now or utcnow()
    cutoff = moment - timedelta(hours=state.config.upload_expiry_hours)
    with state.sessions() as s:
        ids = list(s.scalars(select(Upload.id).where(Upload.state == "open",
                                                     Upload.updated_at < cutoff)))
    expired = 0
    for upload_id in ids:
        lock = state.upload_locks.get(upload_id)
        if lock is not None and lock.locked():
            continue
        with state.sessions.begin() as s:
            up = s.get(Upload, upload_id)
            if up is None or up.state != "open" or up.updated_at >= cutoff:
                continue  # written meanwhile
            up.state = "expired"
        state.blobs.partial_path(upload_id).unlink(missing_ok=True)
        state.upload_locks.pop(upload_id, None)
        expired += 1
    if expired:
        log.info("%d abandoned upload(s) expired", expired)
    state.last_expiry_sweep = moment
    return expired


def _maybe_expire(state: GatewayState) -> None:
    if state.last_expiry_sweep is None or utcnow() - state.last_expiry_sweep > \
            EXPIRY_SWEEP_EVERY:
        expire_uploads(state)


def reconcile_all(state: GatewayState) -> int:
    """At start-up: drop expired uploads, then fix every open one after a crash or kill."""
    expire_uploads(state)
    with state.sessions() as s:
        ids = list(s.scalars(select(Upload.id).where(Upload.state == "open")))
    for upload_id in ids:
        try:
            reconcile(state, upload_id, None)
        except WireError as exc:
            log.warning("upload %s discarded at start-up: %s", upload_id, exc.code)
    return len(ids)


def _set_state(state: GatewayState, upload_id: str, new_state: str, offset: int | None = None,
               ) -> None:
    with state.sessions.begin() as s:
        up = s.get(Upload, upload_id)
        if up is not None:
            up.state = new_state
            if offset is not None:
                up.offset = offset
            up.updated_at = utcnow()


def finalize(state: GatewayState, upload_id: str) -> None:
    """Verify the whole file's SHA-256, then move it into the content-addressed store."""
    with state.sessions() as s:
        up = s.get(Upload, upload_id)
        if up is None or up.state == "done":
            return
        agency = s.scalar(select(Station.agency_code).where(Station.id == up.station_id))
        view = _view(up)
        media_type = up.media_type
    partial = state.blobs.partial_path(upload_id)
    if partial.exists():
        if file_sha256(partial) != view.sha256:
            partial.unlink(missing_ok=True)
            _set_state(state, upload_id, "failed")
            raise WireError(STATUS_CHECKSUM_MISMATCH, wire.E_CHECKSUM,
                            "Mã SHA-256 của tệp nhận được không khớp với mã khai báo; "
                            "tệp đã bị loại bỏ, hãy tải lại từ đầu.")
        state.blobs.adopt(partial, view.sha256)
    elif not state.blobs.exists(view.sha256):
        _set_state(state, upload_id, "failed")
        raise _not_found()
    record_blob(state, view.sha256, view.length, media_type, agency or "")
    _set_state(state, upload_id, "done", offset=view.length)
    state.upload_locks.pop(upload_id, None)


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
    partial = state.blobs.partial_path(upload_id)
    with partial.open("wb") as f:
        os.fsync(f.fileno())
    fsync_dir(partial.parent)
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
    lock = state.upload_lock(upload_id)
    if lock.locked():
        # A PATCH is writing: report what is recorded, do not touch its file.
        view = await run_in_threadpool(_peek, state, upload_id, station)
    else:
        async with lock:
            view = await run_in_threadpool(reconcile, state, upload_id, station)
    headers = {"Upload-Offset": str(view.offset), "Upload-Length": str(view.length),
               "Cache-Control": "no-store"}
    if view.metadata_raw:
        headers["Upload-Metadata"] = view.metadata_raw
    return Response(status_code=200, headers=headers)


def _peek(state: GatewayState, upload_id: str, station: StationAuth) -> UploadView:
    with state.sessions() as s:
        return _view(_owned(s, upload_id, station))


async def _acquire(state: GatewayState, upload_id: str) -> Any:
    if not UPLOAD_ID.match(upload_id):
        raise _not_found()  # before a lock is made for it
    lock = state.upload_lock(upload_id)
    try:
        with anyio.fail_after(LOCK_WAIT_S):
            await lock.acquire()
    except TimeoutError as exc:
        raise WireError(423, E_LOCKED, "Tệp đang được ghi bởi một yêu cầu khác; hãy thử lại.") \
            from exc
    return lock


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
    lock = await _acquire(state, upload_id)
    try:
        return await _patch_locked(state, upload_id, request, station, offset, checksum)
    finally:
        lock.release()


async def _patch_locked(state: GatewayState, upload_id: str, request: Request,
                        station: StationAuth, offset: int,
                        checksum: tuple[str, bytes] | None) -> Response:
    up = await run_in_threadpool(reconcile, state, upload_id, station)
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
    hasher = hashlib.new(checksum[0]) if checksum else None
    written, cut, overflow = 0, False, False
    fd = os.open(state.blobs.partial_path(upload_id), os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
        os.lseek(fd, up.offset, os.SEEK_SET)
        try:
            async for chunk in request.stream():
                if written + len(chunk) > remaining:
                    overflow = True
                    break
                _write_all(fd, chunk)
                if hasher is not None:
                    hasher.update(chunk)
                written += len(chunk)
        except ClientDisconnect:
            cut = True
        mismatch = hasher is not None and checksum is not None and (
            cut or hasher.digest() != checksum[1])
        keep = written > 0 and not overflow and not mismatch
        if keep:
            await run_in_threadpool(os.fsync, fd)
        else:
            os.ftruncate(fd, up.offset)
    finally:
        os.close(fd)
    if overflow:
        raise _bad("Đoạn dữ liệu vượt quá Upload-Length.")
    if mismatch and not cut:
        raise WireError(STATUS_CHECKSUM_MISMATCH, wire.E_CHECKSUM,
                        "Upload-Checksum của đoạn dữ liệu không khớp; đoạn này chưa được ghi, "
                        "hãy gửi lại.")
    new_offset = up.offset + (written if keep else 0)
    if keep:
        await run_in_threadpool(_set_state, state, upload_id, "open", new_offset)
    if cut:
        log.info("upload %s: connection cut mid-PATCH, kept offset %d", upload_id, new_offset)
        return Response(status_code=400)  # nobody is listening any more
    if new_offset == up.length:
        await run_in_threadpool(finalize, state, upload_id)
    return Response(status_code=204, headers={"Upload-Offset": str(new_offset),
                                              "Upload-Expires": expires_at(state, utcnow())})


@router.delete(UPLOAD_PATH, status_code=204, dependencies=TUS,
               summary="Abandon an upload (tus termination)",
               openapi_extra={"parameters": [_TUS_HEADER]},
               responses={401: _ERR, 404: _ERR, 412: _ERR})
async def delete_upload(upload_id: str, request: Request, station: CurrentStation) -> Response:
    state = gateway_state(request)
    lock = await _acquire(state, upload_id)
    try:
        await run_in_threadpool(_terminate, state, upload_id, station)
    finally:
        lock.release()
        state.upload_locks.pop(upload_id, None)
    return Response(status_code=204)


def _terminate(state: GatewayState, upload_id: str, station: StationAuth) -> None:
    with state.sessions.begin() as s:
        up = _owned(s, upload_id, station)
        up.state = "deleted"
    state.blobs.partial_path(upload_id).unlink(missing_ok=True)
