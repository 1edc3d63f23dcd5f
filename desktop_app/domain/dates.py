"""Dates as the clerk types them at the counter."""

from __future__ import annotations

import re
from datetime import date

from desktop_app.domain.errors import DomainError

_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def parse_birth_date(text: str) -> date | None:
    """A birth date typed as day/month/year, the Vietnamese order: one or two digits for
    the day and the month, four for the year, separated by "/", "." or "-" ("05/11/1988",
    "5.11.1988", "5-11-1988"). Surrounding spaces are ignored; an empty field is ``None``
    (the birth date is optional). Anything else, or a day that does not exist
    ("31/02/1990"), raises a ``DomainError`` saying so in Vietnamese."""
    text = text.strip()
    if not text:
        return None
    m = _DAY_MONTH_YEAR.fullmatch(text)
    if not m:
        raise DomainError(f"Ngày sinh “{text}” phải có dạng ngày/tháng/năm, ví dụ 05/11/1988.",
                          f"bad date {text!r}")
    try:
        return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError as exc:
        raise DomainError(f"Ngày sinh “{text}” không tồn tại.", f"bad date {text!r}") from exc
