"""Dossier upsert, lifecycle events, processing status and the change feed.

Used by the HTTP endpoints, the bundle import and the admin tools alike, so a dossier
that arrives by USB bundle follows exactly the rules of one that arrives by PUT.

Idempotency rests on unique constraints (ClientId, MaHoSo, EventId, revision): two
identical requests racing each other both try to insert, one loses with an
IntegrityError, and its retry then finds the winner's row and answers `unchanged`.

Ownership: a dossier belongs to the station that first sent it (`Dossier.station_id`, from
its token, never from the body), and a dossier code must lie in the sending station's own
code space (its agency and digit). Every refusal on those grounds is one and the same 403,
so the answer tells a station nothing about other stations' dossiers or codes."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provincial_gateway.blobstore import is_sha256
from provincial_gateway.canonical import canonical_json
from provincial_gateway.db import (
    BlobAccess,
    Change,
    Dossier,
    DossierFlag,
    DossierRevision,
    Event,
    Progress,
    ResultDocument,
    Station,
    utcnow,
)
from provincial_gateway.errors import WireError
from provincial_gateway.state import GatewayState
from provincial_gateway.statuses import STATUS_LABELS
from provincial_gateway.timeutil import NATIONAL, VN, national_now, now_vn
from sync_contract import wire

log = logging.getLogger("provincial_gateway.dossiers")
T = TypeVar("T")
RETRIES = 6
# Serialises change-feed appends per agency on PostgreSQL (the first key of the two-int
# advisory lock; the second is hashtext(agency_code)). Sequence values are taken at insert
# but become visible at commit, so without it a reader could pass seq 8 before 7 commits.
FEED_LOCK_NAMESPACE = 0x4D43_4631  # "MCF1"
# The revision columns are 32-bit integers on PostgreSQL; no station gets anywhere near.
STORED_REVISION_MAX = 2**31 - 1
# A receipt time further ahead of the gateway's clock than this is flagged: more than
# the clock drift a counter PC shows before `motcua doctor` warns about it.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class UpsertResult:
    result: str  # created | updated | unchanged | stale
    client_id: str
    ma_ho_so: str
    revision: int
    status: int
    documents: list[dict[str, Any]]  # the stored revision's TaiLieuNop
    warnings: list[str] = field(default_factory=list)  # flags of the stored revision

    def ack(self, blob_url: Callable[[str], str] | None) -> wire.DossierAck:
        """The acknowledgement, TaiLieuNop with each file's URL; without `blob_url` (a
        batch item) TaiLieuNop is left out: the station holds the documents it sent."""
        items = []
        for item in self.documents if blob_url is not None else ():
            item = dict(item)
            sha = str(item.get("TepDinhKemSha256") or "").lower()
            if sha:
                item["DuongDanTaiTepTin"] = blob_url(sha)
            items.append(item)
        return wire.DossierAck(ClientId=self.client_id, MaHoSo=self.ma_ho_so,
                               PhienBan=self.revision, result=self.result,  # type: ignore[arg-type]
                               TrangThaiHoSo=self.status, TaiLieuNop=items,
                               warnings=self.warnings)


def retrying(fn: Callable[[], T]) -> T:
    for attempt in range(RETRIES):
        try:
            return fn()
        except IntegrityError:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _invalid(message: str) -> WireError:
    return WireError(422, wire.E_INVALID, message)


def validate_document(body: Any) -> wire.DossierDocument:
    if not isinstance(body, dict):
        raise _invalid("Hồ sơ phải là một đối tượng JSON.")
    try:
        doc = wire.DossierDocument.model_validate(body)
    except ValidationError as exc:
        where = "; ".join(".".join(map(str, e["loc"])) + f" ({e['type']})"
                          for e in exc.errors()[:5])
        raise _invalid(f"Hồ sơ không hợp lệ: {where}") from exc
    if doc.NgayTiepNhan and _national_time(doc.NgayTiepNhan) is None:
        raise _invalid("Hồ sơ không hợp lệ: NgayTiepNhan (not a date and time)")
    return doc


def _national_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=VN)
    except ValueError:
        return None


def not_owner(agency_code: str, station_digit: int | None) -> WireError:
    """The one answer for another station's dossier or code, whether it exists or not."""
    space = f"{agency_code}-yymmdd-{station_digit if station_digit else 'N'}NNN"
    return WireError(403, wire.E_NOT_OWNER,
                     "Hồ sơ hoặc mã hồ sơ này không thuộc quầy đã gửi. Mỗi quầy chỉ gửi và "
                     f"sửa hồ sơ của chính mình, mã hồ sơ có dạng {space}.")


