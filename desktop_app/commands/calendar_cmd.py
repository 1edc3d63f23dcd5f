"""`motcua deadline` and `motcua calendar YEAR`: technicians' checks of the calendar.

Both use the station's calendar (holidays plus the provincial overrides stored in the
local database) unless ``--overrides FILE`` gives a list to check instead."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path

from desktop_app.domain.calendar import (
    CalendarOverride,
    TimeUnit,
    WorkingCalendar,
    compute_appointment,
    format_appointment,
)
from desktop_app.domain.errors import DomainError


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = subparsers.add_parser(
        "deadline", help="tính ngày hẹn trả kết quả theo lịch làm việc",
        description="Tính ngày hẹn trả: thời điểm tiếp nhận + thời hạn theo đơn vị.")
    d.add_argument("--from", dest="start", default=None, metavar="'YYYY-MM-DD HH:MM'",
                   help="thời điểm tiếp nhận (mặc định: bây giờ)")
    d.add_argument("--amount", type=float, default=0, help="thời hạn (số ngày/giờ)")
    d.add_argument("--unit", choices=[u.value for u in TimeUnit],
                   default=TimeUnit.WORKING_DAYS.value, help="đơn vị thời hạn")
    d.add_argument("--overrides", type=Path, default=None,
                   help="tệp JSON danh sách ngày nghỉ/làm bù [{day, kind, note}]")
    d.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    d.set_defaults(func=run_deadline)

    c = subparsers.add_parser(
        "calendar", help="liệt kê ngày nghỉ lễ và ngày làm bù của một năm",
        description="In các ngày thường được nghỉ và các ngày cuối tuần phải làm việc.")
    c.add_argument("year", type=int, metavar="YEAR")
    c.add_argument("--overrides", type=Path, default=None,
                   help="tệp JSON danh sách ngày nghỉ/làm bù [{day, kind, note}]")
    c.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    c.set_defaults(func=run_calendar)


def load_overrides(path: Path) -> list[CalendarOverride]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        return [CalendarOverride(date.fromisoformat(i["day"]), i["kind"], i.get("note", ""))
                for i in items if i["kind"] in ("off", "work")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DomainError(f"Không đọc được tệp ngày nghỉ/làm bù {path}.",
                          f"{path}: {exc!r}") from exc


def _calendar(args: argparse.Namespace) -> WorkingCalendar:
    if args.overrides:
        return WorkingCalendar(load_overrides(args.overrides))
    try:
        from desktop_app.startup import open_for_command

        ctx = open_for_command()
    except Exception:  # no station data (or unreachable): the national calendar alone
        return WorkingCalendar()
    try:
        return ctx.calendar
    finally:
        ctx.close()


def run_deadline(args: argparse.Namespace) -> int:
    try:
        start = (datetime.fromisoformat(args.start) if args.start
                 else datetime.now().replace(second=0, microsecond=0))
    except ValueError:
        print(f"Thời điểm “{args.start}” không hợp lệ; dùng dạng 'YYYY-MM-DD HH:MM'.",
              file=sys.stderr)
        return 2
    try:
        cal = _calendar(args)
        unit = TimeUnit(args.unit)
        due = compute_appointment(start, args.amount, unit, cal)
    except DomainError as exc:
        print(exc.message_vi, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"received": start.isoformat(sep=" "), "amount": args.amount,
                          "unit": unit.value, "appointment": due.isoformat(sep=" ")},
                         ensure_ascii=False))
    else:
        print(f"Tiếp nhận:       {format_appointment(start)}")
        print(f"Thời hạn:        {args.amount:g} {unit.label_vi}")
        print(f"Ngày hẹn trả:    {format_appointment(due)}")
    return 0


def run_calendar(args: argparse.Namespace) -> int:
    if not 1990 <= args.year <= 2100:
        print("Năm phải trong khoảng 1990–2100.", file=sys.stderr)
        return 2
    try:
        cal = _calendar(args)
    except DomainError as exc:
        print(exc.message_vi, file=sys.stderr)
        return 2
    rows = cal.year_table(args.year)
    working = cal.working_days_in_year(args.year)
    if args.json:
        print(json.dumps({
            "year": args.year, "working_days": working,
            "exceptions": [{"day": r.day.isoformat(), "working": r.working, "reason": r.reason}
                           for r in rows]}, ensure_ascii=False, indent=1))
        return 0
    print(f"Lịch làm việc năm {args.year}: {working} ngày làm việc")
    print(f"{'Ngày':<12} {'Thứ':<9} {'':<10} Lý do")
    for r in rows:
        kind = "làm việc" if r.working else "nghỉ"
        print(f"{r.day:%d/%m/%Y}   {r.weekday_vi:<9} {kind:<10} {r.reason}")
    return 0
