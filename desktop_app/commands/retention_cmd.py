"""`motcua retention`: remove the local files of dossiers that are closed, acknowledged by
the province and older than the retention period (`retention_days` of provisioning,
365 days by default). The dossier records and their history stay.

Exit codes: 0 done (or nothing to do); 1 some files could not be removed; 2 the data
cannot be opened."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "retention", help="xóa tệp của hồ sơ đã kết thúc, tỉnh đã nhận, quá thời hạn lưu",
        description="Giải phóng ổ đĩa: xóa tệp quét và phiếu của hồ sơ đã trả kết quả, từ "
        "chối, rút hoặc dừng xử lý, đã đồng bộ đầy đủ lên tỉnh và kết thúc quá thời hạn lưu. "
        "Thông tin hồ sơ và lịch sử xử lý vẫn giữ. Không bao giờ xóa tệp của hồ sơ chưa gửi "
        "xong. Mã thoát: 0 xong; 1 có tệp không xóa được; 2 không mở được dữ liệu.")
    p.add_argument("--dry-run", action="store_true",
                   help="chỉ liệt kê những gì sẽ xóa và dung lượng giải phóng")
    p.add_argument("--data-dir", type=Path, default=None, help="thư mục dữ liệu")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop_app.retention import RetentionService
    from desktop_app.startup import open_for_command

    # A database that cannot be opened ends in cli.main (exit 5, message in Vietnamese).
    ctx = open_for_command(args.data_dir, must_exist=False)
    try:
        report = RetentionService(ctx).run(dry_run=args.dry_run)
    finally:
        ctx.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.text_vi())
    return 1 if report.errors else 0