def check_code_space(ma_ho_so: str, agency_code: str, station_digit: int | None) -> None:
    """`ma_ho_so` (non-empty) must be `{agency}-{YYMMDD}-{digit}NNN` of the sender (DOMAIN.md:
    the station digit leads the daily number). Checked before any lookup."""
    if not ma_ho_so:
        return
    digit = str(station_digit) if station_digit else "[1-9]"
    pattern = rf"{re.escape(agency_code)}-\d{{6}}-{digit}\d{{3}}"
    if not re.fullmatch(pattern, ma_ho_so):
        raise not_owner(agency_code, station_digit)


def check_revision_step(revision: int, stored: int) -> None:
    """At most MAX_REVISION_STEP above the stored revision (0 for a new dossier)."""
    if revision - stored > wire.MAX_REVISION_STEP or revision > STORED_REVISION_MAX:
        raise WireError(409, wire.E_REVISION_JUMP,
                        f"Phiên bản hồ sơ {revision} vượt quá phiên bản đã lưu ({stored}) hơn "
                        f"{wire.MAX_REVISION_STEP}; cổng tỉnh không nhận. Hãy báo kỹ thuật viên.")


def referenced_blobs(doc: wire.DossierDocument) -> list[str]:
    """The components' files, then the results digitized at the counter: the station's
    agency must hold each before the document is taken."""
    shas: list[str] = []
    given = [item.TepDinhKemSha256 for item in doc.TaiLieuNop]
    for sha in given + [r.TepSha256 for r in doc.DanhSachGiayToKetQua]:
        sha = (sha or "").strip().lower()
        if not sha:
            continue
        if not is_sha256(sha):
            raise _invalid("TepDinhKemSha256 phải là 64 ký tự thập lục phân (SHA-256).")
        if sha not in shas:
            shas.append(sha)
    return shas


def held_blobs(s: Session, agency_code: str, shas: list[str]) -> set[str]:
    if not shas:
        return set()
    return set(s.scalars(select(BlobAccess.sha256).where(
        BlobAccess.agency_code == agency_code, BlobAccess.sha256.in_(shas))))


@dataclass(frozen=True)
class FeedEntry:
    """A change-feed row to append at the very end of its transaction (`append_changes`)."""

    dossier: Dossier
    status: int
    at: str
    note: str = ""
    actor: str = ""
    result_ready_at: str = ""
    new_appointment: str = ""

    def row(self) -> Change:
        d = self.dossier
        return Change(agency_code=d.agency_code, dossier_id=d.id, client_id=d.client_id,
                      ma_ho_so=d.ma_ho_so or "", status=self.status, at=self.at,
                      note=self.note, actor=self.actor[:50],
                      result_ready_at=self.result_ready_at,
                      new_appointment=self.new_appointment)


def append_changes(s: Session, entries: Sequence[FeedEntry]) -> list[Change]:
    """Append `entries` to the change feed: call it as the transaction's last statement,
    commit right after.

    A reader pages one agency's feed by `seq > cursor` (`changes_since`), so within one
    agency a seq must never become visible before a smaller one. On PostgreSQL the rows
    are inserted under a transaction-level advisory lock of their agency, taken right
    before the insert and released by the commit: the seq is drawn while the lock is held
    and the row is committed before the next writer of that agency can draw one, so an
    agency's seqs commit in order. Other agencies' seqs interleave, which no reader sees
    (it filters on its agency); two agencies whose hashtext collides merely wait for each
    other. Taken last, the lock is held for the insert and the commit only, never across
    the checks and queries before, so one agency's writers do not queue behind another's.
    SQLite serialises writers on its own."""
    if not entries:
        return []
    rows = [e.row() for e in entries]
    s.flush()  # everything else first: the lock below is followed only by these inserts
    if s.get_bind().dialect.name == "postgresql":
        # Sorted: two transactions appending for the same agencies lock them in one order.
        for agency in sorted({r.agency_code for r in rows}):
            s.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:agency))"),
                      {"ns": FEED_LOCK_NAMESPACE, "agency": agency})
    s.add_all(rows)
    s.flush()
    return rows


