"""Working-day calendar and appointment (ngày hẹn trả) computation — DOMAIN.md rules.

Non-working days: Saturdays, Sundays and Vietnamese public holidays from the `holidays`
package (Tết, Hùng Kings, 30/4, 1/5, 2/9 with their compensatory and swapped days, and
its make-up working Saturdays), then the provincial override list on top (extra days
off, extra working days). Times are naive local times (Asia/Ho_Chi_Minh)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal

import holidays

from desktop_app.domain.errors import DomainError

WEEKDAY_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


class TimeUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"
    SAME_DAY = "same_day"

    @property
    def label_vi(self) -> str:
        return {
            TimeUnit.WORKING_DAYS: "ngày làm việc",
            TimeUnit.WORKING_HOURS: "giờ làm việc",
            TimeUnit.CALENDAR_DAYS: "ngày",
            TimeUnit.SAME_DAY: "trong ngày",
        }[self]


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class WorkingHours:
    morning_start: time = time(7, 0)
    morning_end: time = time(11, 30)
    afternoon_start: time = time(13, 30)
    afternoon_end: time = time(17, 0)
    same_day_cutoff: time = time(15, 0)

    def __post_init__(self) -> None:
        order = [self.morning_start, self.morning_end, self.afternoon_start, self.afternoon_end]
        if any(a >= b for a, b in itertools.pairwise(order)):
            raise DomainError(
                "Giờ làm việc không hợp lệ: giờ bắt đầu phải trước giờ kết thúc và buổi sáng "
                "trước buổi chiều.",
                f"inconsistent working hours {order}",
            )
        if not self.morning_start <= self.same_day_cutoff <= self.afternoon_end:
            raise DomainError("Giờ chốt nhận hồ sơ trong ngày phải nằm trong giờ làm việc.",
                              f"cutoff {self.same_day_cutoff} outside working hours")

    @property
    def intervals(self) -> tuple[tuple[time, time], tuple[time, time]]:
        return ((self.morning_start, self.morning_end),
                (self.afternoon_start, self.afternoon_end))

    @property
    def minutes_per_day(self) -> int:
        return sum(_minutes(b) - _minutes(a) for a, b in self.intervals)


@dataclass(frozen=True)
class CalendarOverride:
    day: date
    kind: Literal["off", "work"]
    note: str = ""


@dataclass(frozen=True)
class DayInfo:
    day: date
    working: bool
    reason: str

    @property
    def weekday_vi(self) -> str:
        return WEEKDAY_VI[self.day.weekday()]


@dataclass
class WorkingCalendar:
    overrides: Iterable[CalendarOverride] = ()
    hours: WorkingHours = field(default_factory=WorkingHours)

    def __post_init__(self) -> None:
        self._overrides = {o.day: o for o in self.overrides}
        self._years: dict[int, holidays.HolidayBase] = {}

    def _holidays(self, year: int) -> holidays.HolidayBase:
        h = self._years.get(year)
        if h is None:
            h = holidays.country_holidays("VN", years=year, language="vi")
            self._years[year] = h
        return h

    def day_info(self, d: date) -> DayInfo:
        override = self._overrides.get(d)
        if override is not None:
            default = "Ngày làm việc bù" if override.kind == "work" else "Ngày nghỉ theo thông báo"
            return DayInfo(d, override.kind == "work", override.note or default)
        h = self._holidays(d.year)
        name = h.get(d)
        if name:
            return DayInfo(d, False, str(name))
        if d in getattr(h, "weekend_workdays", ()):
            return DayInfo(d, True, "Làm việc bù (theo thông báo nghỉ lễ)")
        if d.weekday() >= 5:
            return DayInfo(d, False, WEEKDAY_VI[d.weekday()])
        return DayInfo(d, True, "")

    def is_working_day(self, d: date) -> bool:
        return self.day_info(d).working

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d += timedelta(days=1)
        for _ in range(366):
            if self.is_working_day(d):
                return d
            d += timedelta(days=1)
        raise DomainError("Lịch làm việc không có ngày làm việc nào trong một năm.",
                          f"no working day after {d}")

    def year_table(self, year: int) -> list[DayInfo]:
        """The year's exceptions: weekdays off and weekend days worked."""
        out = []
        d = date(year, 1, 1)
        while d.year == year:
            info = self.day_info(d)
            if info.working == (d.weekday() >= 5):
                out.append(info)
            d += timedelta(days=1)
        return out

    def working_days_in_year(self, year: int) -> int:
        d, n = date(year, 1, 1), 0
        while d.year == year:
            n += self.is_working_day(d)
            d += timedelta(days=1)
        return n

    def is_working_time(self, dt: datetime) -> bool:
        """Inside a working session of a working day; a session's end minute counts (an
        appointment at exactly 17:00 is within working hours)."""
        if not self.is_working_day(dt.date()):
            return False
        t = dt.time()
        return any(a <= t <= b for a, b in self.hours.intervals)

    def _sessions_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working sessions (start, end) from ``start`` on, the first one possibly partial."""
        d = start.date()
        while True:
            if self.is_working_day(d):
                for a, b in self.hours.intervals:
                    s, e = datetime.combine(d, a), datetime.combine(d, b)
                    if e <= start:
                        continue
                    yield max(s, start), e
            d += timedelta(days=1)

    def start_of_count(self, received: datetime) -> datetime:
        """Where the clock starts: after 17:00 the next working morning, before 07:00 at
        07:00, during lunch at 13:30, on a day off the next working morning."""
        s, _ = next(self._sessions_from(received.replace(second=0, microsecond=0)))
        return s

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        start = self.start_of_count(start)
        if minutes <= 0:
            return start
        remaining = minutes
        for s, e in self._sessions_from(start):
            length = int((e - s).total_seconds() // 60)
            if remaining <= length:
                return s + timedelta(minutes=remaining)
            remaining -= length
        raise AssertionError("unreachable")  # pragma: no cover

    def end_of_day(self, d: date) -> datetime:
        return datetime.combine(d, self.hours.afternoon_end)


def compute_appointment(received: datetime, amount: float, unit: TimeUnit,
                        calendar: WorkingCalendar) -> datetime:
    """The appointment printed on the receipt (DOMAIN.md "Appointment rules")."""
    unit = TimeUnit(unit)
    if amount < 0:
        raise DomainError("Thời hạn giải quyết không được âm.", f"negative amount {amount}")
    hours = calendar.hours
    if unit is TimeUnit.SAME_DAY:
        d = received.date()
        if calendar.is_working_day(d) and received.time() < hours.same_day_cutoff:
            return calendar.end_of_day(d)
        return calendar.end_of_day(calendar.next_working_day(d))
    if unit is TimeUnit.WORKING_DAYS:
        return calendar.add_working_minutes(received, round(amount * hours.minutes_per_day))
    if unit is TimeUnit.WORKING_HOURS:
        return calendar.add_working_minutes(received, round(amount * 60))
    # Calendar days: the same clock time N days later; a day off moves it to the end of
    # the next working day, and outside working hours it moves into them.
    due = received.replace(second=0, microsecond=0) + timedelta(days=round(amount))
    if not calendar.is_working_day(due.date()):
        return calendar.end_of_day(calendar.next_working_day(due.date()))
    t = due.time()
    if t > hours.afternoon_end:
        end = calendar.end_of_day(due.date())
        # Zero days after closing time: the end of today has passed, so tomorrow's end.
        return end if end >= received else calendar.end_of_day(
            calendar.next_working_day(due.date()))
    if t < hours.morning_start:
        return datetime.combine(due.date(), hours.morning_start)
    if hours.morning_end < t < hours.afternoon_start:
        return datetime.combine(due.date(), hours.afternoon_start)
    return due


def working_minutes_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> int:
    """Working minutes from ``a`` to ``b`` (0 if b is not after a)."""
    if b <= a:
        return 0
    total = 0
    for s, e in calendar._sessions_from(a):
        if s >= b:
            break
        total += int((min(e, b) - s).total_seconds() // 60)
    return total


def format_appointment(dt: datetime) -> str:
    return f"{dt:%H} giờ {dt:%M}, {WEEKDAY_VI[dt.weekday()]}, ngày {dt:%d/%m/%Y}"
