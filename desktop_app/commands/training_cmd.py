"""`motcua training`: the counter GUI in training mode (its own data, a simulated province
on this machine, watermarked documents), or, with ``--cards``, only the sheet of the
fictional citizens' ID cards as a PDF."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "training", help="mở chế độ tập huấn (dữ liệu riêng, cổng tỉnh giả lập)",
        description="Mở giao diện ở chế độ tập huấn: dữ liệu riêng bên cạnh thư mục dữ liệu "
        "của quầy (biến MOTCUA_TRAINING_DIR để chọn chỗ khác), cổng tỉnh giả lập chạy trên "
        "chính máy này, mọi giấy tờ in ra có dấu “TẬP HUẤN — KHÔNG CÓ GIÁ TRỊ PHÁP LÝ”.")
    p.add_argument("--reset", action="store_true",
                   help="xóa dữ liệu tập huấn và tạo lại từ đầu trước khi mở")
    p.add_argument("--cards", metavar="FILE.pdf", type=Path,
                   help="chỉ ghi tờ thẻ căn cước giả lập (mã QR để quét) ra tệp PDF rồi thoát")
    p.set_defaults(func=run, gui_mode="training")


def run(args: argparse.Namespace) -> int:
    """Only ``--cards`` runs here; the GUI is started by ``cli.main`` (the core does not
    import the Qt layer)."""
    from desktop_app.files import write_atomically
    from desktop_app.training.citizens import CITIZENS, render_citizen_sheet

    target: Path = args.cards
    try:
        write_atomically(target, render_citizen_sheet())
    except OSError as exc:
        print(f"Lỗi: không ghi được tệp “{target}”: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"Đã ghi {len(CITIZENS)} thẻ căn cước giả lập vào {target}")
    return 0
