"""Which blobs the gateway lacks, and downloading a stored blob (DuongDanTaiTepTin)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from provincial_gateway.auth import CurrentStation
from provincial_gateway.blob_records import blob_for, missing_for
from provincial_gateway.blobstore import is_sha256
from provincial_gateway.dossiers import result_blob_for
from provincial_gateway.errors import E_NOT_FOUND, INVALID, WireError
from provincial_gateway.releases import is_release_blob
from provincial_gateway.state import gateway_state
from sync_contract import wire

router = APIRouter(tags=["blobs"], responses=INVALID)
_ERR = {"model": wire.ErrorBody}


def _checked(value: str) -> str:
    sha = value.strip().lower()
    if not is_sha256(sha):
        raise WireError(422, wire.E_INVALID,
                        "Mã SHA-256 phải gồm đúng 64 ký tự thập lục phân.")
    return sha


@router.post(wire.BLOBS_MISSING, response_model=wire.MissingBlobsResponse,
             responses={401: _ERR, 422: _ERR},
             summary="Which of these files does the gateway lack?")
def blobs_missing(body: wire.MissingBlobsRequest, request: Request,
                  station: CurrentStation) -> wire.MissingBlobsResponse:
    shas = [_checked(s) for s in body.sha256]
    return wire.MissingBlobsResponse(
        missing=missing_for(gateway_state(request), station.agency_code, shas))


def single_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range `bytes=a-b`, `bytes=a-` or `bytes=-n` asks for, as (start, end
    exclusive) clipped to the blob; None for no range, several or a malformed one (the
    whole blob is sent). `RangeNotSatisfiable` when it starts past the end."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first or last) or not all(p.isdigit() for p in (first, last) if p):
        return None
    if not first:  # the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - n, 0), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return start, size if not last else min(int(last) + 1, size)


class RangeNotSatisfiable(Exception):
    pass


async def _stream(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The store's blocking iterator, read in worker threads and always closed (which
    releases an S3 connection when the client goes away mid-download)."""
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            await run_in_threadpool(close)


@router.get(wire.BLOB, response_class=FileResponse,
            summary="Download a stored file (HTTP Range supported: resumable)",
            responses={200: {"content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
                401: _ERR, 404: _ERR, 422: _ERR})
async def blob(sha256: str, request: Request, station: CurrentStation) -> Response:
    sha = _checked(sha256)
    state = gateway_state(request)
    row = await run_in_threadpool(blob_for, state, sha, station.agency_code)
    # A published installer is for every station, whatever its agency.
    allowed = row is not None or await run_in_threadpool(is_release_blob, state, sha)
    # A result document: only for the station whose dossier it belongs to.
    allowed = allowed or await run_in_threadpool(result_blob_for, state, sha, station.id,
                                                 station.agency_code)
    not_here = WireError(404, E_NOT_FOUND, "Cổng tỉnh không có tệp này cho đơn vị của máy trạm.")
    if not allowed:
        raise not_here
    # Always bytes to save, never a page to render: a blob uploaded as text/html must not
    # run as a page of the gateway's origin in whatever opens the link. The declared type
    # stays recorded in the blobs table.
    etag = f'"{sha}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000",
               "X-Content-Type-Options": "nosniff",
               "Content-Disposition": f'attachment; filename="{sha}"'}
    path = await run_in_threadpool(state.blobs.local_path, sha)
    if path is not None:  # a local file: sendfile, with Starlette's own Range handling
        return FileResponse(path, media_type="application/octet-stream", headers=headers)
    size = await run_in_threadpool(state.blobs.size, sha)
    if size is None:
        raise not_here
    headers["Accept-Ranges"] = "bytes"
    if_range = request.headers.get("if-range")
    wanted: tuple[int, int] | None = None
    if if_range is None or if_range == etag:  # else the station holds other bytes: all
        try:
            wanted = single_range(request.headers.get("range"), size)
        except RangeNotSatisfiable:
            return Response(status_code=416, headers={**headers,
                                                      "Content-Range": f"bytes */{size}"})
    start, end = wanted or (0, size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    chunks = await run_in_threadpool(state.blobs.iter_range, sha, start, end)
    return StreamingResponse(_stream(chunks), status_code=status, headers=headers,
                             media_type="application/octet-stream")
