"""Working-day calendar and appointments: DOMAIN.md rules, real holidays, properties."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.domain.calendar import (
    CalendarOverride,
    TimeUnit,
    WorkingCalendar,
    WorkingHours,
    compute_appointment,
    working_minutes_between,
)
from desktop_app.domain.errors import DomainError

pytestmark = pytest.mark.nodb

CAL = WorkingCalendar()
WD, WH, CD, SD = (TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS, TimeUnit.CALENDAR_DAYS,
                  TimeUnit.SAME_DAY)


@pytest.mark.parametrize(
    ("received", "amount", "unit", "expected"),
    [
        # DOMAIN.md example.
        (datetime(2023, 10, 27, 9, 32), 5, WD, datetime(2023, 11, 3, 9, 32)),
        # After 17:00 counts from the next working morning.
        (datetime(2023, 10, 27, 17, 45), 1, WD, datetime(2023, 10, 30, 17, 0)),
        # Before 07:00 counts from 07:00; during lunch from 13:30.
        (datetime(2023, 10, 25, 6, 10), 0.5, WD, datetime(2023, 10, 25, 11, 0)),
        (datetime(2023, 10, 25, 12, 0), 4, WH, datetime(2023, 10, 26, 7, 30)),
        # Working hours across lunch: 10:00 + 3 h = 11:30 (1 h 30) then 13:30 + 1 h 30.
        (datetime(2023, 10, 25, 10, 0), 3, WH, datetime(2023, 10, 25, 15, 0)),
        # Tết 2024 (08/02–14/02): 3 working days from Wednesday 07/02 end on Monday 19/02.
        (datetime(2024, 2, 7, 8, 0), 3, WD, datetime(2024, 2, 19, 8, 0)),
        # 30/4–1/5/2025 and the 02/05 swap day: from Tuesday 29/04 10:00, 1 day → 05/05.
        (datetime(2025, 4, 29, 10, 0), 1, WD, datetime(2025, 5, 5, 10, 0)),
        # Same day: before 15:00 → 17:00 today; after → 17:00 next working day.
        (datetime(2023, 10, 26, 14, 59), 0, SD, datetime(2023, 10, 26, 17, 0)),
        (datetime(2023, 10, 26, 15, 0), 0, SD, datetime(2023, 10, 27, 17, 0)),
        (datetime(2023, 10, 27, 15, 30), 0, SD, datetime(2023, 10, 30, 17, 0)),
        (datetime(2023, 10, 28, 9, 0), 0, SD, datetime(2023, 10, 30, 17, 0)),
        # Calendar days ending on a Sunday → end of the next working day.
        (datetime(2023, 10, 27, 9, 0), 30, CD, datetime(2023, 11, 27, 17, 0)),
        (datetime(2023, 10, 20, 9, 0), 7, CD, datetime(2023, 10, 27, 9, 0)),
        # Calendar days ending on 2/9/2024 (holiday, Monday) → Wednesday 04/09 17:00.
        (datetime(2024, 8, 3, 9, 0), 30, CD, datetime(2024, 9, 4, 17, 0)),
    ],
)
def test_appointment_table(received: datetime, amount: float, unit: TimeUnit,
                           expected: datetime) -> None:
    assert compute_appointment(received, amount, unit, CAL) == expected


@pytest.mark.parametrize(
    ("day", "working", "reason_part"),
    [
        (date(2025, 1, 29), False, "Tết"),
        (date(2024, 4, 18), False, "Hùng"),
        (date(2024, 4, 29), False, "nghỉ"),
        (date(2024, 5, 4), True, "bù"),  # Saturday worked in exchange for 29/04/2024
        (date(2023, 9, 4), False, "Quốc khánh"),
        (date(2023, 10, 28), False, "Thứ Bảy"),
        (date(2023, 10, 27), True, ""),
    ],
)
def test_days(day: date, working: bool, reason_part: str) -> None:
    info = CAL.day_info(day)
    assert info.working is working
    assert reason_part in info.reason


def test_provincial_overrides_win() -> None:
    cal = WorkingCalendar([
        CalendarOverride(date(2023, 10, 30), "off", "Nghỉ bù theo thông báo của tỉnh"),
        CalendarOverride(date(2023, 10, 28), "work", "Làm bù"),
    ])
    assert cal.is_working_day(date(2023, 10, 28))
    assert not cal.is_working_day(date(2023, 10, 30))
    # Friday 15:30 same-day: the Saturday make-up day is the next working day.
    assert compute_appointment(datetime(2023, 10, 27, 15, 30), 0, SD, cal) == datetime(
        2023, 10, 28, 17, 0)
    assert [d.day for d in cal.year_table(2023) if d.reason == "Làm bù"] == [date(2023, 10, 28)]


def test_provincial_overrides_win_over_the_holidays_library() -> None:
    """On days the `holidays` package itself decides (a public holiday, a make-up
    Saturday), the province's word still wins: pinning a holidays release must never be
    what decides an appointment the province changed."""
    import holidays

    lib = holidays.country_holidays("VN", years=2024)
    assert date(2024, 9, 2) in lib  # National Day, per the library
    assert date(2024, 5, 4) in lib.weekend_workdays  # make-up Saturday, per the library
    assert not CAL.is_working_day(date(2024, 9, 2)) and CAL.is_working_day(date(2024, 5, 4))
    cal = WorkingCalendar([
        CalendarOverride(date(2024, 9, 2), "work", "Trực tiếp nhận hồ sơ theo thông báo"),
        CalendarOverride(date(2024, 5, 4), "off", "Tỉnh không làm bù ngày này"),
    ])
    assert cal.day_info(date(2024, 9, 2)).working
    assert cal.day_info(date(2024, 9, 2)).reason == "Trực tiếp nhận hồ sơ theo thông báo"
    assert not cal.is_working_day(date(2024, 5, 4))
    # Friday 3 May 16:00 + 1 working day: Saturday 4 is off now, Monday 6 May it is.
    assert compute_appointment(datetime(2024, 5, 3, 16, 0), 1, WD, cal).date() == date(2024, 5, 6)
    assert compute_appointment(datetime(2024, 5, 3, 16, 0), 1, WD, CAL).date() == date(2024, 5, 4)


def test_configurable_hours_and_invalid_hours() -> None:
    cal = WorkingCalendar(hours=WorkingHours(morning_start=time(7, 30), morning_end=time(11, 30),
                                             afternoon_start=time(13, 0),
                                             afternoon_end=time(16, 30)))
    assert cal.hours.minutes_per_day == 7 * 60 + 30
    assert compute_appointment(datetime(2023, 10, 26, 9, 0), 0, SD, cal).time() == time(16, 30)
    with pytest.raises(DomainError):
        WorkingHours(morning_start=time(12, 0))


def test_year_2024_working_days() -> None:
    # 262 weekdays, 11 of them holidays/swap days off, plus the Saturday 04/05 worked.
    assert CAL.working_days_in_year(2024) == 251


def test_working_minutes_between() -> None:
    a, b = datetime(2023, 10, 27, 9, 32), datetime(2023, 11, 3, 9, 32)
    assert working_minutes_between(a, b, CAL) == 5 * 8 * 60
    assert working_minutes_between(b, a, CAL) == 0


moments = st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2027, 12, 31))
units = st.sampled_from(list(TimeUnit))
amounts = st.sampled_from([0, 0.5, 1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60])


@settings(max_examples=300, deadline=None)
@given(received=moments, amount=amounts, unit=units)
def test_appointment_is_always_in_working_time(received: datetime, amount: float,
                                               unit: TimeUnit) -> None:
    due = compute_appointment(received, amount, unit, CAL)
    assert CAL.is_working_day(due.date())
    assert CAL.is_working_time(due)
    assert due >= received.replace(second=0, microsecond=0)


@settings(max_examples=150, deadline=None)
@given(received=moments, a=amounts, b=amounts)
def test_working_days_are_monotonic(received: datetime, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert compute_appointment(received, lo, WD, CAL) <= compute_appointment(received, hi, WD,
                                                                             CAL)


@settings(max_examples=150, deadline=None)
@given(received=moments, n=st.integers(min_value=1, max_value=40))
def test_working_days_consume_exactly_n_days(received: datetime, n: int) -> None:
    due = compute_appointment(received, n, WD, CAL)
    start = CAL.start_of_count(received)
    assert working_minutes_between(start, due, CAL) == n * CAL.hours.minutes_per_day
    assert due - start >= timedelta(hours=10 + 24 * (n - 1))
