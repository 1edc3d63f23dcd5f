"""`motcua report tracking-book` and `motcua report dashboard`: the counter's reports
without the GUI (for a technician, a scheduled task or a leader's monthly printout).

    motcua report tracking-book --from 2023-10-01 --to 2023-10-31 --out so-10-2023.pdf
    motcua report dashboard --from 2023-10-01 --to 2023-10-31 [--json]

Exit status: 0 done; 2 bad input (dates, file type, missing data, unwritable file)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.domain.errors import DomainError

if TYPE_CHECKING:
    from desktop_app.context import AppContext
    from desktop_app.report_model import DashboardFigures

log = logging.getLogger(__name__)

EXIT_OK, EXIT_USAGE = 0, 2


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "report", help="báo cáo: sổ theo dõi hồ sơ, số liệu của quầy",
        description="Xuất sổ theo dõi hồ sơ (PDF/Excel) hoặc in số liệu tổng hợp của quầy "
        "trong một khoảng ngày.")
    p.set_defaults(func=lambda args: _usage(p))
    sub = p.add_subparsers(dest="report", metavar="BÁO_CÁO")

    book = sub.add_parser(
        "tracking-book", help="xuất Sổ theo dõi hồ sơ (Mẫu 07) ra PDF hoặc Excel",
        description="Xuất Sổ theo dõi hồ sơ (Mẫu số 07, Thông tư 03/2025/TT-VPCP) gồm các "
        "hồ sơ tiếp nhận từ ngày --from đến hết ngày --to. Định dạng theo đuôi tệp: .pdf "
        "(A4 ngang, để in) hoặc .xlsx (Excel).")
    _period_args(book)
    book.add_argument("--out", required=True, type=Path, metavar="TỆP",
                      help="tệp kết quả: …/so-theo-doi.pdf hoặc …/so-theo-doi.xlsx")
    book.set_defaults(func=run_tracking_book)

    dash = sub.add_parser(
        "dashboard", help="in số liệu của quầy trong khoảng ngày",
        description="Số hồ sơ tiếp nhận, đã trả (đúng hạn/trễ hạn), quá hạn chưa trả, tỉ lệ "
        "số hóa, độ trễ đồng bộ với tỉnh, thủ tục nhiều hồ sơ nhất.")
    _period_args(dash)
    dash.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    dash.set_defaults(func=run_dashboard)


def _period_args(p: argparse.ArgumentParser) -> None:
    # Parsed in run(), not by argparse `type=`: argparse's own error text is English.
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD",
                   help="ngày đầu kỳ (tính cả ngày này)")
    p.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD",
                   help="ngày cuối kỳ (tính cả ngày này)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="thư mục dữ liệu (mặc định: thư mục của phần mềm trên máy này)")


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return EXIT_USAGE


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DomainError(f"{what} “{text}” không hợp lệ; hãy nhập dạng YYYY-MM-DD, ví dụ "
                          "2025-10-31.", f"bad date {text!r}") from None


def _period(args: argparse.Namespace) -> tuple[date, date]:
    start = _day(args.start, "Ngày đầu kỳ (--from)")
    end = _day(args.end, "Ngày cuối kỳ (--to)")
    if start > end:
        raise DomainError(f"Ngày đầu kỳ {start:%d/%m/%Y} ở sau ngày cuối kỳ {end:%d/%m/%Y}.",
                          f"--from {start} after --to {end}")
    return start, end


def _open(args: argparse.Namespace) -> AppContext:
    from desktop_app.startup import open_for_command

    # Opening an empty directory would create a database and report zeros: say so instead.
    return open_for_command(args.data_dir)


def _run(args: argparse.Namespace, body: Callable[[AppContext, date, date], int]) -> int:
    from desktop_app.context import DatabaseUnavailable

    try:
        period = _period(args)
        ctx = _open(args)
    except DatabaseUnavailable:
        raise  # every command's exit 5 / 6 (cli.main), not a usage error
    except DomainError as exc:
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(body(ctx, *period))
    except DatabaseUnavailable:
        raise
    except DomainError as exc:
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        log.error("report failed: %s", exc.detail)
        return EXIT_USAGE
    finally:
        ctx.close()


def run_tracking_book(args: argparse.Namespace) -> int:
    from desktop_app.reports import FORMATS, ReportService

    out: Path = args.out
    fmt = next((f for f in FORMATS if out.suffix.lower() == f".{f}"), None)
    if fmt is None:
        print(f"Lỗi: Tệp “{out.name}” phải có đuôi .pdf hoặc .xlsx.", file=sys.stderr)
        return EXIT_USAGE

    def body(ctx: AppContext, start: date, end: date) -> int:
        path = ReportService(ctx).export_tracking_book(start, end, out.resolve(), fmt)
        print(f"Đã xuất sổ theo dõi hồ sơ từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}: {path}")
        return EXIT_OK

    return _run(args, body)


def run_dashboard(args: argparse.Namespace) -> int:
    from desktop_app.reports import ReportService

    def body(ctx: AppContext, start: date, end: date) -> int:
        service = ReportService(ctx)
        figures = service.dashboard(start, end)
        refused = service.refused(start, end)
        if args.json:
            data = dataclasses.asdict(figures)
            data["refused"] = refused
            print(json.dumps(data, ensure_ascii=False, default=_json_default, indent=2))
        else:
            print(format_dashboard(figures, refused))
        return EXIT_OK

    return _run(args, body)


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


# --- text output ------------------------------------------------------------------------


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f} %".replace(".", ",")


def _ratio(count: int, of: int, share: float | None) -> str:
    """"12/14 — 85,7 %": the count and its base beside the share."""
    return f"{count}/{of}" if share is None else f"{count}/{of} — {_pct(share)}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = round(seconds)
    days, s = divmod(s, 86_400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    parts = [f"{days} ngày"] if days else []
    if hours:
        parts.append(f"{hours} giờ")
    if minutes and not days:
        parts.append(f"{minutes} phút")
    if not days and not hours:
        parts.append(f"{s} giây")
    return " ".join(parts)


def format_dashboard(f: DashboardFigures, refused: int = 0) -> str:
    """The figures as the plain text a clerk reads in a terminal."""
    late = f.returned - f.returned_on_time
    lines = [
        f"SỐ LIỆU CỦA QUẦY từ {f.start:%d/%m/%Y} đến {f.end:%d/%m/%Y}",
        f"Hồ sơ tiếp nhận:            {f.received}",
        f"Từ chối tiếp nhận:          {refused}",
        f"Đã trả kết quả:             {f.returned} (đúng hạn {f.returned_on_time}, "
        f"trễ hạn {late}; tỉ lệ đúng hạn {_pct(f.on_time_rate)})",
        f"Quá hạn chưa trả kết quả:   {f.late_open}",
        f"Hồ sơ đã số hóa đầy đủ:     {_pct(f.digitized_share)}",
        f"Đồng bộ với tỉnh:           trung vị {_duration(f.sync_lag_median_s)}, "
        f"95 % trong {_duration(f.sync_lag_p95_s)}; chưa đồng bộ {f.unsynced}",
    ]
    electronic = _ratio(f.electronic_results, f.electronic_results_of,
                        f.electronic_results_share)
    with_result = _ratio(f.digitized_with_result, f.digitized_with_result_of,
                         f.digitized_with_result_share)
    lines += [
        "",
        "Ba chỉ số của tỉnh:",
        f"  Tỷ lệ hồ sơ có kết quả điện tử:              {electronic}"
        " (trên hồ sơ trả kết quả trong kỳ)",
        f"  Tỷ lệ số hóa hồ sơ và kết quả:               {with_result}"
        " (trên hồ sơ trả kết quả trong kỳ)",
        f"  Tỷ lệ khai thác, tái sử dụng dữ liệu số hóa: "
        f"{_ratio(f.reused, f.reused_of, f.reuse_share)} (trên hồ sơ tiếp nhận trong kỳ)",
    ]
    busy = [d for d in f.per_day if d.received or d.returned]
    if busy:
        lines += ["", "Theo ngày (tiếp nhận / trả kết quả):"]
        lines += [f"  {d.day:%d/%m/%Y}  {d.received:>6} / {d.returned:<6}" for d in busy]
    if f.top_procedures:
        lines += ["", "Thủ tục nhiều hồ sơ nhất (tiếp nhận, trễ hạn):"]
        lines += [f"  {p.received:>6} {p.late:>5}  {p.code}  {p.name}"
                  for p in f.top_procedures]
    if f.late_by_procedure:
        lines += ["", "Trễ hạn theo thủ tục (trễ hạn / tiếp nhận):"]
        lines += [f"  {p.late:>5} / {p.received:<6} {p.code}  {p.name}"
                  for p in f.late_by_procedure]
    return "\n".join(lines)
