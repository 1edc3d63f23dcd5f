"""Which blobs the gateway lacks, and downloading a stored blob (DuongDanTaiTepTin)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

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


@router.get(wire.BLOB, response_class=FileResponse,
            summary="Download a stored file (HTTP Range supported: resumable)",
            responses={200: {"content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
                401: _ERR, 404: _ERR, 422: _ERR})
async def blob(sha256: str, request: Request, station: CurrentStation) -> FileResponse:
    sha = _checked(sha256)
    state = gateway_state(request)
    row = await run_in_threadpool(blob_for, state, sha, station.agency_code)
    # A published installer is for every station, whatever its agency.
    allowed = row is not None or await run_in_threadpool(is_release_blob, state, sha)
    # A result document: only for the station whose dossier it belongs to.
    allowed = allowed or await run_in_threadpool(result_blob_for, state, sha, station.id,
                                                 station.agency_code)
    path = state.blobs.path(sha)
    if not allowed or not path.is_file():
        raise WireError(404, E_NOT_FOUND, "Cổng tỉnh không có tệp này cho đơn vị của máy trạm.")
    # Always bytes to save, never a page to render: a blob uploaded as text/html must not
    # run as a page of the gateway's origin in whatever opens the link. The declared type
    # stays recorded in the blobs table.
    return FileResponse(path, media_type="application/octet-stream", headers={
        "ETag": f'"{sha}"', "Cache-Control": "private, max-age=31536000",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="{sha}"'})
