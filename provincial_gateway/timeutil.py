"""Times in Asia/Ho_Chi_Minh, as the national portal writes them."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NATIONAL = re.compile(r"^\d{14}$")


def now_vn() -> datetime:
    return datetime.now(VN)


def iso_now() -> str:
    return now_vn().isoformat(timespec="seconds")


def national_now() -> str:
    return now_vn().strftime("%Y%m%d%H%M%S")


def parse_national(text: str) -> str:
    """`yyyyMMddHHmmss`, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM` → `yyyyMMddHHmmss`."""
    text = text.strip()
    if NATIONAL.match(text):
        datetime.strptime(text, "%Y%m%d%H%M%S")
        return text
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            value = value.replace(hour=17)  # end of the working day
        return value.strftime("%Y%m%d%H%M%S")
    raise ValueError(text)
