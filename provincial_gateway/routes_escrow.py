"""The stations' data-key escrow: each station uploads its data key wrapped under a
recovery code only the technician holds, and fetches it back (with a token obtained by
re-enrolling) to recover a replaced PC's encrypted data. The gateway cannot unwrap it."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from sqlalchemy import select

from provincial_gateway.auth import CurrentStation
from provincial_gateway.db import KeyEscrow
from provincial_gateway.errors import INVALID
from provincial_gateway.state import gateway_state
from sync_contract import wire

router = APIRouter(tags=["stations"])
log = logging.getLogger("provincial_gateway")

_ERR = {"model": wire.ErrorBody}
KEEP = 20  # uploads answered per station, newest first


@router.put(wire.KEY_ESCROW, status_code=204, responses={401: _ERR, **INVALID},
            summary="Keep this station's wrapped data key (a new row per upload)")
def put_escrow(request: Request, body: wire.KeyEscrowUpload,
               station: CurrentStation) -> None:
    with gateway_state(request).sessions.begin() as s:
        s.add(KeyEscrow(agency_code=station.agency_code, station_digit=station.station_digit,
                        wrapped=body.wrapped))
    log.info("key escrow stored for station %s", station.label)


@router.get(wire.KEY_ESCROW, response_model=wire.KeyEscrowList, responses={401: _ERR},
            summary="This station's wrapped data keys, newest first")
def get_escrow(request: Request, station: CurrentStation) -> wire.KeyEscrowList:
    with gateway_state(request).sessions() as s:
        rows = s.scalars(
            select(KeyEscrow)
            .where(KeyEscrow.agency_code == station.agency_code,
                   KeyEscrow.station_digit == station.station_digit)
            .order_by(KeyEscrow.id.desc()).limit(KEEP)).all()
        found = [wire.KeyEscrowUpload(wrapped=r.wrapped) for r in rows]
    log.info("key escrow fetched by station %s (%d)", station.label, len(found))
    return wire.KeyEscrowList(escrows=found)
