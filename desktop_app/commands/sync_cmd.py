"""`motcua sync`: drain the outbox headless (technicians, scheduled tasks), and the USB
bundle for a commune without a link; `motcua gateway`: the reference provincial gateway."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.domain.errors import DomainError

if TYPE_CHECKING:
    from desktop_app.context import AppContext

log = logging.getLogger(__name__)

EXIT_DRAINED = 0  # also: what is left is being sent right now by another counter
EXIT_LEFT = 1  # link down or items waiting for a retry
EXIT_USAGE = 2  # not configured, bad arguments
EXIT_AUTH = 3  # the gateway refused the station's token
EXIT_REFUSED = 4  # items the gateway refused for good: a supervisor must look
# 5 is every command's "database cannot be opened" (desktop_app.cli).
EXIT_NOT_WRITABLE = 6  # the database cannot be written (disk full, read-only)

MAX_ROUNDS = 20
SERVICE_POLL_S = 3.0  # the service notices a new outbox row within this


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sync", help="đồng bộ hồ sơ với hệ thống một cửa của tỉnh",
        description="Gửi hàng đợi (tệp, hồ sơ, sự kiện) lên hệ thống tỉnh và nhận trạng thái. "
        "Mã thoát: 0 đã gửi hết (hoặc phần còn lại đang do quầy khác gửi); 1 còn mục chờ "
        "(mất mạng, thử lại sau); 2 chưa cấu hình; "
        "3 mã xác thực bị từ chối; 4 có mục bị tỉnh từ chối, cần lãnh đạo xem; "
        "6 không ghi được CSDL trên máy (ổ đĩa đầy hoặc chỉ đọc).")
    p.add_argument("--once", action="store_true",
                   help="gửi hết hàng đợi một lượt rồi thoát (cho tác vụ định kỳ)")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.add_argument("--status", action="store_true",
                   help="xem dịch vụ đồng bộ nền của máy này: đang chạy, bị treo hay đã dừng "
                   "(mã thoát 0 bình thường, 1 bị treo/dừng bất thường/lỗi CSDL)")
    p.add_argument("--data-dir", type=Path, default=None, help="thư mục dữ liệu")
    p.add_argument("--no-pull", action="store_true", help="chỉ gửi, không nhận trạng thái")
    p.add_argument("--retry-refused", action="store_true",
                   help="gửi lại cả các mục đã bị từ chối (sau khi đã xử lý nguyên nhân)")
    p.add_argument("--set-token", metavar="MÃ", default=None,
                   help="lưu mã xác thực của quầy (vào kho khóa của hệ điều hành nếu có)")
    p.add_argument("--set-gateway", metavar="URL", default=None,
                   help="đặt địa chỉ hệ thống một cửa của tỉnh (https://…)")
    p.add_argument("--ca-bundle", metavar="TỆP", default=None,
                   help="cùng --set-gateway: chứng chỉ CA của tỉnh (PEM)")
    p.add_argument("--export-bundle", type=Path, metavar="TỆP", default=None,
                   help="xuất các hồ sơ chưa gửi ra gói mã hóa (chép sang USB)")
    p.add_argument("--import-bundle", type=Path, metavar="TỆP", nargs="+", default=None,
                   help="chuyển gói từ USB lên hệ thống tỉnh qua máy có mạng này (một gói "
                        "lớn được chia thành nhiều tệp: đưa các tệp, theo thứ tự bất kỳ)")
    p.set_defaults(func=run)

    g = sub.add_parser("gateway", help="chạy hệ thống tỉnh mẫu (đào tạo, kiểm thử)",
                       add_help=False)
    g.add_argument("rest", nargs=argparse.REMAINDER)
    g.set_defaults(func=_gateway)


def _gateway(args: argparse.Namespace) -> int:
    from desktop_app.commands import gateway_cmd

    return gateway_cmd.run(args.rest)


def _out(args: argparse.Namespace, data: Mapping[str, object], text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(text)


def run(args: argparse.Namespace) -> int:
    from desktop_app.startup import open_for_command

    if args.status:
        return _status(args)
    from desktop_app.context import DatabaseNotWritable

    ctx = open_for_command(args.data_dir, must_exist=False)
    try:
        return _run(args, ctx)
    except DatabaseNotWritable as exc:
        # Not "items left" (1): retrying cannot help until the disk or permission is fixed.
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        log.error("sync command stopped: %s", exc.detail)
        return EXIT_NOT_WRITABLE
    except DomainError as exc:
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        log.error("sync command failed: %s", exc.detail)
        return EXIT_USAGE
    finally:
        ctx.close()


def _run(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_app.sync.service import SyncService

    service = SyncService(ctx)
    if args.set_gateway is not None:
        from dataclasses import replace

        from desktop_app.station import StationService

        stations = StationService(ctx)
        ca = str(Path(args.ca_bundle).resolve()) if args.ca_bundle else ""
        if ca and not Path(ca).is_file():
            raise DomainError(f"Không tìm thấy tệp chứng chỉ {args.ca_bundle}.",
                              f"ca bundle {ca} missing")
        info = stations.save(replace(stations.require(), gateway_url=args.set_gateway,
                                     ca_bundle=ca))
        print(f"Đã đặt địa chỉ hệ thống tỉnh: {info.gateway_url}")
        if args.set_token is None:
            return EXIT_DRAINED
    if args.set_token is not None:
        where = service.set_token(args.set_token)
        print("Đã lưu mã xác thực của quầy " +
              ("vào kho khóa của hệ điều hành." if where == "keyring" else f"vào {where}."))
        return EXIT_DRAINED
    if args.export_bundle is not None:
        from desktop_app.sync.usb_bundle import export_bundle

        summary = export_bundle(ctx, service, args.export_bundle)
        _out(args, asdict(summary), summary.text_vi)
        return EXIT_DRAINED
    if args.import_bundle is not None:
        client = service.client()
        conflicts = False
        for path in args.import_bundle:  # each part is complete: any order works
            receipt = client.post_bundle(path)
            conflicts = conflicts or bool(receipt.conflicts)
            _out(args, receipt.model_dump(),
                 f"Tỉnh đã nhận gói {receipt.bundle_id} ({path.name}): {receipt.dossiers} "
                 f"hồ sơ ({receipt.created} mới, {receipt.unchanged} đã có), "
                 f"{receipt.files} tệp.")
        return EXIT_REFUSED if conflicts else EXIT_DRAINED
    if not args.once:
        return _forever(service, ctx)
    return _once(args, service)


def _once(args: argparse.Namespace, service: object) -> int:
    from desktop_app.sync.service import SyncService

    assert isinstance(service, SyncService)
    service.retry(include_refused=args.retry_refused)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    engine = service.engine()
    totals: dict[str, int] = {}
    report = None
    for _ in range(MAX_ROUNDS):
        report = engine.run_once(cancelled=stop.is_set, pull=not args.no_pull)
        for key in ("files_uploaded", "files_already_there", "bytes_sent", "dossiers_sent",
                    "events_sent", "changes_pulled"):
            totals[key] = totals.get(key, 0) + int(getattr(report, key))
        if report.auth_failed or not report.online or stop.is_set():
            break
        status = service.status()
        if status.pending == 0 or report.pushed == 0:
            break
        service.retry()  # items that waited on their files are due again now
    assert report is not None
    status = service.status()
    if report.online and not report.auth_failed and status.pending == 0:
        service.record_success()
    # Pending items another sender holds under a live lease are on their way, not stuck.
    waiting = (service.held_elsewhere(engine.holder)
               if status.pending and report.online and not report.auth_failed else 0)
    data = {**totals, "online": report.online, "auth_failed": report.auth_failed,
            "pending": status.pending, "refused": status.refused,
            "waiting_other_counter": waiting,
            "clock_skew_s": report.clock_skew_s, "errors": report.errors,
            "settings_updated": report.settings_updated, "notices": report.notices}
    text = (f"Đã gửi {totals.get('dossiers_sent', 0)} hồ sơ, "
            f"{totals.get('files_uploaded', 0)} tệp, {totals.get('events_sent', 0)} sự kiện; "
            f"nhận {totals.get('changes_pulled', 0)} thay đổi trạng thái. "
            f"Còn chờ: {status.pending}; bị từ chối: {status.refused}.")
    if waiting:
        text += f"\nĐang chờ quầy khác gửi nốt {waiting} mục."
    if report.errors:
        text += "\n" + "\n".join(f"- {e}" for e in dict.fromkeys(report.errors))
    if report.notices:
        text += "\nCài đặt do tỉnh quản lý:\n" + "\n".join(f"- {n}" for n in report.notices)
    _out(args, data, text)
    if report.auth_failed:
        return EXIT_AUTH
    if status.pending > waiting:
        return EXIT_LEFT
    if waiting:
        log.info("sync --once: %d item(s) left, all leased by another sender", waiting)
    return EXIT_REFUSED if status.refused else EXIT_DRAINED


def _forever(service: object, ctx: AppContext) -> int:
    from desktop_app.sync.heartbeat import heartbeat_path
    from desktop_app.sync.service import SyncService
    from desktop_app.sync.worker import SyncWorker

    assert isinstance(service, SyncService)
    # The window's worker and probe schedule: offline with items waiting, a probe at
    # most every 3 s, so a scheduled service delivers as soon after the link's return.
    worker = SyncWorker(service, poll_s=SERVICE_POLL_S,
                        heartbeat=heartbeat_path(ctx.paths.root))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    log.info("sync service started (pid %d)", os.getpid())
    print("Đang đồng bộ liên tục; nhấn Ctrl+C để dừng.")
    while not stop.wait(SERVICE_POLL_S):
        worker.ensure_alive()  # a thread that died anyway is started again
    worker.stop()
    log.info("sync service stopped")
    return EXIT_DRAINED


def _status(args: argparse.Namespace) -> int:
    """Read the heartbeat only: works while the database is down, from any process."""
    from desktop_app.paths import DataPaths, default_data_dir
    from desktop_app.sync.heartbeat import read_heartbeat

    view = read_heartbeat(DataPaths(args.data_dir or default_data_dir()).root)
    _out(args, {"level": view.level, "message": view.message_vi, **view.data},
         view.message_vi[:1].upper() + view.message_vi[1:])
    return EXIT_LEFT if view.level == "warn" else EXIT_DRAINED
