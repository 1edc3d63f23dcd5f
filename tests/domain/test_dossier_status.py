"""The dossier status machine on the national TrangThaiHoSo codes."""

from __future__ import annotations

import itertools
import unicodedata

import pytest

from desktop_app.domain.dossier_status import (
    ALLOWED,
    DossierStatus,
    IllegalTransition,
    can_transition,
    check_transition,
)
from desktop_app.domain.errors import DomainError

pytestmark = pytest.mark.nodb

S = DossierStatus


def test_codes_are_the_national_ones() -> None:
    assert [int(s) for s in S] == list(range(1, 11))
    assert [s.name for s in S] == [
        "NEW", "RECEIVED", "NOT_ACCEPTED", "PROCESSING", "SUPPLEMENT_REQUESTED",
        "OBLIGATION_REQUESTED", "WITHDRAWN", "STOPPED", "RESULT_READY", "RETURNED",
    ]
    assert S(2) is S.RECEIVED and S(3) is S.NOT_ACCEPTED and S(5) is S.SUPPLEMENT_REQUESTED


def test_labels_are_distinct_vietnamese() -> None:
    labels = [s.label_vi for s in S]
    assert len(set(labels)) == len(labels)
    assert all(unicodedata.is_normalized("NFC", label) for label in labels)
    assert S.RECEIVED.label_vi == "Đã tiếp nhận"


def _path(*steps: DossierStatus) -> list[tuple[DossierStatus, DossierStatus]]:
    return list(itertools.pairwise(steps))


WORKFLOWS = {
    "ordinary": _path(S.RECEIVED, S.PROCESSING, S.RESULT_READY, S.RETURNED),
    "online registration": _path(S.NEW, S.RECEIVED, S.PROCESSING, S.RESULT_READY,
                                 S.RETURNED),
    "same-day commune procedure": _path(S.RECEIVED, S.RESULT_READY, S.RETURNED),
    "supplement then resume": _path(S.RECEIVED, S.PROCESSING, S.SUPPLEMENT_REQUESTED,
                                    S.PROCESSING, S.RESULT_READY, S.RETURNED),
    "supplement at intake": _path(S.NEW, S.SUPPLEMENT_REQUESTED, S.RECEIVED),
    "supplement never came": _path(S.SUPPLEMENT_REQUESTED, S.NOT_ACCEPTED),
    "fees then result": _path(S.PROCESSING, S.OBLIGATION_REQUESTED, S.PROCESSING,
                              S.RESULT_READY),
    "withdrawn": _path(S.RECEIVED, S.PROCESSING, S.WITHDRAWN),
    "stopped, notice handed over": _path(S.PROCESSING, S.STOPPED, S.RETURNED),
    "refused online registration": _path(S.NEW, S.NOT_ACCEPTED),
}


@pytest.mark.parametrize("steps", WORKFLOWS.values(), ids=WORKFLOWS.keys())
def test_real_workflows_are_allowed(steps: list[tuple[DossierStatus, DossierStatus]]) -> None:
    for old, new in steps:
        check_transition(old, new)
        assert can_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [(S.RETURNED, S.PROCESSING), (S.NOT_ACCEPTED, S.RECEIVED), (S.RECEIVED, S.RETURNED),
     (S.RECEIVED, S.RECEIVED), (S.WITHDRAWN, S.PROCESSING), (S.RESULT_READY, S.PROCESSING),
     (S.RESULT_READY, S.WITHDRAWN), (S.RECEIVED, S.NEW), (S.PROCESSING, S.RETURNED),
     (S.STOPPED, S.PROCESSING), (S.RECEIVED, S.NOT_ACCEPTED)],
)
def test_refused(old: DossierStatus, new: DossierStatus) -> None:
    assert not can_transition(old, new)
    with pytest.raises(IllegalTransition) as err:
        check_transition(old, new)
    assert isinstance(err.value, DomainError)
    assert old.label_vi in err.value.message_vi and new.label_vi in err.value.message_vi
    assert f"{int(old)} -> {int(new)}" in err.value.detail


@pytest.mark.parametrize(("old", "new"), list(itertools.product(S, S)))
def test_check_agrees_with_the_table(old: DossierStatus, new: DossierStatus) -> None:
    if new in ALLOWED[old]:
        check_transition(old, new)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(old, new)


def _reachable(start: DossierStatus) -> set[DossierStatus]:
    seen, frontier = {start}, [start]
    while frontier:
        for nxt in ALLOWED[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


def test_every_status_is_reachable() -> None:
    assert _reachable(S.NEW) == set(S)
    assert _reachable(S.RECEIVED) == set(S) - {S.NEW}


def test_terminals_are_final_and_every_dossier_can_end() -> None:
    terminals = {s for s in S if s.is_terminal}
    assert terminals == {S.RETURNED, S.NOT_ACCEPTED, S.WITHDRAWN}
    for terminal in terminals:
        assert not any(can_transition(terminal, s) for s in S)
    for status in S:
        assert _reachable(status) & terminals, status
        assert status not in ALLOWED[status]
    assert set(ALLOWED) == set(S)
