"""Reports of the counter: the tracking book (Sổ theo dõi hồ sơ, Circular 03/2025 form 07)
and the counter dashboard figures.

Dates in this API are calendar days with an inclusive end (what a clerk types: "from
01/10 to 31/10"); the queries below use the half-open interval ``[start 00:00, end+1
00:00)``. Exports are written atomically: a half-written file never replaces a good one.
"""

from __future__ import annotations

import contextlib
import logging
import re
import statistics
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from math import ceil
from pathlib import Path
from typing import IO, Literal

from desktop_app.appointments import change_note
from desktop_app.context import AppContext
from desktop_app.documents.tracking_book import (
    BookHeader,
    render_tracking_book_pdf,
    render_tracking_book_xlsx,
)
from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import fold, nfc
from desktop_app.files import atomic_writer
from desktop_app.report_model import DashboardFigures, DayCount, ProcedureCount, TrackingBookRow
from desktop_app.station import StationService
from local_db import report_queries as q

log = logging.getLogger(__name__)

BookFormat = Literal["pdf", "xlsx"]
FORMATS: tuple[BookFormat, ...] = ("pdf", "xlsx")
TOP_PROCEDURES = 10

# Notes column (Ghi chú) wording.
NOTE_LATE = "Trễ hạn"
NOTE_ON_TIME = "Đúng hạn"
NOTE_WITHDRAWN = "Đã rút hồ sơ"
NOTE_STOPPED = "Dừng xử lý"
NOTE_SUPPLEMENT = "Yêu cầu bổ sung"
NOTE_OBLIGATION = "Chờ thực hiện nghĩa vụ tài chính"
NOTE_READY = "Đã có kết quả"
NOTE_POST = "Trả qua bưu chính"

# Commune-level unit names (folded) that open the locality segment of an address.
_LOCALITY_PREFIXES = ("xa ", "phuong ", "thi tran ")


# --- row helpers (pure, tested directly) ----------------------------------------------


def locality_of(address: str) -> str:
    """The commune/ward part of an address (địa bàn).

    The comma-separated segment that starts with "Xã", "Phường" or "Thị trấn" (any case,
    with or without diacritics); otherwise, for an address of at least three parts, the
    second-to-last part (village, commune, province). Shorter addresses give "": their
    parts cannot be told apart."""
    parts = [p for p in (nfc(x) for x in nfc(address).split(",")) if p]
    for part in parts:
        if fold(part).startswith(_LOCALITY_PREFIXES):
            return part[:1].upper() + part[1:]
    return parts[-2] if len(parts) >= 3 else ""


def book_notes(status: int, late: bool, returned_at: datetime | None, return_method: str,
               changes: Sequence[q.ChangeRecord] = ()) -> str:
    """The Ghi chú of a book line: how the dossier ended or where it stands, then each
    new appointment it was given since the receipt ("Hẹn lại … (văn bản xin lỗi …)").

    ``late`` is :func:`local_db.report_queries.late_condition` at the book's time: the
    one rule, judged against the legal deadline, never against an apology's date."""
    notes: list[str] = []
    if status == DossierStatus.WITHDRAWN:
        notes.append(NOTE_WITHDRAWN)
    elif status == DossierStatus.STOPPED:
        notes.append(NOTE_STOPPED)
    elif returned_at is not None:
        notes.append(NOTE_LATE if late else NOTE_ON_TIME)
        if return_method == "post":
            notes.append(NOTE_POST)
    else:
        if status == DossierStatus.SUPPLEMENT_REQUESTED:
            notes.append(NOTE_SUPPLEMENT)
        elif status == DossierStatus.OBLIGATION_REQUESTED:
            notes.append(NOTE_OBLIGATION)
        elif status == DossierStatus.RESULT_READY:
            notes.append(NOTE_READY)
        if late:
            notes.append(NOTE_LATE)
    notes.extend(change_note(c.kind, c.new_at, c.decided_at) for c in changes)
    return "; ".join(notes)


def _row(record: q.BookRecord, number: int, changes: Sequence[q.ChangeRecord] = ()
         ) -> TrackingBookRow:
    return TrackingBookRow(
        number=number,
        code=record.code,
        content=nfc(record.procedure_name),
        count=record.set_count,
        owner=nfc(record.owner_name),
        address=nfc(record.owner_address),
        phone=nfc(record.owner_phone),
        received_at=record.received_at,
        appointment_at=record.appointment_at,
        returned_at=record.returned_at,
        returned_to=nfc(record.returned_to),
        clerk=nfc(record.clerk_name),
        locality=locality_of(record.owner_address),
        notes=book_notes(record.status, record.late, record.returned_at,
                         record.return_method, changes),
        status=record.status,
        current_appointment_at=record.current_appointment_at,
        late=record.late,
    )


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (the value below which ``p`` % of the values lie)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, ceil(p / 100 * len(ordered)) - 1)]


