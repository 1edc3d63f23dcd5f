"""Values the reports produce (tracking book, counter dashboard). Shared by the report
service (`desktop_app/reports.py`), the documents that print them and the Qt dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class TrackingBookRow:
    """One line of the tracking book (Sổ theo dõi hồ sơ, Circular 03/2025 form 07)."""

    number: int  # số thứ tự in the book
    code: str  # mã hồ sơ
    content: str  # procedure name (nội dung / tên thủ tục)
    count: int  # number of dossier sets (số lượng hồ sơ)
    owner: str
    address: str
    phone: str
    received_at: datetime
    appointment_at: datetime | None  # printed on the receipt (never changed)
    returned_at: datetime | None
    returned_to: str  # who received the result
    clerk: str  # receiving official
    locality: str  # địa bàn (commune / ward of the owner's address)
    notes: str  # late, withdrawn, stopped, supplement, each new appointment…
    status: int
    current_appointment_at: datetime | None = None  # the date last given, if changed
    late: bool = False  # past the legal deadline (report_queries.late_condition)


@dataclass(frozen=True)
class DayCount:
    day: date
    received: int
    returned: int


@dataclass(frozen=True)
class ProcedureCount:
    code: str
    name: str
    received: int
    late: int  # returned after the appointment, or still open past it


@dataclass(frozen=True)
class DashboardFigures:
    start: date
    end: date  # inclusive
    received: int
    returned: int
    returned_on_time: int
    on_time_rate: float | None  # returned on time / returned; None when nothing returned
    digitized_share: float | None  # dossiers whose every provided component has a file
    sync_lag_median_s: float | None  # receipt → acknowledged by the province
    sync_lag_p95_s: float | None
    unsynced: int
    late_open: int  # open and past the legal deadline (an apology does not change it)
    # The province's three figures (README, "Ba chỉ số của tỉnh"), each a count over its
    # base. Electronic results and digitized dossier + result are about the dossiers
    # returned in the period (base: ``returned``); reuse is about the dossiers received
    # in it (base: ``received``).
    electronic_results: int = 0  # result file from the province, or handed electronically
    electronic_results_of: int = 0
    electronic_results_share: float | None = None
    digitized_with_result: int = 0  # every provided component and the result digitized
    digitized_with_result_of: int = 0
    digitized_with_result_share: float | None = None
    reused: int = 0  # at least one component reused from an earlier digitized copy
    reused_of: int = 0
    reuse_share: float | None = None
    per_day: list[DayCount] = field(default_factory=list)
    top_procedures: list[ProcedureCount] = field(default_factory=list)
    late_by_procedure: list[ProcedureCount] = field(default_factory=list)
