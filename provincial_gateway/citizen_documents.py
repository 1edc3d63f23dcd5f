"""A citizen's documents on file (contract 1.3): what received dossiers of the asking
station's agency hold for that ID number, the newest per document kind, and the audit row
of each look-up (never the ID number)."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select

from provincial_gateway.auth import StationAuth
from provincial_gateway.db import Blob, CitizenLookup, Dossier
from provincial_gateway.dossiers import retrying
from provincial_gateway.state import GatewayState
from sync_contract import wire
from sync_contract.document_kinds import document_kind

log = logging.getLogger("provincial_gateway")


def _owner_ids(body: dict[str, Any]) -> set[str]:
    ids = {str(body.get("SoGiayToChuHoSo") or "")}
    ids |= {str(d.get("SoDinhDanh") or "") for d in body.get("DinhDanhCHS") or []
            if isinstance(d, dict)}
    return ids - {""}


def on_file(state: GatewayState, station: StationAuth, id_number: str
            ) -> list[wire.CitizenDocument]:
    """Per kind, the current files of the newest received dossier (same agency, same
    owner) that has one; a supersede rule identical to the station's index."""
    with state.sessions() as s:
        # The body is canonical JSON: the substring narrows, the parsed owner decides.
        rows = s.execute(
            select(Dossier.ma_ho_so, Dossier.received_at, Dossier.body)
            .where(Dossier.agency_code == station.agency_code,
                   Dossier.ma_ho_so.is_not(None), Dossier.body.contains(id_number))
            .order_by(Dossier.received_at.desc(), Dossier.id.desc())).all()
        chosen: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}
        for code, received, raw in rows:
            body = json.loads(raw)
            if id_number not in _owner_ids(body):
                continue
            per_kind: dict[str, list[dict[str, Any]]] = {}
            for item in body.get("TaiLieuNop") or []:
                kind = document_kind(str(item.get("TenThanhPhan") or ""))
                if kind and item.get("TepDinhKemSha256") and not item.get("IsDeleted"):
                    per_kind.setdefault(kind, []).append(item)
            for kind, items in per_kind.items():
                chosen.setdefault(kind, (code or "", received, items))
        shas = {i["TepDinhKemSha256"] for _, _, items in chosen.values() for i in items}
        blobs = {b.sha256: b for b in s.scalars(select(Blob).where(Blob.sha256.in_(shas)))}
    out = []
    for kind, (code, received, items) in sorted(chosen.items()):
        for item in items:
            blob = blobs.get(item["TepDinhKemSha256"])
            if blob is None:  # never stored: nothing to hand out
                continue
            out.append(wire.CitizenDocument(
                kind=kind, name=str(item.get("TenThanhPhan") or ""),
                file_name=str(item.get("TenTepDinhKem") or ""), ma_ho_so=code,
                received_at=received, sha256=blob.sha256, size=blob.size,
                media_type=blob.media_type,
                download_path=wire.BLOB.format(sha256=blob.sha256)))
    return out


def record_lookup(state: GatewayState, station: StationAuth,
                  found: list[wire.CitizenDocument]) -> None:
    codes = sorted({d.ma_ho_so for d in found})

    def attempt() -> None:
        with state.sessions.begin() as s:
            s.add(CitizenLookup(station_id=station.id, agency_code=station.agency_code,
                                found=len(found), dossier_codes=",".join(codes)))

    retrying(attempt)
    log.info("station %s looked up a citizen's documents: %d found", station.label,
             len(found))
