"""`motcua update --check | --download | --install`: the update channel for technicians and
scripts (the GUI and the background sync do the same on their own).

Exit codes:
  --check     0 up to date · 1 a newer version is published (not downloaded yet, or part
              way) · 8 downloaded and verified, ready to install
  --download  0 downloaded and verified (or up to date) · 1 not finished (link cut:
              run it again, it resumes from the partial file)
  --install   0 Windows: the setup was launched (it waits for the app to quit);
              Linux: the command to run was printed · 1 nothing verified to install
  all         2 not configured (no gateway, token or release_public_key) · 3 token
              refused · 4 the published update was refused (bad signature or hash; the
              file was deleted) · 7 the gateway cannot be reached
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.domain.errors import DomainError

if TYPE_CHECKING:
    from desktop_app.context import AppContext

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PENDING = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_REFUSED = 4
EXIT_UNREACHABLE = 7
EXIT_READY = 8


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "update", help="bản cập nhật phần mềm qua hệ thống tỉnh",
        description="Kiểm tra, tải (tiếp tục được khi mất mạng) và cài bản cập nhật do tỉnh "
        "công bố; chữ ký được kiểm tra bằng khóa công khai phát hành của tỉnh. Mã thoát: "
        "--check 0 đã mới nhất, 1 có bản mới chưa tải, 8 đã tải và kiểm tra, sẵn sàng cài; "
        "--download 0 đã tải và kiểm tra, 1 chưa xong (chạy lại để tải tiếp); --install 0 đã "
        "chạy bộ cài (Windows) hoặc in lệnh cài (Linux), 1 chưa có bản nào để cài; 2 chưa "
        "cấu hình; 3 mã xác thực bị từ chối; 4 bản cập nhật bị từ chối (sai chữ ký hoặc mã "
        "băm, đã xóa); 7 không kết nối được hệ thống tỉnh.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--check", action="store_true", help="chỉ hỏi hệ thống tỉnh")
    what.add_argument("--download", action="store_true",
                      help="tải ngay (kể cả khi còn hồ sơ chờ gửi) và kiểm tra chữ ký")
    what.add_argument("--install", action="store_true", help="cài bản đã tải và kiểm tra")
    p.add_argument("--max-kbps", type=int, default=None,
                   help="giới hạn tốc độ tải (kbit/s); mặc định 25%% đường truyền đo được")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.add_argument("--data-dir", type=Path, default=None, help="thư mục dữ liệu")
    p.set_defaults(func=run)


def _say(args: argparse.Namespace, code: int, text: str, **data: object) -> int:
    if args.json:
        print(json.dumps({"exit": code, "message": text, **data}, ensure_ascii=False))
    else:
        print(text, file=sys.stdout if code in (EXIT_OK, EXIT_READY, EXIT_PENDING)
              else sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from desktop_app.startup import open_for_command

    try:
        ctx = open_for_command(args.data_dir, must_exist=True)
    except DomainError as exc:  # no station here (a database fault ends in cli.main)
        return _say(args, EXIT_USAGE, exc.message_vi)
    try:
        if args.install:
            return _install(args, ctx)
        return _fetch(args, ctx)
    finally:
        ctx.close()


def _install(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_app.update_install import NothingToInstall, start_install

    try:
        step = start_install(ctx)
    except NothingToInstall:
        return _say(args, EXIT_PENDING, "Chưa có bản cập nhật nào đã tải và kiểm tra chữ ký "
                    "để cài (chạy motcua update --download).")
    if step.launched:
        return _say(args, EXIT_OK, f"Đã chạy bộ cài bản {step.version}; bộ cài chờ phần mềm "
                    "đóng rồi cài (Windows sẽ hỏi quyền quản trị).", version=step.version,
                    command=step.command)
    return _say(args, EXIT_OK, f"Bản {step.version} đã tải và kiểm tra chữ ký. Để cài, chạy "
                f"(quyền quản trị):\n  {step.command}", version=step.version,
                command=step.command)


def _fetch(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_app.sync.client import AuthFailed, SyncError
    from desktop_app.sync.service import SyncService
    from desktop_app.sync.update_fetch import Outcome, UpdateFetcher
    from desktop_app.sync.update_store import update_status

    try:
        client = SyncService(ctx).client()
    except DomainError as exc:
        return _say(args, EXIT_USAGE, exc.message_vi)
    try:
        fetcher = UpdateFetcher(ctx, client, max_rate_kbps=args.max_kbps,
                                slice_s=float("inf"))
        if args.check:
            outcome, manifest = fetcher.check()
            version = manifest.version if manifest else ""
        else:
            result = fetcher.run(force=True)
            outcome, version = result.outcome, result.version
    except AuthFailed as exc:
        return _say(args, EXIT_AUTH, exc.message_vi)
    except SyncError as exc:
        return _say(args, EXIT_UNREACHABLE, exc.message_vi)
    finally:
        client.close()
    status = update_status(ctx.paths.root)
    data = {"outcome": str(outcome), "version": version, "status": status.to_dict()}
    if outcome == Outcome.NOT_CONFIGURED:
        return _say(args, EXIT_USAGE, "Quầy chưa có khóa công khai phát hành của tỉnh "
                    "(release_public_key trong tệp cấu hình): không nhận bản cập nhật.", **data)
    if outcome == Outcome.REFUSED:
        return _say(args, EXIT_REFUSED, status.refusal_vi or "Bản cập nhật bị từ chối.", **data)
    if outcome == Outcome.READY:
        return _say(args, EXIT_READY if args.check else EXIT_OK, status.message_vi, **data)
    if outcome in (Outcome.UP_TO_DATE, Outcome.IGNORED):
        return _say(args, EXIT_OK, "Phần mềm đã là phiên bản mới nhất tỉnh công bố cho máy "
                    "này.", **data)
    if outcome == Outcome.AVAILABLE:
        return _say(args, EXIT_PENDING, f"Có bản cập nhật {version}, chưa tải (motcua update "
                    "--download).", **data)
    if outcome == Outcome.LINK_DOWN:
        return _say(args, EXIT_PENDING, f"Chưa tải xong bản {version} (mất kết nối); chạy lại "
                    "lệnh để tải tiếp từ chỗ dừng.", **data)
    return _say(args, EXIT_PENDING, f"Chưa tải xong bản {version}; chạy lại lệnh để tải "
                "tiếp.", **data)
