"""Wall clock of the counter. Passed in everywhere so tests can fix the time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    def now(self) -> datetime:
        """Naive local time in Asia/Ho_Chi_Minh, to the second."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(VN_TZ).replace(tzinfo=None, microsecond=0)


@dataclass
class FixedClock:
    """A settable clock for tests and the headless demo."""

    current: datetime
    step: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        value = self.current
        self.current = self.current + self.step
        return value

    def set(self, value: datetime) -> None:
        self.current = value