def _national_or_now(value: str) -> str:
    return value if NATIONAL.match(value or "") else national_now()


def _documents(body: str) -> list[dict[str, Any]]:
    items = json.loads(body).get("TaiLieuNop") or []
    return [i for i in items if isinstance(i, dict)]


def _result(s: Session, result: str, d: Dossier,
            flags: Sequence[str] | None = None) -> UpsertResult:
    """`flags`: the stored revision's, when the caller has just written that revision
    (and so knows them); else they are read."""
    if flags is None:
        flags = s.scalars(select(DossierFlag.kind).where(
            DossierFlag.dossier_id == d.id, DossierFlag.revision == d.revision)
            .order_by(DossierFlag.id)).all()
    return UpsertResult(result, d.client_id, d.ma_ho_so or "", d.revision, d.status,
                        _documents(d.body), list(flags))


def upsert_dossier(state: GatewayState, raw: Any, agency_code: str,
                   station_id: int | None, station_digit: int | None = None) -> UpsertResult:
    """Apply one revision of a dossier document under the wire.py revision and ownership
    rules. `station_id`/`station_digit` are the authenticated sender's (the digit is looked
    up when only the id is given)."""
    if station_digit is None and station_id is not None:
        with state.sessions() as s:
            station_digit = s.scalar(select(Station.station_digit)
                                     .where(Station.id == station_id))
    doc, body, shas = _checked(raw, agency_code, station_digit)

    def attempt() -> UpsertResult:
        with state.sessions.begin() as s:
            result, entry = _upsert(s, doc, body, shas, agency_code, station_id,
                                    station_digit)
            append_changes(s, [entry] if entry else [])  # last: see append_changes
            return result

    return retrying(attempt)


def _checked(raw: Any, agency_code: str, station_digit: int | None
             ) -> tuple[wire.DossierDocument, str, list[str]]:
    """What needs no database: the document valid, the sender's agency and code space;
    then the document, its canonical body and the files it references."""
    doc = validate_document(raw)
    if doc.MaDonVi != agency_code:
        raise WireError(403, wire.E_AGENCY,
                        f"Mã đơn vị {doc.MaDonVi} của hồ sơ không phải của máy trạm này "
                        f"({agency_code}).")
    check_code_space(doc.MaHoSo.strip(), agency_code, station_digit)
    return doc, canonical_json(raw), referenced_blobs(doc)


@dataclass(frozen=True)
class BatchOutcome:
    """One document of a dossier batch: the single PUT's result, or its refusal."""

    client_id: str  # as the document carried it ("" without a usable one)
    result: UpsertResult | None
    error: WireError | None


def upsert_many(state: GatewayState, raws: Sequence[Any], agency_code: str,
                station_id: int | None, station_digit: int | None) -> list[BatchOutcome]:
    """A dossier batch (contract 1.1): each document under exactly the rules of
    `upsert_dossier` (`_checked`, then `_upsert`), in the order sent, each inside a
    savepoint of one transaction: a refused or failing document leaves nothing behind and
    the others are stored, while the batch pays one commit (one fsync) instead of one per
    document. A lost race (IntegrityError) is retried for that document alone."""
    out: list[BatchOutcome | None] = [None] * len(raws)
    checked: list[tuple[int, str, tuple[wire.DossierDocument, str, list[str]]]] = []
    for n, raw in enumerate(raws):
        given = raw.get("ClientId") if isinstance(raw, dict) else None
        client_id = given[:64] if isinstance(given, str) else ""
        try:
            checked.append((n, client_id, _checked(raw, agency_code, station_digit)))
        except WireError as exc:
            out[n] = _refused(n, client_id, exc)
    if checked:
        with state.sessions.begin() as s:
            feed: list[FeedEntry] = []
            for n, client_id, (doc, body, shas) in checked:
                out[n], entry = _upsert_in_savepoint(s, n, client_id, doc, body, shas,
                                                     agency_code, station_id, station_digit)
                if entry is not None:
                    feed.append(entry)
            # The batch's feed rows together, last, under one lock (see append_changes).
            append_changes(s, feed)
    return [o for o in out if o is not None]


