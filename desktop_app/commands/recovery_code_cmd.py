"""`motcua recovery-code`: a new recovery code for this station's data key, shown once.

The data key is wrapped afresh under the new code, beside the data and (with a gateway
and a token) at the province; copies wrapped under older codes stay valid. Provisioning
prints the code only to a terminal, so an installer that logs provisioning to a file
leaves no code on the disk next to the data it opens: the technician runs this in a
command window afterwards.

Exit codes: 0 a code was made (even when the gateway could not be reached: the local copy
is made and the output says so); 2 nothing was made (no station yet, the data key is
missing, the database cannot be opened)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "recovery-code", help="tạo mã khôi phục dữ liệu mới (chỉ hiện một lần)",
        description="Tạo mã khôi phục mới cho khóa mã hóa dữ liệu của máy, lưu bản khóa "
        "dự phòng bên cạnh dữ liệu và gửi lên tỉnh; mã chỉ hiện một lần.")
    p.add_argument("--data-dir", type=Path, default=None, help="thư mục dữ liệu")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop_app.context import open_context
    from desktop_app.domain.errors import DomainError
    from desktop_app.setup.apply import escrow_data_key
    from desktop_app.station import StationService
    from desktop_app.sync.service import SyncService

    try:
        ctx = open_context(args.data_dir)
    except DomainError as exc:
        log.error("recovery-code: %s", exc.detail)
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return 2
    try:
        station = StationService(ctx).get()
        if station is None:
            print("Lỗi: máy chưa được cấu hình quầy (chạy “motcua provision” trước).",
                  file=sys.stderr)
            return 2
        token = SyncService(ctx).tokens(station).get() if station.gateway_url else ""
        code, sent = escrow_data_key(ctx, station, token)
    except DomainError as exc:
        log.error("recovery-code: %s", exc.detail)
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return 2
    finally:
        ctx.close()
    log.info("recovery code renewed; escrow sent to the gateway: %s", sent)
    print(f"MÃ KHÔI PHỤC DỮ LIỆU: {code}")
    print("  (chỉ hiện lần này; ghi ra giấy và cất nơi an toàn. Lệnh “motcua recover-key” "
          "cần mã này để mở lại dữ liệu khi cài lại máy hoặc đổi máy"
          + ("; bản khóa dự phòng đã gửi lên tỉnh)" if sent
             else "; chưa gửi được lên tỉnh, bản khóa dự phòng mới chỉ lưu trên máy này: "
             "chạy lại lệnh khi có mạng)"))
    return 0
