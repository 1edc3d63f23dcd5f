"""Changes of a dossier's appointment after intake.

The appointment printed on the receipt (``Dossier.appointment_at``) is a legal fact and is
never changed. A supplement, an apology, an extension, a pause or a date set by the
province is one append-only ``AppointmentChange`` row (old date, new date, reason, who,
when). Only a change that restarts the clock (a supplement received: a new receipt is
printed) moves the deadline lateness is judged against (``Dossier.due_at``); an apology
admits the delay and leaves the dossier late."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from local_db.models import AppointmentChange, Dossier


class ChangeKind(StrEnum):
    SUPPLEMENT = "supplement"  # complete dossier received after a supplement request
    APOLOGY = "apology"  # Circular 03/2025 form 04: apology and new appointment
    EXTENSION = "extension"  # extended by the processing agency
    PAUSE = "pause"  # processing paused (the clock stops)
    PROVINCE = "province"  # a new date pulled from the province, other than the above


# Kinds after which the law counts the time limit again from the new receipt.
RESTARTS_CLOCK = frozenset({ChangeKind.SUPPLEMENT, ChangeKind.PAUSE})

# How the tracking book's note names the document behind a change.
LABEL_VI = {
    ChangeKind.SUPPLEMENT: "nhận bổ sung",
    ChangeKind.APOLOGY: "văn bản xin lỗi",
    ChangeKind.EXTENSION: "gia hạn",
    ChangeKind.PAUSE: "tạm dừng",
    ChangeKind.PROVINCE: "cơ quan giải quyết",
}


def change_appointment(d: Dossier, kind: ChangeKind, new_at: datetime,
                       decided_at: datetime, reason: str = "", clerk_id: int | None = None,
                       decided_by: str = "") -> AppointmentChange:
    """Record a new appointment for ``d``: one event row; the receipt's appointment stays."""
    change = AppointmentChange(
        kind=kind.value, old_at=d.current_appointment_at, new_at=new_at,
        restarts_clock=kind in RESTARTS_CLOCK, reason=reason, clerk_id=clerk_id,
        decided_by=decided_by, decided_at=decided_at)
    d.appointment_changes.append(change)
    d.current_appointment_at = new_at
    if change.restarts_clock:
        d.due_at = new_at
    return change


def change_note(kind: str, new_at: datetime, decided_at: datetime) -> str:
    """The tracking book's words for one change, e.g.
    "Hẹn lại 15/12/2026 (văn bản xin lỗi 10/12/2026)"."""
    try:
        label = LABEL_VI[ChangeKind(kind)]
    except ValueError:
        label = kind
    return f"Hẹn lại {new_at:%d/%m/%Y} ({label} {decided_at:%d/%m/%Y})"
