"""`motcua support-bundle`: a zip for the province's helpdesk (doctor results, redacted
logs, configuration without secrets, database schema and row counts, sync-queue summary).
It never holds personal data, dossier files, the station token or passwords.

Exit codes: 0 written; 2 it could not be written."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "support-bundle", help="tạo gói thông tin gửi bộ phận hỗ trợ của tỉnh",
        description="Tạo tệp .zip gồm kết quả kiểm tra máy, nhật ký (đã che thông tin cá "
        "nhân), cấu hình (đã bỏ mã xác thực, mật khẩu), cấu trúc CSDL và số dòng, tóm tắt "
        "hàng đợi gửi tỉnh. Không chứa dữ liệu công dân hay tệp hồ sơ.")
    p.add_argument("--out", type=Path, default=None, metavar="TỆP.zip",
                   help="nơi lưu gói (mặc định: motcua-ho-tro-<thời điểm>.zip tại thư mục "
                   "hiện hành)")
    p.add_argument("--data-dir", type=Path, default=None, help="thư mục dữ liệu")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop_app.setup.support_bundle import default_bundle_name, support_bundle

    out: Path = args.out or Path.cwd() / default_bundle_name()
    if out.suffix.lower() != ".zip":
        out = out.with_name(out.name + ".zip")
    try:
        path = support_bundle(out, args.data_dir)
    except OSError as exc:
        print(f"Lỗi: không ghi được gói hỗ trợ vào {out} ({exc.strerror or exc}).",
              file=sys.stderr)
        log.error("support bundle failed: %s", exc)
        return 2
    size_kb = path.stat().st_size / 1024
    print(f"Đã tạo gói hỗ trợ: {path} ({size_kb:.0f} KB).")
    print("Gói không chứa dữ liệu cá nhân của công dân, tệp hồ sơ hay mã xác thực; có thể "
          "gửi cho bộ phận hỗ trợ của tỉnh.")
    return 0
