"""Read side of dossiers: home counts, search, detail with history, stored slips.

Returns plain dataclasses so the Qt layer never touches ORM objects or sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from desktop_app.context import AppContext
from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import fold, vi_sort_key
from desktop_app.fees import statement_of
from local_db import report_queries
from local_db import repositories as repo
from local_db.models import ComponentFile, Dossier

AUDIT_LABELS_VI = {
    "dossier_received": "Tiếp nhận hồ sơ, in giấy tiếp nhận và hẹn trả kết quả",
    "dossier_supplement_requested": "Lập phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "dossier_refused": "Lập phiếu từ chối tiếp nhận hồ sơ",
    "slip_reprinted": "In lại phiếu",
    "component_digitized": "Số hóa thành phần hồ sơ",
    "dossier_synced": "Đã gửi lên hệ thống một cửa của tỉnh",
    "sync_refused": "Hệ thống tỉnh từ chối bản gửi (cần lãnh đạo xem)",
    "status_pulled": "Tỉnh cập nhật trạng thái",
    "dossier_returned": "Trả kết quả",
    "dossier_supplement_received": "Tiếp nhận hồ sơ bổ sung, hẹn lại ngày trả kết quả",
    "dossier_withdrawn": "Công dân rút hồ sơ",
    "dossier_stop_notice": "In thông báo dừng giải quyết hồ sơ",
    "dossier_apology": "Lập văn bản xin lỗi và đề nghị gia hạn",
    "blob_purged": "Xóa tệp trên máy sau thời hạn lưu (tỉnh đã lưu bản đầy đủ)",
}


def describe_audit(action: str, detail: dict[str, Any]) -> str:
    """One line of the dossier timeline, with the facts that matter to the clerk."""
    text = AUDIT_LABELS_VI.get(action, action)
    try:
        if action == "status_pulled":
            text += f": {DossierStatus(int(detail['to'])).label_vi}"
            if detail.get("note"):
                text += f" — {detail['note']}"
        elif action == "dossier_returned":
            how = "qua bưu chính" if detail.get("method") == "post" else "tại quầy"
            who = "" if detail.get("owner", True) else " (người được ủy quyền)"
            text += f" cho {detail.get('receiver', '')}{who}, {how}"
        elif action == "dossier_apology":
            when = datetime.fromisoformat(str(detail["new_appointment"]))
            text += f": hẹn lại {when:%H:%M %d/%m/%Y} — {detail.get('reason', '')}"
        elif action in ("dossier_withdrawn", "dossier_stop_notice") and detail.get("reason"):
            text += f": {detail['reason']}"
        elif action == "blob_purged":
            text += f": {len(detail['blobs'])} tệp, {detail['bytes'] / 1_048_576:.1f} MB"
        elif action == "dossier_synced" and detail.get("revision", 1) != 1:
            text += f" (phiên bản {detail['revision']})"
    except (KeyError, ValueError, TypeError):
        pass  # an older entry without these details still shows its label
    return text

OUTBOX_LABELS_VI = {
    "pending": "Chưa đồng bộ",
    "sending": "Đang gửi",
    "failed": "Gửi lỗi, sẽ thử lại",
    "sent": "Đã đồng bộ",
}


@dataclass(frozen=True)
class SearchFilters:
    status: int | None = None
    procedure_code: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    clerk_id: int | None = None
    late: bool | None = None  # True: late; False: on time; None: either


@dataclass(frozen=True)
class StoredSlip:
    reference: str  # the dossier code, or the slip number when no code was consumed
    pdf: bytes


@dataclass(frozen=True)
class DossierRow:
    id: int
    reference: str  # dossier code, or the slip number when no code was consumed
    code: str | None
    status: DossierStatus
    owner_name: str
    owner_id_number: str
    owner_phone: str
    procedure_name: str
    received_at: datetime
    appointment_at: datetime | None  # printed on the receipt
    sync_state: str
    current_appointment_at: datetime | None = None  # the date last given, when changed

    @property
    def status_label(self) -> str:
        return self.status.label_vi

    @property
    def sync_label(self) -> str:
        return OUTBOX_LABELS_VI.get(self.sync_state, self.sync_state)


@dataclass(frozen=True)
class ComponentRow:
    name: str
    originals: int
    certified_copies: int
    photocopies: int
    provided: bool
    problem: str
    files: tuple[str, ...] = ()  # current digitized files, one label each


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str
    what: str


@dataclass(frozen=True)
class PersonRow:
    full_name: str
    id_number: str
    birth_date: date | None
    sex: str
    address: str
    phone: str
    email: str


@dataclass(frozen=True)
class DossierDetail:
    row: DossierRow
    uuid: str
    slip_number: str
    procedure_code: str
    owner: PersonRow
    submitter: PersonRow | None
    components: tuple[ComponentRow, ...]
    set_count: int
    delivery: str
    delivery_address: str
    fee_total: int
    fee_summary: str  # owed, recorded as paid (receipt numbers), still to collect
    reason: str
    note: str
    book_number: str
    sequence_number: int | None
    clerk_name: str
    has_slip: bool
    history: tuple[HistoryRow, ...]


@dataclass(frozen=True)
class HomeCounts:
    received_today: int
    supplement_today: int
    refused_today: int
    due_today: int
    unsynced: int
    oldest_unsynced: datetime | None


class DossierNotFound(DomainError):
    pass


def _person(a: object | None) -> PersonRow | None:
    if a is None:
        return None
    return PersonRow(a.full_name, a.id_number, a.birth_date, a.sex, a.address,  # type: ignore[attr-defined]
                     a.phone, a.email)  # type: ignore[attr-defined]


def _row(d: Dossier, sync_state: str) -> DossierRow:
    return DossierRow(
        id=d.id,
        reference=d.code or d.slip_number,
        code=d.code,
        status=DossierStatus(d.status),
        owner_name=d.owner.full_name,
        owner_id_number=d.owner.id_number,
        owner_phone=d.owner.phone,
        procedure_name=d.procedure_name,
        received_at=d.received_at,
        appointment_at=d.appointment_at,
        sync_state=sync_state,
        current_appointment_at=d.current_appointment_at
        if d.current_appointment_at != d.appointment_at else None,
    )


def _file_label(f: ComponentFile) -> str:
    part = f", phần {f.part}/{f.parts}" if f.parts > 1 else ""
    size = f"{f.size / 1_048_576:.1f}".replace(".", ",")
    return f"{f.file_name}: {f.pages} trang, {f.dpi} dpi, {size} MB{part}"


class DossierQueries:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def home_counts(self) -> HomeCounts:
        today = self.ctx.clock.now().date()
        start = datetime.combine(today, datetime.min.time())
        end = start + timedelta(days=1)
        with self.ctx.db.read() as s:
            # Counted from what was recorded at the counter, as the dashboard counts: a
            # dossier received today stays received today whatever its status now.
            return HomeCounts(
                received_today=report_queries.count_received(s, start, end),
                supplement_today=report_queries.supplement_requests_count(s, start, end),
                refused_today=report_queries.refused_count(s, start, end),
                due_today=repo.count_due_between(s, start, end),
                unsynced=repo.pending_outbox_count(s),
                oldest_unsynced=repo.oldest_pending_outbox(s),
            )

    def search(self, query: str, limit: int = 200,
               filters: SearchFilters | None = None) -> list[DossierRow]:
        """By code, slip number, name (with or without diacritics), ID number or phone,
        narrowed by the look-up filters."""
        f = filters or SearchFilters()
        where = repo.dossier_filters(
            status=f.status, procedure_code=f.procedure_code,
            received_from=datetime.combine(f.date_from, datetime.min.time())
            if f.date_from else None,
            received_before=datetime.combine(f.date_to + timedelta(days=1),
                                             datetime.min.time()) if f.date_to else None,
            clerk_id=f.clerk_id, late=f.late, now=self.ctx.clock.now())
        with self.ctx.db.read() as s:
            rows = repo.search_dossiers(s, fold(query), limit, where)
            states = repo.sync_states(s, [d.uuid for d in rows])
            return [_row(d, states.get(d.uuid, "pending")) for d in rows]

    def filter_choices(self) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
        """(procedure code, name) of procedures that have dossiers, and (id, name) of
        clerks, for the look-up filters."""
        with self.ctx.db.read() as s:
            procs = sorted(repo.procedures_with_dossiers(s), key=lambda p: vi_sort_key(p[1]))
            clerks = sorted(((c.id, c.full_name) for c in repo.list_clerks(s)),
                            key=lambda c: vi_sort_key(c[1]))
        return procs, clerks

    def detail(self, dossier_id: int) -> DossierDetail:
        with self.ctx.db.read() as s:
            d = repo.dossier_by_id(s, dossier_id)
            if d is None:
                raise DossierNotFound("Không tìm thấy hồ sơ.", f"dossier id {dossier_id}")
            states = repo.sync_states(s, [d.uuid])
            names = {c.id: c.full_name for c in repo.list_clerks(s)}
            history = tuple(
                HistoryRow(a.at, names.get(a.clerk_id or -1, "Hệ thống"),
                           describe_audit(a.action, a.detail or {}))
                for a in repo.audit_for(s, "dossier", d.uuid)
            )
            outbox = repo.outbox_for(s, "dossier", d.uuid)
            sync_history = tuple(
                HistoryRow(o.sent_at or o.created_at, "Hệ thống",
                           f"Đồng bộ lên hệ thống một cửa tỉnh: "
                           f"{OUTBOX_LABELS_VI.get(o.state, o.state).lower()}"
                           + (f" ({o.last_error})" if o.last_error else ""))
                for o in outbox if o.state != "sent"  # sent ones are in the audit log
            )
            return DossierDetail(
                row=_row(d, states.get(d.uuid, "pending")),
                uuid=d.uuid,
                slip_number=d.slip_number,
                procedure_code=d.procedure_code,
                owner=_person(d.owner),  # type: ignore[arg-type]
                submitter=_person(d.submitter),
                components=tuple(
                    ComponentRow(c.name, c.originals, c.certified_copies, c.photocopies,
                                 c.provided, c.problem,
                                 tuple(_file_label(f) for f in c.files
                                       if f.superseded_at is None))
                    for c in d.components
                ),
                set_count=d.set_count,
                delivery=d.delivery,
                delivery_address=d.delivery_address,
                fee_total=d.fee_total,
                fee_summary=statement_of(d).summary_vi(),
                reason=d.reason,
                note=d.note,
                book_number=d.book_number,
                sequence_number=d.sequence_number,
                clerk_name=d.clerk.full_name,
                # Every intake gives a slip; one not stored yet is drawn when opened.
                has_slip=True,
                history=tuple(sorted(history + sync_history, key=lambda h: h.at)),
            )

    def stored_slip(self, dossier_id: int) -> StoredSlip:
        """The PDF exactly as it was printed at the counter (from the blob store), with
        the code (or slip number) it was printed for."""
        with self.ctx.db.read() as s:
            d = repo.dossier_by_id(s, dossier_id)
            if d is None:
                raise DossierNotFound("Hồ sơ này không có phiếu đã in.",
                                      f"dossier id {dossier_id} has no slip")
            sha, reference = d.slip_blob, d.code or d.slip_number
        if sha is None:  # the intake stopped before its slip was stored: draw it now
            from desktop_app.intake.service import IntakeService
            return StoredSlip(reference, IntakeService(self.ctx).ensure_slip(dossier_id)[0])
        return StoredSlip(reference, self.ctx.blobs.read_bytes(sha))
