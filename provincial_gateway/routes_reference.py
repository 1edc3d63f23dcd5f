"""Health and the reference data a station pulls (catalog, calendar, clerks, the
province's settings)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from provincial_gateway import refdata, settings_publish
from provincial_gateway.auth import CurrentStation
from provincial_gateway.errors import E_NOT_FOUND, WireError
from provincial_gateway.state import gateway_state
from provincial_gateway.timeutil import iso_now
from sync_contract import wire

log = logging.getLogger("provincial_gateway")
router = APIRouter(tags=["reference data"])

_ERR = {"model": wire.ErrorBody}
_ETAG = {304: {"description": "Not modified (If-None-Match matched the ETag)"},
         401: _ERR}


@router.get(wire.HEALTH, response_model=wire.Health,
            summary="Liveness, contract version, features and batch limits, no authentication")
def health(request: Request) -> wire.Health:
    config = gateway_state(request).config
    batches = config.contract_minor >= wire.DOSSIER_BATCH_MINOR
    features = [wire.FEATURE_HEARTBEAT] if config.accept_heartbeats else []
    if config.contract_minor >= wire.CITIZEN_DOCUMENTS_MINOR:
        features.append(wire.FEATURE_CITIZEN_DOCUMENTS)
    return wire.Health(status="ok", api_version=wire.API_VERSION, server_time=iso_now(),
                       features=features, api_minor=config.contract_minor,
                       dossier_batch_max_items=config.max_batch_items if batches else 0,
                       dossier_batch_max_bytes=config.max_batch_bytes if batches else 0)


@router.get(wire.CATALOG, response_model=wire.Catalog, responses={**_ETAG, 404: _ERR},
            summary="Procedure catalog (strong ETag)")
def catalog(request: Request, station: CurrentStation) -> Response:
    doc = refdata.get_catalog(gateway_state(request))
    if doc is None:
        raise WireError(404, E_NOT_FOUND, "Cổng tỉnh chưa nạp danh mục thủ tục hành chính.")
    return refdata.etag_response(request, doc)


@router.get(wire.CALENDAR, response_model=wire.CalendarBody, responses=_ETAG,
            summary="Working-day calendar overrides (strong ETag)")
def calendar(request: Request, station: CurrentStation) -> Response:
    return refdata.etag_response(request, refdata.calendar_body(gateway_state(request)))


@router.get(wire.CLERKS, response_model=wire.ClerksBody, responses={**_ETAG, 403: _ERR},
            summary="What offline login needs of the station's agency's clerk accounts "
                    "(strong ETag)")
def clerks(request: Request, station: CurrentStation,
           agency: Annotated[str | None, Query(
               description="The agency the station asks for; another agency than the "
                           "token's is refused (403)")] = None) -> Response:
    if agency is not None and agency.strip().upper() != station.agency_code:
        log.warning("clerk list refused: station %s asked for agency %s", station.label,
                    agency.strip()[:40])
        raise WireError(403, wire.E_AGENCY,
                        "Danh sách cán bộ chỉ cấp cho máy trạm của chính đơn vị đó.")
    body = refdata.clerks_body(gateway_state(request), station.agency_code)
    return refdata.etag_response(request, body)


@router.get(wire.PROVINCE_SETTINGS, response_model=wire.ProvinceSettings, responses=_ETAG,
            summary="Settings the province owns: scan profiles, upload limit, fee schedules, "
                    "signer blocks (strong ETag; version \"\" until one is published)")
def province_settings(request: Request, station: CurrentStation) -> Response:
    body = settings_publish.settings_body(gateway_state(request))
    return refdata.etag_response(request, body)
