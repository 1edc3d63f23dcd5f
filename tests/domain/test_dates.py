"""Birth dates typed by the clerk: day/month/year, or nothing."""

from __future__ import annotations

from datetime import date

import pytest

from desktop_app.domain.dates import parse_birth_date
from desktop_app.domain.errors import DomainError


@pytest.mark.parametrize(("typed", "expected"), [
    ("05/11/1988", date(1988, 11, 5)),
    ("5/11/1988", date(1988, 11, 5)),
    ("5.11.1988", date(1988, 11, 5)),
    ("05-11-1988", date(1988, 11, 5)),
    ("1/2/2001", date(2001, 2, 1)),  # day first, never the US order
    ("  29/02/2024 ", date(2024, 2, 29)),
    ("31/12/1950", date(1950, 12, 31)),
    ("", None),
    ("   ", None),
])
def test_accepted(typed: str, expected: date | None) -> None:
    assert parse_birth_date(typed) == expected


@pytest.mark.parametrize(("typed", "message"), [
    ("1988-11-05", "phải có dạng ngày/tháng/năm"),  # ISO order
    ("05/11/88", "phải có dạng ngày/tháng/năm"),  # two-digit year
    ("05 11 1988", "phải có dạng ngày/tháng/năm"),
    ("5 tháng 11 năm 1988", "phải có dạng ngày/tháng/năm"),
    ("05/11/1988 x", "phải có dạng ngày/tháng/năm"),
    ("005/11/1988", "phải có dạng ngày/tháng/năm"),
    ("31/02/1990", "không tồn tại"),
    ("29/02/2023", "không tồn tại"),
    ("00/01/1990", "không tồn tại"),
    ("12/13/1990", "không tồn tại"),
])
def test_refused_with_a_vietnamese_message(typed: str, message: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_birth_date(typed)
    assert message in err.value.message_vi
    assert typed.strip() in err.value.message_vi
