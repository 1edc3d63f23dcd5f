"""The dossier status machine on the national TrangThaiHoSo codes."""

from __future__ import annotations

import pytest

from desktop_app.domain.dossier_status import (
    ALLOWED,
    DossierStatus,
    IllegalTransition,
    can_transition,
    check_transition,
)

S = DossierStatus


def test_codes_are_the_national_ones() -> None:
    assert [int(s) for s in S] == list(range(1, 11))
    assert (S.RECEIVED, S.NOT_ACCEPTED, S.SUPPLEMENT_REQUESTED, S.RETURNED) == (2, 3, 5, 10)


@pytest.mark.parametrize(
    ("old", "new"),
    [(S.NEW, S.RECEIVED), (S.RECEIVED, S.PROCESSING), (S.PROCESSING, S.SUPPLEMENT_REQUESTED),
     (S.SUPPLEMENT_REQUESTED, S.RECEIVED), (S.PROCESSING, S.RESULT_READY),
     (S.RESULT_READY, S.RETURNED), (S.RECEIVED, S.WITHDRAWN), (S.STOPPED, S.RETURNED)],
)
def test_allowed(old: DossierStatus, new: DossierStatus) -> None:
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [(S.RETURNED, S.PROCESSING), (S.NOT_ACCEPTED, S.RECEIVED), (S.RECEIVED, S.RETURNED),
     (S.RECEIVED, S.RECEIVED), (S.WITHDRAWN, S.PROCESSING), (S.RESULT_READY, S.PROCESSING)],
)
def test_refused(old: DossierStatus, new: DossierStatus) -> None:
    with pytest.raises(IllegalTransition) as err:
        check_transition(old, new)
    assert old.label_vi in err.value.message_vi and new.label_vi in err.value.message_vi


def test_every_status_is_reachable_and_terminals_are_final() -> None:
    seen, frontier = {S.NEW}, [S.NEW]
    while frontier:
        for nxt in ALLOWED[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S)
    for terminal in (S.RETURNED, S.NOT_ACCEPTED, S.WITHDRAWN):
        assert not any(can_transition(terminal, s) for s in S)
