"""Paper results digitized at the return counter (F7).

Many processing agencies still send the result on paper. The clerk scans it in the studio
as the dossier's *result* (not a component), with its legal metadata (number, signing
date, signer, name). The PDF comes out of the same pipeline as a component's (legal
quality floors, size limit, encrypted blob store); it is recorded as a result document of
origin ``counter``, so the F7 panel views, prints and hands it over like one the province
sent, and it is queued upward like a component file: the file's upload, then the dossier's
next revision listing it in ``DanhSachGiayToKetQua``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.digitization import PDF, DigitizedFile
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc
from desktop_app.scanning.studio import StudioBackend
from desktop_app.sync.national import dossier_document
from local_db import repositories as repo
from local_db.models import ResultDocumentRow

log = logging.getLogger(__name__)

COUNTER = "counter"
# The wire limits of a result document (sync_contract.text_rules, wire.ResultDocument).
MAX_NAME, MAX_NUMBER, MAX_SIGNER = 300, 60, 200
# A signing date this far back is a typing slip (e.g. 1926 for 2026), not a real result.
OLDEST_YEAR = 1945


class CounterResultError(DomainError):
    pass


@dataclass(frozen=True)
class ResultMeta:
    """What the paper says of itself: số văn bản, ngày ký, người ký, tên giấy tờ."""

    name: str
    number: str
    signed_on: date | None
    signer: str

    @classmethod
    def from_form(cls, name: str, number: str, signed_on: str, signer: str) -> ResultMeta:
        """The form's fields, the date typed as ngày/tháng/năm (e.g. 20/10/2023)."""
        text = signed_on.strip()
        day = None
        if text:
            try:
                day = datetime.strptime(text.replace("-", "/").replace(".", "/"),
                                        "%d/%m/%Y").date()
            except ValueError:
                raise CounterResultError("Thông tin giấy tờ kết quả chưa đúng: ngày ký phải "
                                         "có dạng ngày/tháng/năm, ví dụ 20/10/2023.",
                                         "result signing date not a date") from None
        return cls(name, number, day, signer)

    def checked(self, today: date) -> ResultMeta:
        """The same metadata, trimmed and NFC; every problem named at once."""
        name, number, signer = (" ".join(nfc(v).split()) for v in
                                (self.name, self.number, self.signer))
        problems: list[str] = []
        if not name:
            problems.append("nhập tên giấy tờ kết quả")
        elif len(name) > MAX_NAME:
            problems.append(f"tên giấy tờ không quá {MAX_NAME} ký tự")
        if not number:
            problems.append("nhập số văn bản (ví dụ 123/GCN-UBND)")
        elif len(number) > MAX_NUMBER:
            problems.append(f"số văn bản không quá {MAX_NUMBER} ký tự")
        if self.signed_on is None:
            problems.append("nhập ngày ký")
        elif self.signed_on > today:
            problems.append("ngày ký không được sau ngày hôm nay")
        elif self.signed_on.year < OLDEST_YEAR:
            problems.append(f"ngày ký không hợp lệ (trước năm {OLDEST_YEAR})")
        if not signer:
            problems.append("nhập họ tên người ký")
        elif len(signer) > MAX_SIGNER:
            problems.append(f"họ tên người ký không quá {MAX_SIGNER} ký tự")
        if problems:
            raise CounterResultError("Thông tin giấy tờ kết quả chưa đúng: "
                                     + "; ".join(problems) + ".",
                                     f"result metadata refused: {len(problems)} problem(s)")
        return ResultMeta(name, number, self.signed_on, signer)


class CounterResults:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def check(self, meta: ResultMeta) -> ResultMeta:
        return meta.checked(self.ctx.clock.now().date())

    def record(self, dossier_id: int, files: Sequence[DigitizedFile], meta: ResultMeta,
               clerk: ClerkInfo) -> list[int]:
        """Link stored PDFs (already in the blob store) to a received dossier as its result,
        one result document per part, with their uploads and the dossier's next revision
        queued, in one transaction. Returns the result documents' ids."""
        meta = self.check(meta)
        if not files:
            raise CounterResultError("Chưa có trang nào của giấy tờ kết quả.",
                                     f"dossier {dossier_id}: no result file")
        now = self.ctx.clock.now()
        ids: list[int] = []
        with self.ctx.db.write() as s:
            d = repo.dossier_by_id(s, dossier_id, for_update=True)
            if d is None or not d.code:
                raise CounterResultError("Chỉ số hóa kết quả cho hồ sơ đã tiếp nhận (đã có "
                                         "mã hồ sơ).", f"dossier {dossier_id} not received")
            station = repo.get_station(s)
            assert station is not None  # a received dossier implies a configured station
            rows = []
            for f in files:
                part = f" (phần {f.part}/{f.parts})" if f.parts > 1 else ""
                row = ResultDocumentRow(
                    dossier_id=d.id, gateway_id=f"quay-{uuid.uuid4().hex}", change_seq=0,
                    name=meta.name + part, number=meta.number, signer=meta.signer,
                    signed_on=meta.signed_on, announced_sha256=f.sha256, size=f.size,
                    media_type=PDF, download_path="", state="fetched",
                    blob_sha256=f.sha256, fetched_at=now, created_at=now, origin=COUNTER,
                    clerk_id=clerk.id)
                s.add(row)
                rows.append(row)
                repo.add_outbox(s, "file", f.sha256, "upload",
                                {"dossier": d.uuid, "result": True, "file_name": f.file_name,
                                 "size": f.size, "part": f.part, "parts": f.parts}, now)
            d.revision = (d.revision or 1) + 1
            d.updated_at = now
            s.flush()
            ids = [r.id for r in rows]
            # The relationship read by the document must see the rows just added.
            s.expire(d, ["counter_results"])
            repo.add_outbox(s, "dossier", d.uuid, "result_digitized",
                            dossier_document(d, station.agency_code), now)
            repo.add_audit(s, now, clerk.id, "result_digitized", "dossier", d.uuid,
                           {"documents": ids, "files": [f.sha256 for f in files]})
        log.info("dossier %s: paper result digitized as %d file(s) by clerk %s", dossier_id,
                 len(files), clerk.id)
        return ids


RESULT_SLOT = "result"


def result_backend(ctx: AppContext, clerk: ClerkInfo, dossier_id: int, dossier_code: str,
                   meta: ResultMeta) -> StudioBackend:
    """The studio's backend for a paper result: one slot, stored as the dossier's result
    with ``meta`` (checked before anything is scanned)."""
    return ResultStudioBackend(ctx, clerk, dossier_id, dossier_code,
                               CounterResults(ctx).check(meta))


class ResultStudioBackend(StudioBackend):
    def __init__(self, ctx: AppContext, clerk: ClerkInfo, dossier_id: int, dossier_code: str,
                 meta: ResultMeta) -> None:
        super().__init__(ctx, clerk, dossier_id=dossier_id, dossier_code=dossier_code)
        self.meta = meta
        self.recorded: list[int] = []

    def link(self, key: str, files: Sequence[DigitizedFile]) -> None:
        if key != RESULT_SLOT or self.dossier_id is None:
            raise CounterResultError("Trang của giấy tờ kết quả phải nằm ở mục kết quả.",
                                     f"result studio finished slot {key!r}")
        self.recorded += CounterResults(self.ctx).record(self.dossier_id, files, self.meta,
                                                          self.clerk)