def _refused(n: int, client_id: str, exc: WireError) -> BatchOutcome:
    log.warning("dossier batch item %d -> %d %s: %s", n, exc.status, exc.code, exc.message)
    return BatchOutcome(client_id, None, exc)


def _upsert_in_savepoint(s: Session, n: int, client_id: str, doc: wire.DossierDocument,
                         body: str, shas: list[str], agency_code: str,
                         station_id: int | None, station_digit: int | None
                         ) -> tuple[BatchOutcome, FeedEntry | None]:
    for attempt in range(RETRIES):
        try:
            with s.begin_nested():
                result, entry = _upsert(s, doc, body, shas, agency_code, station_id,
                                        station_digit)
            return BatchOutcome(client_id, result, None), entry
        except WireError as exc:
            return _refused(n, client_id, exc), None
        except IntegrityError:
            if attempt < RETRIES - 1:
                continue
            log.exception("dossier batch item %d failed", n)
        except Exception:  # this item only: 500 for it, the others go on
            log.exception("dossier batch item %d failed", n)
        break
    return BatchOutcome(client_id, None, WireError(
        500, "internal", "Lỗi nội bộ của cổng tỉnh khi lưu hồ sơ này; hãy gửi lại sau.")), None


def _check_code_free(s: Session, ma_ho_so: str, client_id: str) -> None:
    if not ma_ho_so:
        return
    other = s.scalar(select(Dossier.client_id).where(Dossier.ma_ho_so == ma_ho_so))
    if other is not None and other != client_id:
        raise WireError(409, wire.E_CONFLICT,
                        f"Mã hồ sơ {ma_ho_so} đã được dùng cho một hồ sơ khác trên cổng tỉnh.")


def _check_blobs(s: Session, agency_code: str, shas: list[str]) -> None:
    held = held_blobs(s, agency_code, shas)
    missing = [sha for sha in shas if sha not in held]
    if missing:
        raise WireError(422, wire.E_MISSING_BLOBS,
                        f"Cổng tỉnh chưa có {len(missing)} tệp đính kèm của hồ sơ; "
                        "hãy tải tệp lên trước.", missing=missing)


def _flag_future_receipt(s: Session, d: Dossier, doc: wire.DossierDocument) -> list[str]:
    """A receipt time ahead of the gateway's clock (a counter PC whose clock runs fast, or
    a forged time): stored as sent, flagged for the province. Returns the flags added."""
    received = _national_time(doc.NgayTiepNhan) if doc.NgayTiepNhan else None
    now = now_vn()
    if received is None or received <= now + FUTURE_TOLERANCE:
        return []
    ahead = int((received - now).total_seconds())
    s.add(DossierFlag(dossier_id=d.id, revision=d.revision, kind=wire.W_RECEIVED_IN_FUTURE,
                      detail=f"NgayTiepNhan {doc.NgayTiepNhan} ahead of the gateway clock "
                             f"({now:%Y%m%d%H%M%S}) by {ahead} s"))
    log.warning("dossier %s revision %d: receipt time %d s ahead of the gateway clock",
                d.client_id, d.revision, ahead)
    return [wire.W_RECEIVED_IN_FUTURE]


def _owned(d: Dossier, agency_code: str, station_id: int | None) -> bool:
    if d.agency_code != agency_code:
        return False
    # A dossier stored without a station (none today) is its agency's.
    return d.station_id is None or d.station_id == station_id


