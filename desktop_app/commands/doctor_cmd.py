"""`motcua doctor`: check this counter PC (versions, data, database, sync queue, gateway,
token, printers, scanners, OCR) without changing anything.

Exit codes: 0 every check passed; 1 warnings only; 2 at least one failure."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "doctor", help="kiểm tra máy trạm (dữ liệu, kết nối tỉnh, máy in, máy quét…)",
        description="Kiểm tra nhanh máy trạm, không thay đổi gì. Mã thoát: 0 tất cả đạt; "
        "1 chỉ có cảnh báo; 2 có lỗi cần kỹ thuật viên xử lý.")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.add_argument("--data-dir", type=Path, default=None, help="thư mục dữ liệu")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop_app.setup.doctor import run_doctor

    report = run_doctor(args.data_dir)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(report.text_vi())
    return report.exit_code
