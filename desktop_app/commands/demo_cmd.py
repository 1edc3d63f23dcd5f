"""`motcua demo --out DIR`: headless demonstration and installation check."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from desktop_app.domain.errors import DomainError


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "demo",
        help="chạy thử không cần màn hình: tiếp nhận vài hồ sơ mẫu và ghi phiếu ra thư mục",
        description="Tạo một thư mục dữ liệu mới với danh mục mẫu, tiếp nhận vài hồ sơ qua "
        "đúng các dịch vụ của giao diện, ghi các phiếu PDF vào DIR và in bản tóm tắt JSON.",
    )
    p.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="thư mục ghi các phiếu PDF")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="thư mục dữ liệu (mặc định: một thư mục mới trong DIR)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop_app.demo import run_demo

    out: Path = args.out
    data_dir: Path = args.data_dir or Path(tempfile.mkdtemp(prefix="demo-data-", dir=_mk(out)))
    if args.data_dir and any(data_dir.glob("*.sqlite3")):
        print(f"Thư mục dữ liệu {data_dir} đã có cơ sở dữ liệu; demo cần một thư mục mới.",
              file=sys.stderr)
        return 2
    try:
        result = run_demo(out, data_dir)
    except DomainError as exc:
        print(exc.message_vi, file=sys.stderr)
        return 1
    print(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    return 0


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