def _upsert(s: Session, doc: wire.DossierDocument, body: str, shas: list[str], agency_code: str,
            station_id: int | None, station_digit: int | None
            ) -> tuple[UpsertResult, FeedEntry | None]:
    """The stored outcome, and the feed row a new dossier adds: the caller appends it
    last (`append_changes`), so the agency's feed lock is not held across this."""
    ma_ho_so = doc.MaHoSo.strip()
    d = s.scalar(select(Dossier).where(Dossier.client_id == doc.ClientId))
    if d is not None:
        # Before anything that depends on the stored dossier: a stranger learns nothing.
        if not _owned(d, agency_code, station_id):
            raise not_owner(agency_code, station_digit)
        if doc.PhienBan == d.revision:
            if body == d.body:
                return _result(s, "unchanged", d), None
            raise WireError(409, wire.E_CONFLICT,
                            f"Hồ sơ {d.ma_ho_so or doc.ClientId} đã có phiên bản {d.revision} "
                            "với nội dung khác; cần cán bộ giám sát kiểm tra.")
        if doc.PhienBan < d.revision:
            return _result(s, "stale", d), None
        check_revision_step(doc.PhienBan, d.revision)
        if d.ma_ho_so and ma_ho_so != d.ma_ho_so:
            raise WireError(409, wire.E_CONFLICT,
                            f"Không được đổi mã hồ sơ {d.ma_ho_so} (mã in trên giấy biên nhận).")
        _check_code_free(s, ma_ho_so, doc.ClientId)
        _check_blobs(s, agency_code, shas)
        previous_status = json.loads(d.body).get("TrangThaiHoSo")
        d.ma_ho_so = ma_ho_so or None
        d.revision, d.body = doc.PhienBan, body
        d.procedure_code, d.procedure_name = doc.MaTTHC, doc.TenTTHC
        d.updated_at = utcnow()
        s.add(DossierRevision(dossier_id=d.id, revision=doc.PhienBan, body=body))
        # A status the station changed (e.g. returned to the citizen) applies; one it
        # merely carried over must not undo what the processing side has done since.
        if "TrangThaiHoSo" in doc.model_fields_set and doc.TrangThaiHoSo != previous_status:
            d.status = doc.TrangThaiHoSo
            s.add(Progress(dossier_id=d.id, status=d.status, at=national_now(),
                           note=STATUS_LABELS[d.status], source="station"))
        flags = _flag_future_receipt(s, d, doc)
        s.flush()
        return _result(s, "updated", d, flags), None

    check_revision_step(doc.PhienBan, 0)
    _check_code_free(s, ma_ho_so, doc.ClientId)
    _check_blobs(s, agency_code, shas)
    at = _national_or_now(doc.NgayTiepNhan)
    d = Dossier(client_id=doc.ClientId, agency_code=agency_code, station_id=station_id,
                ma_ho_so=ma_ho_so or None, revision=doc.PhienBan, body=body,
                status=doc.TrangThaiHoSo, procedure_code=doc.MaTTHC,
                procedure_name=doc.TenTTHC, received_at=doc.NgayTiepNhan)
    s.add(d)
    s.flush()
    s.add(DossierRevision(dossier_id=d.id, revision=doc.PhienBan, body=body))
    note = "Tiếp nhận hồ sơ" if d.status == 2 else STATUS_LABELS[d.status]
    s.add(Progress(dossier_id=d.id, status=d.status, at=at, note=note, source="station"))
    flags = _flag_future_receipt(s, d, doc)
    s.flush()
    return _result(s, "created", d, flags), FeedEntry(d, d.status, at, note)


