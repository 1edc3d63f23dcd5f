"""Station identity (whose token is this) and enrolment (a one-time code for a token)."""

from __future__ import annotations

import logging
from datetime import UTC

from fastapi import APIRouter, Request

from provincial_gateway import admin_ops, bundle_keys, station_heartbeats
from provincial_gateway.auth import CurrentStation
from provincial_gateway.errors import E_NOT_FOUND, INVALID, WireError
from provincial_gateway.state import gateway_state
from provincial_gateway.timeutil import VN
from sync_contract import wire

router = APIRouter(tags=["stations"])
log = logging.getLogger("provincial_gateway")

_ERR = {"model": wire.ErrorBody}


@router.get(wire.STATION, response_model=wire.StationIdentity, responses={401: _ERR},
            summary="The station this bearer token belongs to")
def whoami(station: CurrentStation) -> wire.StationIdentity:
    return wire.StationIdentity(agency_code=station.agency_code,
                                station_digit=station.station_digit, name=station.name)


@router.post(wire.ENROL, response_model=wire.EnrolResponse, status_code=201,
             responses={403: _ERR, **INVALID},
             summary="Exchange a one-time enrolment code for the station token (no bearer)")
def enrol(request: Request, body: wire.EnrolRequest) -> wire.EnrolResponse:
    try:
        token, row = admin_ops.redeem_enrolment_code(
            gateway_state(request), body.agency_code, body.station_digit, body.enrolment_code,
            source=request.client.host if request.client else "unknown")
    except admin_ops.EnrolmentRefused:
        # The code itself is never logged: it is a credential until it is used.
        log.warning("enrolment refused for %s/%s", body.agency_code.strip().upper(),
                    body.station_digit)
        raise WireError(403, wire.E_ENROL,
                        "Mã đăng ký không đúng, đã hết hạn, đã dùng hoặc bị khoá do nhập sai "
                        "nhiều lần. Hãy xin tỉnh cấp mã mới.") from None
    log.info("station %s/%s enrolled", row.agency_code, row.station_digit)
    if body.bundle_signing_key:
        bundle_keys.register_for(gateway_state(request), row.agency_code, row.station_digit,
                                 body.bundle_signing_key)
    return wire.EnrolResponse(token=token, agency_code=row.agency_code,
                              station_digit=row.station_digit, name=row.name,
                              bundle_recipient=bundle_keys.province_recipient(
                                  gateway_state(request).config))


@router.post(wire.STATION_HEARTBEAT, response_model=wire.HeartbeatAck,
             responses={401: _ERR, 403: _ERR, 404: _ERR, **INVALID},
             summary="How the station is (once per sync run); the latest is kept")
def heartbeat(request: Request, station: CurrentStation,
              body: wire.StationHeartbeat) -> wire.HeartbeatAck:
    state = gateway_state(request)
    if not state.config.accept_heartbeats:
        # As a gateway older than the feature answers.
        raise WireError(404, E_NOT_FOUND, "Không tìm thấy.")
    seen = station_heartbeats.record(state, station, body)
    return wire.HeartbeatAck(station=station.label, received_at=seen.replace(
        tzinfo=UTC).astimezone(VN).isoformat(timespec="seconds"))
