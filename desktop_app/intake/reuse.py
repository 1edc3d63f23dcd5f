"""Reuse of documents a citizen already had digitized at this agency (tái sử dụng).

The index is read from what the station holds: the current files of the components of
the citizen's earlier received dossiers, found by the owner's ID number. Rules (README,
"Tái sử dụng bản số hóa"):

- A document's kind is its catalog component's name, folded (no diacritics, one space):
  component codes are per procedure ("TK" is a different form in every procedure), names
  are what procedures share ("Văn bản ủy quyền …"). Request forms (tờ khai, đơn, phiếu,
  dự thảo) are made for one request and are never offered.
- Only dossiers with a code (received): a refusal or a supplement request found the
  papers lacking. The newest digitized copy of a kind supersedes the older ones; a file
  replaced by re-digitizing is not offered. The catalog gives no validity period: none.
- Only the same ID number (never an empty one); the look-up is audited with the intake's
  context (procedure, what was found as dossier codes), no personal data.
- A reused file is a new row on the same blob (DOMAIN.md state 2, DuocTaiSuDung) whose
  source is the original copy: reusing a reuse points at the original again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.errors import DomainError
from local_db import repositories as repo
from local_db.models import Applicant, Dossier, DossierComponent
from sync_contract.document_kinds import document_kind

__all__ = ["OnFile", "ReuseService", "StaleReuse", "check_reused", "document_kind",
           "matches"]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class OnFile:
    """A document of the citizen already digitized, as the components step offers it."""

    kind: str
    component_name: str
    dossier_code: str
    received_at: datetime
    files: tuple[DigitizedFile, ...]  # ready to link: reused_from / source_code set
    where: str = "station"  # station | province

    @property
    def label_vi(self) -> str:
        place = " (trên hệ thống tỉnh)" if self.where == "province" else ""
        return (f"Đã có bản số hóa từ hồ sơ {self.dossier_code} ngày "
                f"{self.received_at:%d/%m/%Y}{place} — Ctrl+R để dùng lại")


class StaleReuse(DomainError):
    """A file chosen for reuse is no longer the citizen's current copy (or not theirs)."""


def _current(s: Session, id_number: str) -> dict[str, tuple[Dossier, DossierComponent]]:
    """Per kind, the newest received dossier component of this owner with current files."""
    rows = s.execute(
        select(Dossier, DossierComponent)
        .join(DossierComponent, DossierComponent.dossier_id == Dossier.id)
        .join(Applicant, Applicant.id == Dossier.owner_id)
        .where(Applicant.id_number == id_number, Dossier.code.is_not(None))
        .order_by(Dossier.received_at.desc(), Dossier.id.desc())).all()
    out: dict[str, tuple[Dossier, DossierComponent]] = {}
    for dossier, comp in rows:
        kind = document_kind(comp.name)
        if not kind or kind in out:
            continue
        if any(f.superseded_at is None for f in comp.files):
            out[kind] = (dossier, comp)  # the newest with a copy supersedes older ones
    return out


def _offer(kind: str, dossier: Dossier, comp: DossierComponent) -> OnFile:
    files = []
    for f in sorted((f for f in comp.files if f.superseded_at is None), key=lambda f: f.part):
        # A reuse of a reuse names the first copy: MaKetQuaThayThe stays the original's.
        source = (f.reuse.source_file_id, f.reuse.source_code) if f.reuse else (None, "")
        files.append(DigitizedFile(
            f.blob_sha256, f.file_name, f.part, f.parts, f.pages, f.size, f.dpi,
            tuple(filter(None, f.colour_modes.split(","))), f.profile,
            reused_from=source[0] if source[0] is not None else f.id,
            source_code=source[1] or (dossier.code or "")))
    return OnFile(kind, comp.name, dossier.code or "", dossier.received_at, tuple(files))


class ReuseService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def on_file(self, id_number: str, clerk: ClerkInfo, procedure_code: str,
                kinds: Sequence[str] | None = None) -> list[OnFile]:
        """The citizen's current digitized documents (for ``kinds`` when given), and an
        audit entry of the look-up in the same transaction."""
        id_number = re.sub(r"\s", "", id_number)
        if not re.fullmatch(r"\d{9}|\d{12}", id_number):
            return []
        wanted = set(kinds) if kinds is not None else None
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            found = [_offer(kind, d, c) for kind, (d, c) in _current(s, id_number).items()
                     if wanted is None or kind in wanted]
            repo.add_audit(s, now, clerk.id, "citizen_documents_looked_up", "intake",
                           self.ctx.paths.install_id(),
                           {"procedure": procedure_code, "found": len(found),
                            "dossiers": sorted({o.dossier_code for o in found})})
        log.info("citizen documents looked up for procedure %s: %d found", procedure_code,
                 len(found))
        return found


def matches(names: Sequence[str], found: Sequence[OnFile]) -> dict[int, OnFile]:
    """Which checklist rows (by component name) have a document on file."""
    by_kind = {o.kind: o for o in found}
    out = {}
    for row, name in enumerate(names):
        kind = document_kind(name)
        if kind in by_kind:
            out[row] = by_kind[kind]
    return out


def check_reused(s: Session, id_number: str, names_files: Sequence[tuple[str, Sequence[
        DigitizedFile]]]) -> None:
    """Inside the Receive transaction: every reused file is still the owner's current copy
    of that kind (another counter may have re-digitized it since it was offered)."""
    reused = [(name, f) for name, files in names_files for f in files
              if f.reused_from is not None]
    if not reused:
        return
    current = _current(s, re.sub(r"\s", "", id_number)) if id_number else {}
    for name, f in reused:
        kind = document_kind(name)
        now_offered = current.get(kind)
        ok = now_offered is not None and any(
            o.sha256 == f.sha256 and o.reused_from == f.reused_from
            for o in _offer(kind, *now_offered).files)
        if not ok:
            raise StaleReuse(
                f"Bản số hóa dùng lại cho “{name}” không còn là bản hiện hành của công dân "
                "này (đã có bản mới hơn hoặc không cùng số định danh). Chưa lưu gì; hãy "
                "bỏ bản dùng lại và quét lại hoặc dùng bản mới nhất.",
                f"reused file {f.reused_from} ({f.sha256[:12]}) is not current for its "
                "owner")