def record_event(state: GatewayState, event: wire.EventIn, agency_code: str) -> str:
    """Store a lifecycle event once; returns `created` or `unchanged`."""
    if not NATIONAL.match(event.ThoiDiem):
        raise _invalid("ThoiDiem phải có dạng yyyyMMddHHmmss.")
    if event.TrangThaiHoSo is not None and event.TrangThaiHoSo not in STATUS_LABELS:
        raise _invalid("TrangThaiHoSo phải từ 1 đến 10.")
    body = canonical_json(event.model_dump(mode="json"))

    def attempt() -> str:
        with state.sessions.begin() as s:
            known = s.get(Event, event.EventId)
            if known is not None:
                if known.body == body:
                    return "unchanged"
                raise WireError(409, wire.E_CONFLICT,
                                "Sự kiện này đã được ghi nhận với nội dung khác.")
            d = s.scalar(select(Dossier).where(Dossier.client_id == event.ClientId))
            if d is None:
                raise WireError(404, wire.E_UNKNOWN_DOSSIER,
                                "Cổng tỉnh chưa có hồ sơ của sự kiện này; hãy gửi hồ sơ trước.")
            if d.agency_code != agency_code:
                raise WireError(403, wire.E_AGENCY, "Hồ sơ này thuộc một đơn vị khác.")
            if event.MaHoSo and d.ma_ho_so and event.MaHoSo != d.ma_ho_so:
                raise _invalid("MaHoSo của sự kiện không khớp với hồ sơ.")
            s.add(Event(event_id=event.EventId, dossier_id=d.id, body=body))
            status = event.TrangThaiHoSo or d.status
            s.add(Progress(dossier_id=d.id, status=status, at=event.ThoiDiem,
                           actor=event.NguoiXuLy, note=event.NoiDung or event.Loai,
                           source="event", event_id=event.EventId))
            # The station made this change itself: no echo into its change feed.
            if event.TrangThaiHoSo is not None:
                d.status = event.TrangThaiHoSo
                d.updated_at = utcnow()
            s.flush()
            return "created"

    return retrying(attempt)


class StatusError(ValueError):
    """A refused processing-status change, with a Vietnamese message."""


@dataclass(frozen=True)
class ResultFile:
    """A result document already in the blob store (admin_ops stores the bytes)."""

    sha256: str
    size: int
    name: str
    number: str = ""
    signer: str = ""
    signed_on: str = ""  # yyyyMMddHHmmss
    component_code: str = ""
    media_type: str = "application/pdf"


def set_status(state: GatewayState, key: str, status: int, *, note: str = "",
               actor: str = "", new_appointment: str = "",
               results: Sequence[ResultFile] = ()) -> wire.Change:
    """The processing side moves a dossier (by MaHoSo or ClientId); appends to the feed,
    with the result documents attached to this change (DanhSachGiayToKetQua)."""
    if status not in STATUS_LABELS:
        raise StatusError(f"Trạng thái “{status}” không hợp lệ: phải là số từ 1 đến 10 "
                          "(4 đang xử lý, 5 yêu cầu bổ sung, 9 có kết quả, 10 đã trả kết quả…).")
    key = key.strip()
    with state.sessions.begin() as s:
        d = s.scalar(select(Dossier).where(
            (Dossier.ma_ho_so == key) | (Dossier.client_id == key)))
        if d is None:
            raise StatusError(f"Không tìm thấy hồ sơ có mã “{key}” trên cổng tỉnh.")
        now = national_now()
        d.status = status
        d.updated_at = utcnow()
        text_note = note.strip() or STATUS_LABELS[status]
        s.add(Progress(dossier_id=d.id, status=status, at=now, actor=actor[:50],
                       note=text_note, source="gateway"))
        (change,) = append_changes(s, [FeedEntry(
            d, status, now, text_note, actor, result_ready_at=now if status == 9 else "",
            new_appointment=new_appointment)])
        # They need the change's seq, so they come after it, under the agency's lock.
        docs = [ResultDocument(dossier_id=d.id, change_seq=change.seq, sha256=r.sha256,
                               size=r.size, media_type=r.media_type, name=r.name[:300],
                               number=r.number[:100], signer=r.signer[:200],
                               signed_on=r.signed_on, component_code=r.component_code[:60])
                for r in results]
        s.add_all(docs)
        s.flush()
    return _wire_change(change, {change.seq: [_wire_result(r) for r in docs]})


def _results_of(s: Session, seqs: list[int]) -> dict[int, list[wire.ResultDocument]]:
    out: dict[int, list[wire.ResultDocument]] = {}
    if not seqs:
        return out
    for r in s.scalars(select(ResultDocument).where(ResultDocument.change_seq.in_(seqs))
                       .order_by(ResultDocument.id)):
        out.setdefault(r.change_seq, []).append(_wire_result(r))
    return out


