"""The update channel's manifest: the newest installer published for a platform. The
installer itself is downloaded through the blob route (HTTP Range, resumable)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from provincial_gateway import releases
from provincial_gateway.auth import CurrentStation
from provincial_gateway.errors import INVALID, WireError
from provincial_gateway.state import gateway_state
from sync_contract import release_manifest as rm
from sync_contract import wire

router = APIRouter(tags=["updates"], responses=INVALID)
_ERR = {"model": wire.ErrorBody}


@router.get(rm.UPDATES_LATEST, response_model=rm.UpdateManifest,
            responses={401: _ERR, 404: _ERR},
            summary="The newest installer published for a platform, with its signature")
async def latest_update(request: Request, station: CurrentStation,
                        platform: Annotated[rm.Platform, Query()]) -> rm.UpdateManifest:
    found = await run_in_threadpool(releases.latest, gateway_state(request), platform)
    if found is None:
        raise WireError(404, rm.E_NO_UPDATE, "Chưa có bản cập nhật nào cho nền tảng này.")
    return found.manifest()
