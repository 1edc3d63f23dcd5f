"""A citizen's documents on file at the province (contract 1.3, `citizen_documents`)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from provincial_gateway import citizen_documents
from provincial_gateway.auth import CurrentStation
from provincial_gateway.errors import E_NOT_FOUND, INVALID, WireError
from provincial_gateway.state import gateway_state
from sync_contract import wire

router = APIRouter(tags=["citizens"], responses=INVALID)
_ERR = {"model": wire.ErrorBody}
_ID = re.compile(r"\d{9}|\d{12}")


@router.get(wire.CITIZEN_DOCUMENTS, response_model=wire.CitizenDocuments,
            responses={401: _ERR, 404: _ERR, 422: _ERR},
            summary="A citizen's documents already digitized at the station's agency")
def citizen_docs(id_number: str, request: Request,
                 station: CurrentStation) -> wire.CitizenDocuments:
    state = gateway_state(request)
    if state.config.contract_minor < wire.CITIZEN_DOCUMENTS_MINOR:  # behaves as older
        raise WireError(404, E_NOT_FOUND, "Cổng tỉnh chưa hỗ trợ tra cứu giấy tờ công dân.")
    if not _ID.fullmatch(id_number):
        raise WireError(422, wire.E_INVALID,
                        "Số định danh phải gồm 9 hoặc 12 chữ số.")
    found = citizen_documents.on_file(state, station, id_number)
    citizen_documents.record_lookup(state, station, found)
    return wire.CitizenDocuments(documents=found)
