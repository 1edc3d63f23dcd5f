"""Dossier status machine on the national TrangThaiHoSo codes (DOMAIN.md).

Codes: 1 newly registered (online) · 2 received · 3 not accepted · 4 processing ·
5 supplement requested · 6 financial obligation requested · 7 withdrawn by the citizen ·
8 processing stopped · 9 processed (result ready) · 10 result returned.

Workflow at a one-stop counter: an online registration (1) is received (2) or refused
(3); a received dossier is processed (4) — small commune procedures go straight to a
result (9) — and may wait for a supplement (5) or for fees/taxes (6) on the way; the
citizen may withdraw (7) until the result exists; the agency may stop processing (8) and
hands over its written notice like a result; the result is returned (10)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

from desktop_app.domain.errors import DomainError


class DossierStatus(IntEnum):
    NEW = 1                        # mới đăng ký (online, not yet received)
    RECEIVED = 2                   # đã tiếp nhận
    NOT_ACCEPTED = 3               # không được tiếp nhận (refused at the counter)
    PROCESSING = 4                 # đang xử lý
    SUPPLEMENT_REQUESTED = 5       # yêu cầu bổ sung
    OBLIGATION_REQUESTED = 6       # yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = 7                  # công dân yêu cầu rút hồ sơ
    STOPPED = 8                    # dừng xử lý
    RESULT_READY = 9               # đã xử lý xong
    RETURNED = 10                  # đã trả kết quả

    @property
    def label_vi(self) -> str:
        return _LABELS[self]

    @property
    def is_terminal(self) -> bool:
        """Nothing may follow: the dossier's life at the counter is over."""
        return not ALLOWED[self]


_LABELS = {
    DossierStatus.NEW: "Mới đăng ký",
    DossierStatus.RECEIVED: "Đã tiếp nhận",
    DossierStatus.NOT_ACCEPTED: "Từ chối tiếp nhận",
    DossierStatus.PROCESSING: "Đang xử lý",
    DossierStatus.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung",
    DossierStatus.OBLIGATION_REQUESTED: "Chờ thực hiện nghĩa vụ tài chính",
    DossierStatus.WITHDRAWN: "Công dân rút hồ sơ",
    DossierStatus.STOPPED: "Dừng xử lý",
    DossierStatus.RESULT_READY: "Đã có kết quả",
    DossierStatus.RETURNED: "Đã trả kết quả",
}

S = DossierStatus
ALLOWED: Mapping[DossierStatus, frozenset[DossierStatus]] = {
    S.NEW: frozenset({S.RECEIVED, S.NOT_ACCEPTED, S.SUPPLEMENT_REQUESTED, S.WITHDRAWN}),
    S.RECEIVED: frozenset({S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.OBLIGATION_REQUESTED,
                           S.WITHDRAWN, S.STOPPED, S.RESULT_READY}),
    S.PROCESSING: frozenset({S.SUPPLEMENT_REQUESTED, S.OBLIGATION_REQUESTED, S.WITHDRAWN,
                             S.STOPPED, S.RESULT_READY}),
    # The supplemented dossier is received again (new appointment) or given up.
    S.SUPPLEMENT_REQUESTED: frozenset({S.RECEIVED, S.PROCESSING, S.WITHDRAWN, S.STOPPED,
                                       S.NOT_ACCEPTED}),
    S.OBLIGATION_REQUESTED: frozenset({S.PROCESSING, S.RESULT_READY, S.WITHDRAWN, S.STOPPED}),
    # A result that is a written refusal is also handed over at the counter.
    S.RESULT_READY: frozenset({S.RETURNED}),
    S.STOPPED: frozenset({S.RETURNED}),
    S.NOT_ACCEPTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.RETURNED: frozenset(),
}
del S


class IllegalTransition(DomainError):
    pass


def can_transition(old: DossierStatus, new: DossierStatus) -> bool:
    return new in ALLOWED[old]


def check_transition(old: DossierStatus, new: DossierStatus) -> None:
    if not can_transition(old, new):
        raise IllegalTransition(
            f"Không thể chuyển hồ sơ từ trạng thái “{old.label_vi}” sang “{new.label_vi}”.",
            f"illegal transition {int(old)} -> {int(new)}",
        )
