"""How many wrong enrolment codes one caller may try (POST /enrol takes no token).

Five wrong codes from anybody used to lock the station's live code, so an anonymous
caller could lock a technician out. Now a wrong code counts against the address it came
from, never against the code:

- per (address, station): `MAX_PER_STATION` wrong codes within `WINDOW` and that address
  may not try that station's code until the oldest of them is an hour old;
- per address: `MAX_PER_SOURCE` wrong codes within `WINDOW`, whatever the stations, and
  that address is refused everywhere (a caller walking through agencies and digits).

A wrong code counts against a station only while the station has a live code (otherwise
there is nothing to guess and it counts for the address alone). The rightful technician's
correct code, typed from another address, keeps working whatever guessers did. A code
has about 72 bits, so a guesser changing addresses gains nothing either;
`Enrolment.failed_attempts` still counts the guesses for the province to see.

The address is the TCP peer, or, when that peer is a reverse proxy named by
`serve --trusted-proxy`, the caller it forwards (`trusted_proxies`); behind a proxy not
named there every caller shares the proxy's address and its limit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from provincial_gateway.db import EnrolmentFailure

WINDOW = timedelta(hours=1)
MAX_PER_STATION = 5
MAX_PER_SOURCE = 20


def is_blocked(s: Session, source: str, agency_code: str, station_digit: int,
               now: datetime) -> bool:
    since = now - WINDOW
    recent = (select(func.count()).select_from(EnrolmentFailure)
              .where(EnrolmentFailure.source == source, EnrolmentFailure.at > since))
    if (s.scalar(recent) or 0) >= MAX_PER_SOURCE:
        return True
    here = recent.where(EnrolmentFailure.agency_code == agency_code,
                        EnrolmentFailure.station_digit == station_digit)
    return (s.scalar(here) or 0) >= MAX_PER_STATION


def record_failure(s: Session, source: str, agency_code: str, station_digit: int,
                   code_exists: bool, now: datetime) -> None:
    s.execute(delete(EnrolmentFailure).where(EnrolmentFailure.at <= now - WINDOW))
    s.add(EnrolmentFailure(source=source[:64],
                           agency_code=agency_code[:40] if code_exists else "",
                           station_digit=station_digit if code_exists else 0, at=now))