def _share(count: int, of: int) -> float | None:
    return count / of if of else None


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Inclusive calendar days to the half-open datetime interval of the queries."""
    if start > end:
        raise DomainError(
            f"Ngày bắt đầu ({start:%d/%m/%Y}) phải trước hoặc trùng ngày kết thúc "
            f"({end:%d/%m/%Y}).", f"bad period {start} > {end}")
    return datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())


# --- atomic output ---------------------------------------------------------------------


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[IO[bytes]]:
    """``files.atomic_writer`` with the clerk's messages: the target is replaced only once
    fully written and flushed to disk; on any error it is intact."""
    folder = target.parent
    if not folder.is_dir():
        raise DomainError(f"Thư mục “{folder}” không tồn tại; hãy chọn nơi lưu khác.",
                          f"missing folder {folder}")
    try:
        with atomic_writer(target) as f:
            yield f
    except OSError as exc:
        raise DomainError(f"Không ghi được tệp “{target}”: tệp đang mở trong chương "
                          "trình khác, không có quyền ghi hoặc đĩa đầy.",
                          f"write {target}: {exc!r}") from exc


# --- service ---------------------------------------------------------------------------


class ReportService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def tracking_book(self, start: date, end: date, now: datetime | None = None
                      ) -> Iterator[TrackingBookRow]:
        """Book lines of the dossiers received from ``start`` to ``end`` (inclusive), in
        book order, streamed from the database.

        ``number`` is the dossier's sequence number in the book (Số thứ tự printed on its
        receipt); a dossier without one (imported history) gets its position in this
        listing. The read session stays open until the iterator is exhausted or closed."""
        lo, hi = period_bounds(start, end)
        now = now or self.ctx.clock.now()
        with self.ctx.db.read() as s:
            changes = q.appointment_changes(s, lo, hi)
            for i, record in enumerate(q.tracking_book_records(s, lo, hi, now), 1):
                number = record.sequence_number if record.sequence_number is not None else i
                yield _row(record, number, changes.get(record.id, ()))

    def dashboard(self, start: date, end: date, now: datetime | None = None
                  ) -> DashboardFigures:
        """Figures of the counter for the days ``start``–``end`` (inclusive).

        received/returned/on time and the per-day counts are about events inside the
        period (a result returned in the period counts whenever the dossier came in);
        digitized share, reuse share, sync lag and the per-procedure figures are about
        the dossiers received in the period; the electronic results share and the
        digitized dossier + result share are about the dossiers returned in it (a result
        exists only once the dossier is resolved); ``late_open`` is the backlog at
        ``now`` of dossiers received up to the end of the period."""
        lo, hi = period_bounds(start, end)
        now = now or self.ctx.clock.now()
        with self.ctx.db.read() as s:
            received_days = q.received_per_day(s, lo, hi)
            returned_days = {r.day: r for r in q.returned_per_day(s, lo, hi)}
            late_open = q.late_open_count(s, now, hi)
            tallies = q.procedure_tallies(s, lo, hi, now)
            digitized = q.digitized_count(s, lo, hi)
            lags, unsynced = q.sync_lags(s, lo, hi)
            electronic = q.electronic_results_count(s, lo, hi)
            with_result = q.digitized_with_result_count(s, lo, hi)
            reused = q.reused_count(s, lo, hi)
        received = sum(received_days.values())
        returned = sum(r.returned for r in returned_days.values())
        on_time = sum(r.on_time for r in returned_days.values())
        per_day = []
        day = start
        while day <= end:
            back = returned_days.get(day)
            per_day.append(DayCount(day, received_days.get(day, 0), back.returned if back else 0))
            day += timedelta(days=1)
        by_late = sorted((t for t in tallies if t.late), key=lambda t: (-t.late, -t.received,
                                                                        t.code))
        return DashboardFigures(
            start=start,
            end=end,
            received=received,
            returned=returned,
            returned_on_time=on_time,
            on_time_rate=on_time / returned if returned else None,
            digitized_share=digitized / received if received else None,
            sync_lag_median_s=statistics.median(lags) if lags else None,
            sync_lag_p95_s=percentile(lags, 95),
            unsynced=unsynced,
            late_open=late_open,
            electronic_results=electronic,
            electronic_results_of=returned,
            electronic_results_share=_share(electronic, returned),
            digitized_with_result=with_result,
            digitized_with_result_of=returned,
            digitized_with_result_share=_share(with_result, returned),
            reused=reused,
            reused_of=received,
            reuse_share=_share(reused, received),
            per_day=per_day,
            top_procedures=[ProcedureCount(t.code, t.name, t.received, t.late)
                            for t in tallies[:TOP_PROCEDURES]],
            late_by_procedure=[ProcedureCount(t.code, t.name, t.received, t.late)
                               for t in by_late[:TOP_PROCEDURES]],
        )

    def refused(self, start: date, end: date) -> int:
        """Refusals issued in the period (not dossiers of the book: they have no code)."""
        lo, hi = period_bounds(start, end)
        with self.ctx.db.read() as s:
            return q.refused_count(s, lo, hi)

    def export_tracking_book(self, start: date, end: date, target: Path,
                             fmt: BookFormat | None = None) -> Path:
        """Write the tracking book of the period to ``target`` as PDF or XLSX (``fmt``, or
        the file's extension when not given). Returns ``target``."""
        fmt = fmt or _format_of(target)
        if fmt not in FORMATS:
            raise DomainError("Sổ theo dõi chỉ xuất được dạng PDF (.pdf) hoặc Excel (.xlsx).",
                              f"bad format {fmt!r}")
        period_bounds(start, end)  # validate before touching the disk
        station = StationService(self.ctx).get()
        header = BookHeader(
            agency_name=station.agency_name if station else "",
            parent_name=station.parent_name if station else "",
            start=start,
            end=end,
            book_number=station.book_number if station else "",
        )
        now = self.ctx.clock.now()
        with atomic_output(target) as out, contextlib.closing(
                self.tracking_book(start, end, now)) as rows:
            if fmt == "pdf":
                stats = render_tracking_book_pdf(rows, header, out)
            else:
                stats = render_tracking_book_xlsx(rows, header, out)
        log.info("tracking book %s..%s: %d rows, %d pages -> %s", start, end, stats.rows,
                 stats.pages, target)
        return target


def _format_of(target: Path) -> str:
    return re.sub(r"^\.", "", target.suffix.lower())
