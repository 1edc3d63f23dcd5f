"""Dossier upsert, lifecycle events and the change feed."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from provincial_gateway import dossiers
from provincial_gateway.audit_heads import note_audit_head
from provincial_gateway.auth import CurrentStation
from provincial_gateway.errors import E_NOT_FOUND, INVALID, WireError
from provincial_gateway.state import gateway_state, public_base
from sync_contract import wire

log = logging.getLogger("provincial_gateway")
# Every dossier route keeps the station's audit-chain head it carries (audit_heads.py).
router = APIRouter(tags=["dossiers"], responses=INVALID,
                   dependencies=[Depends(note_audit_head)])
_ERR = {"model": wire.ErrorBody}


@router.put(
    wire.DOSSIER, response_model=wire.DossierAck, summary="Upsert a dossier revision",
    description="Revision rules (wire.py): same PhienBan and body → `unchanged`; same "
                "PhienBan, other body → 409 `conflict`; higher → `updated`; lower → `stale` "
                "(the answer then carries the stored revision). `created` on first receipt. "
                "All results answer 200. Only the station that first sent a dossier may "
                "revise it, and MaHoSo must be in the sender's code space "
                "(`{agency}-{YYMMDD}-{digit}NNN`); a revision may be at most "
                f"{wire.MAX_REVISION_STEP} above the stored one. A receipt time more than 5 "
                "minutes ahead of the gateway's clock is stored and flagged "
                f"(`warnings: [{wire.W_RECEIVED_IN_FUTURE}]`).",
    responses={401: _ERR,
               403: {"model": wire.ErrorBody,
                     "description": "agency_mismatch (MaDonVi), or not_owner: another "
                                    "station's dossier or code (one answer whether it "
                                    "exists or not)"},
               409: {"model": wire.ErrorBody,
                     "description": "conflict: same revision with another body, or MaHoSo "
                                    "already used by another ClientId; revision_jump: "
                                    "PhienBan too far above the stored revision"},
               422: {"model": wire.ErrorBody,
                     "description": "missing_blobs (with `missing`) or invalid (naming the "
                                    "field: length, control or direction characters)"}})
async def put_dossier(client_id: str, doc: wire.DossierDocument, request: Request,
                      station: CurrentStation) -> wire.DossierAck:
    if doc.ClientId != client_id:
        raise WireError(422, wire.E_INVALID, "ClientId trong đường dẫn và trong hồ sơ khác nhau.")
    raw = await request.json()  # compare and store exactly what was sent
    state = gateway_state(request)
    result = await run_in_threadpool(dossiers.upsert_dossier, state, raw,
                                     station.agency_code, station.id, station.station_digit)
    base = public_base(request)
    return result.ack(lambda sha: base + wire.BLOB.format(sha256=sha))


@router.post(
    wire.DOSSIER_BATCH, response_model=wire.DossierBatchResult,
    response_model_exclude_defaults=True, summary="Upsert several dossier documents (contract 1.1)",
    description="Each document of `dossiers` is applied exactly as `PUT /dossiers/{ClientId}` "
                "would apply it (same revision, ownership and file rules), in its own "
                "transaction, in the order sent. Answers 200 with one result per document "
                "in the same order: `status` is the single PUT's status with its `ack` "
                "(200; without `TaiLieuNop`, which the station sent) or `error` (403 "
                "not_owner, 409 conflict or revision_jump, 422 invalid or missing_blobs, "
                "500 for a document the gateway failed on): one refused document never "
                "fails the others. The documents share one transaction, each in a "
                "savepoint (one commit per batch). At most "
                f"{wire.DOSSIER_BATCH_MAX_ITEMS} documents and "
                f"{wire.DOSSIER_BATCH_MAX_BYTES // (1024 * 1024)} MiB of body by default, "
                "as `/health` announces; a gateway of contract 1.0 answers 404 or 405.",
    responses={401: _ERR,
               404: {"model": wire.ErrorBody,
                     "description": "not_found: this gateway speaks contract 1.0"},
               413: {"model": wire.ErrorBody,
                     "description": "too_large: more documents or bytes than announced"},
               422: {"model": wire.ErrorBody,
                     "description": "invalid: the envelope (not a document) is malformed"}})
async def post_dossier_batch(batch: wire.DossierBatch, request: Request,
                             station: CurrentStation) -> wire.DossierBatchResult:
    state = gateway_state(request)
    config = state.config
    if config.contract_minor < wire.DOSSIER_BATCH_MINOR:
        raise WireError(404, E_NOT_FOUND, "Không có địa chỉ này trên cổng tỉnh.")
    if len(batch.dossiers) > config.max_batch_items:
        raise WireError(413, wire.E_TOO_LARGE,
                        f"Một lần gửi nhiều nhất {config.max_batch_items} hồ sơ.")
    raw = (await request.json())["dossiers"]  # compare and store exactly what was sent
    outcomes = await run_in_threadpool(dossiers.upsert_many, state, raw,
                                       station.agency_code, station.id, station.station_digit)
    results = []
    for o in outcomes:
        if o.result is not None:
            results.append(wire.DossierBatchItem(ClientId=o.client_id, status=200,
                                                 ack=o.result.ack(None)))
        elif o.error is not None:
            results.append(wire.DossierBatchItem(
                ClientId=o.client_id, status=o.error.status,
                error=wire.ErrorBody(code=o.error.code, message=o.error.message,
                                     missing=o.error.missing)))
    refused = sum(1 for r in results if r.status != 200)
    if refused:
        log.info("dossier batch from %s: %d stored, %d refused", station.label,
                 len(results) - refused, refused)
    return wire.DossierBatchResult(results=results)


@router.post(wire.EVENTS, response_model=wire.EventAck, summary="Record a lifecycle event",
             responses={401: _ERR, 403: _ERR,
                        404: {"model": wire.ErrorBody, "description": "unknown_dossier"},
                        409: {"model": wire.ErrorBody,
                              "description": "conflict: same EventId, other body"},
                        422: _ERR})
def post_event(event: wire.EventIn, request: Request, station: CurrentStation) -> wire.EventAck:
    result = dossiers.record_event(gateway_state(request), event, station.agency_code)
    return wire.EventAck(EventId=event.EventId, result=result)  # type: ignore[arg-type]


@router.get(wire.CHANGES, response_model=wire.ChangesBody,
            summary="Processing-side changes for the station's agency, by sequence",
            responses={401: _ERR, 422: _ERR})
def get_changes(request: Request, station: CurrentStation,
                since: Annotated[int, Query(ge=0, le=wire.MAX_CURSOR)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> wire.ChangesBody:
    return dossiers.changes_since(gateway_state(request), station.agency_code, since, limit)