def _wire_result(r: ResultDocument) -> wire.ResultDocument:
    return wire.ResultDocument(
        GiayToId=str(r.id), TenGiayTo=r.name, MaThanhPhanHoSo=r.component_code,
        MaGiayToKetQua=r.number, DuongDanTepTinKetQua=wire.BLOB.format(sha256=r.sha256),
        TepSha256=r.sha256, KichThuoc=r.size, LoaiTep=r.media_type, NguoiKy=r.signer,
        NgayKy=r.signed_on)


def _wire_change(c: Change, results: dict[int, list[wire.ResultDocument]]) -> wire.Change:
    return wire.Change(seq=c.seq, ClientId=c.client_id, MaHoSo=c.ma_ho_so,
                       TrangThaiHoSo=c.status, ThoiDiem=c.at, NoiDungXuLy=c.note,
                       NguoiXuLy=c.actor, NgayCoKetQua=c.result_ready_at,
                       NgayHenTraMoi=c.new_appointment,
                       DanhSachGiayToKetQua=results.get(c.seq, []))


def result_blob_for(state: GatewayState, sha256: str, station_id: int,
                    agency_code: str) -> bool:
    """A result file may be downloaded by the station owning its dossier only (a dossier
    stored without a station, none today, is its agency's)."""
    with state.sessions() as s:
        owners = s.execute(select(Dossier.station_id, Dossier.agency_code)
                           .join(ResultDocument, ResultDocument.dossier_id == Dossier.id)
                           .where(ResultDocument.sha256 == sha256)).all()
    return any(agency == agency_code and (owner is None or owner == station_id)
               for owner, agency in owners)


_SEQ_MAX = 2**31 - 1  # Change.seq is an Integer column


def changes_since(state: GatewayState, agency_code: str, since: int,
                  limit: int) -> wire.ChangesBody:
    rows: Sequence[Change] = []
    # `changes.seq` is a 32-bit column (PostgreSQL refuses a larger operand): a cursor
    # beyond it has seen every change there can be.
    if since < _SEQ_MAX:
        with state.sessions() as s:
            rows = s.scalars(select(Change).where(Change.agency_code == agency_code,
                                                  Change.seq > since)
                             .order_by(Change.seq).limit(limit + 1)).all()
            results = _results_of(s, [c.seq for c in rows[:limit]])
    else:
        results = {}
    more = len(rows) > limit
    rows = rows[:limit]
    return wire.ChangesBody(changes=[_wire_change(c, results) for c in rows],
                            cursor=rows[-1].seq if rows else since, more=more)


@dataclass(frozen=True)
class DossierRow:
    id: int
    client_id: str
    ma_ho_so: str
    agency_code: str
    revision: int
    status: int
    procedure_code: str
    procedure_name: str
    received_at: str
    flags: tuple[str, ...] = ()  # DossierFlag kinds of any revision (wire.W_* words)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, str(self.status))

    @property
    def flag_labels(self) -> list[str]:
        return [FLAG_LABELS.get(f, f) for f in self.flags]


# What the province reads for each DossierFlag kind.
FLAG_LABELS = {wire.W_RECEIVED_IN_FUTURE: "Thời điểm tiếp nhận muộn hơn đồng hồ cổng tỉnh "
                                          "(đồng hồ máy trạm sai?)"}


def list_dossiers(state: GatewayState, agency_code: str | None = None,
                  limit: int = 500) -> list[DossierRow]:
    with state.sessions() as s:
        q = select(Dossier).order_by(Dossier.id.desc()).limit(limit)
        if agency_code:
            q = q.where(Dossier.agency_code == agency_code)
        rows = list(s.scalars(q))
        flags: dict[int, list[str]] = {}
        if rows:
            for dossier_id, kind in s.execute(
                    select(DossierFlag.dossier_id, DossierFlag.kind)
                    .where(DossierFlag.dossier_id.in_([d.id for d in rows]))
                    .order_by(DossierFlag.id)):
                if kind not in flags.setdefault(dossier_id, []):
                    flags[dossier_id].append(kind)
        return [DossierRow(d.id, d.client_id, d.ma_ho_so or "", d.agency_code, d.revision,
                           d.status, d.procedure_code, d.procedure_name, d.received_at,
                           tuple(flags.get(d.id, ())))
                for d in rows]
