"""Command line of the reference gateway: `python -m provincial_gateway <command>`.

Also reachable as `motcua gateway ...` through `main(argv)`. Commands that change data
open the database directly (a running server sees the change at once); `faults` talks to
a running server over HTTP, because the fault plan lives in its memory."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import UTC
from pathlib import Path
from typing import Any

from provincial_gateway.config import (
    ADMIN_TOKEN_FILE,
    DEFAULT_PORT,
    ENV_ADMIN_TOKEN,
    GatewayConfig,
    default_data_dir,
)
from provincial_gateway.faults import KINDS
from provincial_gateway.object_store import (
    BlobStoreSettingError,
    ObjectStoreError,
    ObjectStoreNotInstalled,
)
from provincial_gateway.timeutil import VN

PROG = "python -m provincial_gateway"
# As `motcua gateway` without its extra (desktop_app.commands.gateway_cmd): this install
# cannot do what was asked.
EXIT_NOT_INSTALLED = 2


class CliError(Exception):
    pass


def _config(args: argparse.Namespace, **extra: Any) -> GatewayConfig:
    return GatewayConfig(data_dir=Path(args.data) if args.data else default_data_dir(),
                         db_url=args.db, blob_store=args.blob_store, **extra)


def _open(args: argparse.Namespace) -> Any:
    from provincial_gateway.state import open_state

    return open_state(_config(args))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from provincial_gateway import trusted_proxies, workers

    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("Cần cả --tls-cert và --tls-key để bật HTTPS.")
    if not 1 <= args.workers <= workers.MAX_WORKERS:
        raise CliError(f"Số tiến trình xử lý (--workers) phải từ 1 đến {workers.MAX_WORKERS}, "
                       f"không phải {args.workers}.")
    if not 1 <= args.db_pool <= workers.MAX_DB_POOL:
        raise CliError(f"Số kết nối cơ sở dữ liệu mỗi tiến trình (--db-pool) phải từ 1 đến "
                       f"{workers.MAX_DB_POOL}, không phải {args.db_pool}.")
    try:
        proxies = trusted_proxies.parse(
            args.trusted_proxy or os.environ.get(trusted_proxies.ENV_TRUSTED_PROXIES))
    except trusted_proxies.TrustedProxyError as exc:
        raise CliError(str(exc)) from None
    workers.configure_logging(args.log_level)
    config = _config(args, catalog_file=Path(args.catalog) if args.catalog else None,
                     admin_token=args.admin_token, public_url=args.public_url,
                     serve_docs=True if args.docs else None,
                     accept_heartbeats=not args.no_heartbeats, db_pool_size=args.db_pool)
    options: dict[str, Any] = dict(
        host=args.host, port=args.port, http="h11", ws="none", ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key, log_level=args.log_level, timeout_graceful_shutdown=5,
        # uvicorn's Config carries these into spawned workers too (it is pickled to them).
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
    app: Any = None
    if args.workers == 1:
        from provincial_gateway.app import create_app

        app = create_app(config)  # in this process, as before --workers existed
    else:
        workers.prepare(config)
    scheme = "https" if args.tls_cert else "http"
    token_source = (ENV_ADMIN_TOKEN if os.environ.get(ENV_ADMIN_TOKEN) or args.admin_token
                    else str(config.data_dir / ADMIN_TOKEN_FILE))
    files = f"; tệp: {config.blob_store_url}" if config.blob_store_url else ""
    print(f"Cổng tỉnh chạy tại {scheme}://{args.host}:{args.port} "
          f"(dữ liệu: {config.data_dir}{files}; trang quản trị /admin, mã quản trị: "
          f"{token_source})", flush=True)
    print(_capacity_line(config, args.workers), flush=True)
    if proxies:
        print("Địa chỉ người gọi lấy từ X-Forwarded-For/X-Forwarded-Proto khi yêu cầu đến "
              f"từ reverse proxy: {', '.join(proxies)}", flush=True)
    if app is not None:
        uvicorn.run(app, **options)
        return 0
    # Spawned workers inherit this process's environment; SIGINT/SIGTERM to this parent
    # stops them all (uvicorn's supervisor terminates and joins every worker).
    os.environ[workers.ENV_WORKER_CONFIG] = workers.config_to_json(config, args.log_level)
    try:
        uvicorn.run(workers.FACTORY, factory=True, workers=args.workers, **options)
    finally:
        os.environ.pop(workers.ENV_WORKER_CONFIG, None)
    return 0


def _capacity_line(config: GatewayConfig, count: int) -> str:
    """Processes and database connections, for checking PostgreSQL's max_connections."""
    from provincial_gateway.workers import connections_per_worker

    if config.database_url.startswith("sqlite"):
        advice = " Nên dùng PostgreSQL (--db) khi chạy nhiều tiến trình." if count > 1 else ""
        return f"{count} tiến trình xử lý; cơ sở dữ liệu SQLite.{advice}"
    per = connections_per_worker(config.db_pool_size)
    return (f"{count} tiến trình xử lý; mỗi tiến trình tối đa {per} kết nối PostgreSQL "
            f"({config.db_pool_size} thường trực + {per - config.db_pool_size} dự phòng), "
            f"cả máy này tối đa {count * per}: max_connections của máy chủ PostgreSQL phải "
            "đủ cho tổng của mọi máy chạy cổng.")


def cmd_add_station(args: argparse.Namespace) -> int:
    from provincial_gateway import admin_ops

    state = _open(args)
    try:
        token, created = admin_ops.add_station(state, args.agency, args.digit, args.name,
                                               args.token)
    finally:
        state.close()
    what = "Đã thêm" if created else "Đã cấp lại mã thông báo cho"
    print(f"{what} quầy {args.digit} của {args.agency.strip().upper()}.")
    print("Mã thông báo (chỉ hiển thị một lần, hãy nhập vào máy trạm ngay):")
    print(token)
    return 0


def cmd_enrolment_code(args: argparse.Namespace) -> int:
    from provincial_gateway import admin_ops

    state = _open(args)
    try:
        code, expires = admin_ops.issue_enrolment_code(state, args.agency, args.digit,
                                                       args.name, args.days)
    finally:
        state.close()
    local = expires.replace(tzinfo=UTC).astimezone(VN)
    print(f"Mã đăng ký một lần cho quầy {args.digit} của {args.agency.strip().upper()} "
          f"(dùng được đến {local:%H:%M %d/%m/%Y}; mã cũ chưa dùng của quầy này hết hiệu lực):")
    print(code)
    print("Ghi vào tệp cấu hình máy trạm: \"enrolment_code\": \"" + code + "\"")
    return 0


def cmd_revoke_station(args: argparse.Namespace) -> int:
    from provincial_gateway import admin_ops

    state = _open(args)
    try:
        admin_ops.revoke_station(state, args.agency, args.digit)
    finally:
        state.close()
    print(f"Đã thu hồi quyền đồng bộ của quầy {args.digit} ({args.agency}).")
    return 0


def cmd_stations(args: argparse.Namespace) -> int:
    from provincial_gateway import admin_ops

    state = _open(args)
    try:
        rows = admin_ops.list_stations(state)
    finally:
        state.close()
    for r in rows:
        revoked = "" if r.active else "\t(đã thu hồi)"
        print(f"{r.agency_code}\tquầy {r.station_digit}\t{r.name}{revoked}")
    if not rows:
        print("Chưa có máy trạm nào.")
    return 0


def cmd_audit_heads(args: argparse.Namespace) -> int:
    from provincial_gateway import audit_heads

    state = _open(args)
    try:
        rows = audit_heads.list_heads(state, args.agency, flagged_only=not args.all)
    finally:
        state.close()
    for r in rows:
        why = f"\t{r.reason}" if r.reason else ""
        print(f"{r.received_at}\t{r.agency_code}\tquầy {r.station_digit}\t{r.verdict}\t"
              f"chuỗi {r.chain}\tsố {r.seq}\t{r.hash[:16]}…{why}")
    if not rows:
        print("Không có đầu chuỗi nhật ký nào bị đánh dấu." if not args.all
              else "Chưa có máy trạm nào gửi đầu chuỗi nhật ký.")
    return 0


EXIT_FLAGGED = 3  # `fleet`: at least one counter needs looking at


def cmd_fleet(args: argparse.Namespace) -> int:
    from provincial_gateway import fleet

    if args.min_version and fleet.version_key(args.min_version) is None:
        raise CliError(f"“{args.min_version}” không phải số phiên bản (ví dụ 1.4.2).")
    if args.silent_days < 0 or args.min_free_gb < 0:
        raise CliError("--silent-days và --min-free-gb không được âm.")
    policy = fleet.FleetPolicy(args.min_version or "", args.silent_days, args.min_free_gb)
    state = _open(args)
    try:
        result = fleet.fleet(state, policy, agency=args.agency)
    finally:
        state.close()
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(fleet.table_vi(result))
    return EXIT_FLAGGED if result.flagged else 0


def cmd_add_clerk(args: argparse.Namespace) -> int:
    from provincial_gateway import admin_ops, refdata

    if args.password_hash:
        password_hash = args.password_hash
    else:
        password = args.password or getpass.getpass("Mật khẩu ban đầu: ")
        if len(password) < admin_ops.MIN_PASSWORD:
            raise CliError(f"Mật khẩu phải có ít nhất {admin_ops.MIN_PASSWORD} ký tự.")
        password_hash = admin_ops.hash_password(password)
    agency = admin_ops.validate_agency(args.agency)
    state = _open(args)
    try:
        created = refdata.upsert_clerk(state, agency, args.username, args.full_name, args.role,
                                       password_hash)
    finally:
        state.close()
    print(f"{'Đã thêm' if created else 'Đã cập nhật'} tài khoản {args.username.strip()} "
          f"({args.role}) của {agency}.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from provincial_gateway import admin_ops

    state = _open(args)
    try:
        rows = admin_ops.list_dossiers(state, args.agency, args.limit)
    finally:
        state.close()
    for d in rows:
        flags = "".join(f"\t⚠ {label}" for label in d.flag_labels)
        print(f"{d.ma_ho_so or d.client_id}\t{d.agency_code}\tPB {d.revision}\t"
              f"{d.status} {d.status_label}\t{d.procedure_code}{flags}")
    if not rows:
        print("Chưa có hồ sơ nào.")
    return 0


def cmd_set_status(args: argparse.Namespace) -> int:
    from provincial_gateway import admin_ops
    from provincial_gateway.statuses import STATUS_LABELS
    from provincial_gateway.timeutil import parse_national

    try:
        status = int(args.status)
    except ValueError as exc:
        raise CliError(f"Trạng thái “{args.status}” phải là số từ 1 đến 10.") from exc
    appointment = ""
    if args.new_appointment:
        try:
            appointment = parse_national(args.new_appointment)
        except ValueError as exc:
            raise CliError("Ngày hẹn trả mới phải có dạng YYYY-MM-DD, “YYYY-MM-DD HH:MM” "
                           "hoặc yyyyMMddHHmmss.") from exc
    results = _result_uploads(args)
    state = _open(args)
    try:
        change = admin_ops.set_status(state, args.ma_ho_so, status, note=args.note or "",
                                      actor=args.by or "", new_appointment=appointment,
                                      results=results)
    except admin_ops.StatusError as exc:
        raise CliError(str(exc)) from exc
    finally:
        state.close()
    print(f"Hồ sơ {change.MaHoSo or change.ClientId} chuyển sang {status} "
          f"({STATUS_LABELS[status]}); thứ tự thay đổi {change.seq}.")
    for doc in change.DanhSachGiayToKetQua:
        print(f"  Giấy tờ kết quả: {doc.TenGiayTo} {doc.MaGiayToKetQua} "
              f"({doc.KichThuoc} byte, SHA-256 {doc.TepSha256[:12]}…)")
    return 0


def _result_uploads(args: argparse.Namespace) -> list[Any]:
    """--result FILE (repeatable); --name/--number/--signer/--date apply to every file."""
    from datetime import date

    from provincial_gateway.admin_ops import ResultUpload

    signed_on = None
    if args.date:
        try:
            signed_on = date.fromisoformat(args.date)
        except ValueError as exc:
            raise CliError("Ngày ký phải có dạng YYYY-MM-DD.") from exc
    return [ResultUpload(Path(f), args.name or "", args.number or "", args.signer or "",
                         signed_on) for f in args.result or []]


def cmd_import_catalog(args: argparse.Namespace) -> int:
    from provincial_gateway import refdata

    state = _open(args)
    try:
        version, count = refdata.import_catalog(state, Path(args.file))
    finally:
        state.close()
    print(f"Đã nạp danh mục {version}: {count} thủ tục.")
    return 0


def cmd_publish_settings(args: argparse.Namespace) -> int:
    from provincial_gateway import settings_publish

    state = _open(args)
    try:
        doc, new = settings_publish.publish_settings(state, Path(args.file))
    finally:
        state.close()
    parts = [name for key, name in (("scan_profiles", "hồ sơ quét"),
                                    ("upload_limit_bytes", "giới hạn dung lượng tệp"),
                                    ("fee_schedules", "biểu phí"), ("signers", "người ký"))
             if doc.get(key) is not None]
    if new:
        print(f"Đã công bố cài đặt phiên bản {doc['version']} ({doc['published_at']}): "
              f"{', '.join(parts) or 'không phần nào'}. Các quầy nhận ở lần đồng bộ tới.")
    else:
        print(f"Cài đặt phiên bản {doc['version']} đã được công bố trước đó; không đổi gì.")
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    from provincial_gateway import refdata

    state = _open(args)
    try:
        if args.calendar_cmd == "add":
            refdata.set_calendar_day(state, args.day, args.kind, args.note or "")
            label = "ngày nghỉ" if args.kind == "off" else "ngày làm việc bù"
            print(f"Đã ghi {args.day} là {label}.")
        elif args.calendar_cmd == "remove":
            if not refdata.remove_calendar_day(state, args.day):
                raise CliError(f"Lịch không có ngày {args.day}.")
            print(f"Đã xóa {args.day} khỏi lịch điều chỉnh.")
        else:
            body = refdata.calendar_body(state)
            for o in body["overrides"]:
                print(f"{o['day']}\t{o['kind']}\t{o['note']}")
            if not body["overrides"]:
                print("Chưa có ngày điều chỉnh nào.")
    finally:
        state.close()
    return 0


def cmd_import_bundle(args: argparse.Namespace) -> int:
    from provincial_gateway.bundles import import_bundle_file
    from provincial_gateway.errors import WireError

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"Không tìm thấy tệp {path}.")
    state = _open(args)
    try:
        receipt = import_bundle_file(state, path)
    except WireError as exc:
        raise CliError(exc.message) from exc
    finally:
        state.close()
    print(f"Gói {receipt.bundle_id}: {receipt.dossiers} hồ sơ ({receipt.created} mới/cập nhật, "
          f"{receipt.unchanged} đã có), {receipt.files} tệp.")
    for item in receipt.conflicts:
        print(f"  Bị từ chối, cần kiểm tra: {item}")
    return 0


def _admin_token_for_client(args: argparse.Namespace) -> str:
    token = args.admin_token or os.environ.get(ENV_ADMIN_TOKEN)
    if token:
        return token
    path = (Path(args.data) if args.data else default_data_dir()) / ADMIN_TOKEN_FILE
    if not path.exists():
        raise CliError(f"Không tìm thấy mã quản trị ({path}); dùng --admin-token.")
    return path.read_text(encoding="ascii").strip()


def _admin_request(args: argparse.Namespace, method: str, body: Any = None) -> Any:
    url = args.url.rstrip("/") + "/admin/faults"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {_admin_token_for_client(args)}",
        "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("message", exc.reason)
        raise CliError(f"Cổng tỉnh từ chối ({exc.code}): {detail}") from exc
    except OSError as exc:
        raise CliError(f"Không kết nối được tới cổng tỉnh {args.url}: {exc}") from exc


def cmd_faults(args: argparse.Namespace) -> int:
    if args.faults_cmd == "set":
        rule: dict[str, Any] = {"kind": args.kind, "path": args.path, "method": args.method,
                                "times": args.times, "rate": args.rate,
                                "delay_s": args.delay, "status": args.status,
                                "retry_after": args.retry_after}
        plan = _admin_request(args, "POST", {"rules": [rule], "seed": args.seed,
                                             "append": args.append})
    elif args.faults_cmd == "clear":
        plan = _admin_request(args, "DELETE")
    else:
        plan = _admin_request(args, "GET")
    for r in plan["rules"]:
        limit = (f"{r['times']} lần" if r["times"] is not None else
                 f"xác suất {r['rate']}" if r["rate"] is not None else "luôn luôn")
        print(f"{r['kind']}\t{r['method']} {r['path']}\t{limit}\tđã xảy ra {r['fired']}")
    if not plan["rules"]:
        print("Không có lỗi giả lập nào.")
    return 0


def cmd_publish_update(args: argparse.Namespace) -> int:
    from provincial_gateway import releases

    installer = Path(args.installer)
    if bool(args.signature) == bool(args.sign_key):
        raise CliError("Cần đúng một trong hai: --signature TỆP_CHỮ_KÝ hoặc --sign-key TỆP_KHÓA.")
    if args.sign_key:
        key = releases.load_release_key(Path(args.sign_key))
        _, signature = releases.sign_installer(installer, args.version, args.platform, key)
    else:
        try:
            signature = Path(args.signature).read_bytes().decode("ascii", "replace")
        except OSError as exc:
            raise CliError(f"Không đọc được tệp chữ ký {args.signature}: {exc}") from exc
    public_key = ""
    if args.public_key:
        public_key = Path(args.public_key).read_text(encoding="ascii").strip() \
            if Path(args.public_key).is_file() else args.public_key
    state = _open(args)
    try:
        done = releases.publish(state, installer, args.version, signature=signature,
                                platform=args.platform, public_key=public_key)
    finally:
        state.close()
    print(f"Đã công bố bản cập nhật {done.version} ({done.platform}): {done.size} byte, "
          f"SHA-256 {done.sha256}.")
    return 0


def cmd_release_key(args: argparse.Namespace) -> int:
    from provincial_gateway import releases

    if args.key_cmd == "new":
        private, public, text = releases.new_release_key(Path(args.out))
        print(f"Khóa riêng (giữ kín, chỉ người phát hành đọc được): {private}")
        print(f"Khóa công khai: {public}")
        print("Ghi vào tệp cấu hình máy trạm:")
        print(f'"release_public_key": "{text}"')
        return 0
    key = releases.load_release_key(Path(args.key))
    platform, signature = releases.sign_installer(Path(args.installer), args.version,
                                                  args.platform, key)
    Path(args.out).write_text(signature + "\n", encoding="ascii")
    print(f"Đã ký bộ cài {args.installer} ({args.version}, {platform}): {args.out}")
    return 0


def cmd_updates(args: argparse.Namespace) -> int:
    from provincial_gateway import releases

    state = _open(args)
    try:
        rows = releases.list_releases(state)
    finally:
        state.close()
    for r in rows:
        print(f"{r.platform}\t{r.version}\t{r.size}\t{r.sha256}\t{r.published_at:%Y-%m-%d %H:%M}")
    if not rows:
        print("Chưa công bố bản cập nhật nào.")
    return 0


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", help="thư mục dữ liệu của cổng (mặc định: $MOTCUA_GATEWAY_DATA "
                                       "hoặc thư mục dữ liệu của người dùng)")
    common.add_argument("--db", help="URL cơ sở dữ liệu (mặc định SQLite trong --data; "
                                     "PostgreSQL: postgresql+psycopg://…)")
    common.add_argument("--blob-store", metavar="URL",
                        help="nơi lưu tệp: s3://bucket/tiền-tố cho kho S3 dùng chung giữa "
                             "các máy chủ (địa chỉ và khóa từ biến môi trường AWS_*), local "
                             "cho thư mục dữ liệu (mặc định: $MOTCUA_GATEWAY_BLOB_STORE hoặc "
                             "lần chạy trước với --data này)")
    parser = argparse.ArgumentParser(prog=prog, description="Cổng tỉnh tham chiếu của Một Cửa "
                                     "Offline (đồng bộ hồ sơ, đào tạo, kiểm thử).")
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("serve", parents=[common], help="chạy máy chủ")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--tls-cert", help="chứng thư PEM (bật HTTPS)")
    p.add_argument("--tls-key", help="khóa riêng PEM")
    p.add_argument("--catalog", help="nạp danh mục thủ tục từ tệp JSON khi khởi động")
    p.add_argument("--public-url", help="địa chỉ công khai khi chạy sau reverse proxy")
    p.add_argument("--trusted-proxy", action="append", metavar="ADDR[,ADDR…]",
                   help="địa chỉ IP hoặc dải mạng CIDR của reverse proxy được tin "
                        "X-Forwarded-For/X-Forwarded-Proto (mặc định: không tin ai; "
                        "hoặc MOTCUA_GATEWAY_TRUSTED_PROXIES)")
    p.add_argument("--docs", action="store_true",
                   help="phục vụ /docs, /redoc và /openapi.json (mặc định tắt; "
                        "hoặc MOTCUA_GATEWAY_DOCS=1)")
    p.add_argument("--admin-token", help="mã quản trị (mặc định: biến môi trường hoặc tệp "
                                         "admin-token trong --data)")
    p.add_argument("--no-heartbeats", action="store_true",
                   help="không nhận nhịp báo của máy trạm (như cổng phiên bản cũ)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="số tiến trình xử lý yêu cầu, 1–64 (mặc định 1). Nhiều tiến trình "
                        "chạy được với SQLite nhưng nên dùng PostgreSQL (--db)")
    p.add_argument("--db-pool", type=int, default=20, metavar="N",
                   help="số kết nối PostgreSQL thường trực của mỗi tiến trình, cũng là số yêu "
                        "cầu nó xử lý cùng lúc (mặc định 20; thêm tối đa 5 kết nối dự phòng)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("add-station", parents=[common], help="cấp quyền cho một máy trạm")
    p.add_argument("--agency", required=True, help="mã cơ quan, ví dụ 000.00.12.H12")
    p.add_argument("--digit", type=int, required=True, help="số hiệu quầy 1–9")
    p.add_argument("--name", default="", help="tên quầy")
    p.add_argument("--token", help="mã thông báo cho trước (mặc định: sinh ngẫu nhiên)")
    p.set_defaults(func=cmd_add_station)

    p = sub.add_parser("enrolment-code", parents=[common],
                       help="cấp mã đăng ký một lần để máy trạm tự lấy mã thông báo")
    p.add_argument("--agency", required=True, help="mã cơ quan, ví dụ 000.00.12.H12")
    p.add_argument("--digit", type=int, required=True, help="số hiệu quầy 1–9")
    p.add_argument("--name", default="", help="tên quầy")
    p.add_argument("--days", type=int, default=7, help="số ngày mã còn hiệu lực (mặc định 7)")
    p.set_defaults(func=cmd_enrolment_code)

    p = sub.add_parser("revoke-station", parents=[common], help="thu hồi quyền của máy trạm")
    p.add_argument("--agency", required=True)
    p.add_argument("--digit", type=int, required=True)
    p.set_defaults(func=cmd_revoke_station)

    p = sub.add_parser("stations", parents=[common], help="liệt kê máy trạm")
    p.set_defaults(func=cmd_stations)

    p = sub.add_parser("audit-heads", parents=[common],
                       help="đầu chuỗi nhật ký kiểm tra của các quầy bị đánh dấu bất thường")
    p.add_argument("--agency")
    p.add_argument("--all", action="store_true", help="cả các đầu chuỗi bình thường")
    p.set_defaults(func=cmd_audit_heads)

    p = sub.add_parser(
        "fleet", parents=[common], help="tình trạng các quầy (phiên bản, hàng chờ, đĩa, "
        "kiểm tra máy, lệch giờ) và các quầy cần xem",
        description="Các quầy đang hoạt động với nhịp báo cuối cùng của từng quầy. Đánh dấu "
        "quầy dùng phiên bản cũ, im lặng quá N ngày, kiểm tra máy (doctor) lỗi hoặc sắp hết "
        f"đĩa. Mã thoát: 0 không quầy nào cần xem; {EXIT_FLAGGED} có quầy cần xem; 1 lỗi.")
    p.add_argument("--json", action="store_true", help="in dạng JSON (cho máy giám sát)")
    p.add_argument("--agency", help="chỉ các quầy của một đơn vị")
    p.add_argument("--min-version", help="phiên bản tối thiểu (mặc định: mới nhất trong tỉnh)")
    p.add_argument("--silent-days", type=float, default=3.0,
                   help="im lặng quá số ngày này thì đánh dấu (mặc định 3)")
    p.add_argument("--min-free-gb", type=float, default=2.0,
                   help="đĩa trống dưới số GB này thì đánh dấu (mặc định 2)")
    p.set_defaults(func=cmd_fleet)

    p = sub.add_parser("add-clerk", parents=[common], help="thêm/cập nhật tài khoản cán bộ")
    p.add_argument("--agency", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--full-name", required=True)
    p.add_argument("--role", default="clerk",
                   choices=["clerk", "scanner", "supervisor", "technician"])
    p.add_argument("--password", help="mật khẩu ban đầu (mặc định: hỏi khi chạy)")
    p.add_argument("--password-hash", help="chuỗi băm argon2id có sẵn")
    p.set_defaults(func=cmd_add_clerk)

    p = sub.add_parser("list", parents=[common], help="liệt kê hồ sơ và trạng thái")
    p.add_argument("--agency")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("set-status", parents=[common],
                       help="chuyển trạng thái xử lý của hồ sơ (4, 5, 9, 10…)")
    p.add_argument("ma_ho_so", metavar="MAHOSO")
    p.add_argument("status", metavar="STATUS")
    p.add_argument("--note", help="nội dung xử lý")
    p.add_argument("--by", help="người xử lý")
    p.add_argument("--new-appointment", help="ngày hẹn trả mới")
    p.add_argument("--result", action="append", metavar="FILE",
                   help="tệp giấy tờ kết quả (PDF) đính kèm khi chuyển sang 9; lặp lại được")
    p.add_argument("--name", help="tên giấy tờ kết quả (mặc định: tên tệp)")
    p.add_argument("--number", help="số giấy tờ kết quả, ví dụ 123/GKS")
    p.add_argument("--signer", help="người ký giấy tờ kết quả")
    p.add_argument("--date", help="ngày ký (YYYY-MM-DD)")
    p.set_defaults(func=cmd_set_status)

    p = sub.add_parser("import-catalog", parents=[common], help="nạp danh mục thủ tục (JSON)")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_catalog)

    p = sub.add_parser("publish-settings", parents=[common],
                       help="công bố cài đặt do tỉnh quản lý (JSON hoặc TOML): hồ sơ quét, "
                            "giới hạn dung lượng tệp, biểu phí, người ký")
    p.add_argument("file")
    p.set_defaults(func=cmd_publish_settings)

    p = sub.add_parser("calendar", help="ngày nghỉ / làm việc bù của tỉnh")
    csub = p.add_subparsers(dest="calendar_cmd", required=True)
    c = csub.add_parser("add", parents=[common])
    c.add_argument("day", help="YYYY-MM-DD")
    c.add_argument("kind", choices=["off", "work"])
    c.add_argument("--note")
    c = csub.add_parser("remove", parents=[common])
    c.add_argument("day")
    csub.add_parser("list", parents=[common])
    p.set_defaults(func=cmd_calendar)

    p = sub.add_parser("import-bundle", parents=[common], help="nhập gói dữ liệu USB")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_bundle)

    p = sub.add_parser("publish-update", parents=[common],
                       help="công bố bộ cài phiên bản mới cho các máy trạm tải về")
    p.add_argument("installer", metavar="INSTALLER", help="bộ cài (.exe hoặc .deb)")
    p.add_argument("--version", required=True, help="phiên bản, ví dụ 1.2.0")
    p.add_argument("--platform", choices=["windows", "linux-deb"],
                   help="mặc định: theo đuôi tệp (.exe: windows, .deb: linux-deb)")
    p.add_argument("--signature", metavar="SIG_FILE",
                   help="tệp chữ ký Ed25519 (base64) do tỉnh ký bằng release-key sign")
    p.add_argument("--sign-key", metavar="KEY_FILE",
                   help="ký ngay bằng khóa riêng này (cổng tham chiếu, lớp đào tạo)")
    p.add_argument("--public-key", help="khóa công khai ed25519:… (hoặc tệp) để kiểm tra chữ "
                                        "ký trước khi công bố")
    p.set_defaults(func=cmd_publish_update)

    p = sub.add_parser("updates", parents=[common], help="liệt kê các bản cập nhật đã công bố")
    p.set_defaults(func=cmd_updates)

    p = sub.add_parser("release-key", help="khóa phát hành (ký bộ cài) của tỉnh")
    ksub = p.add_subparsers(dest="key_cmd", required=True)
    k = ksub.add_parser("new", help="tạo cặp khóa Ed25519 mới")
    k.add_argument("--out", required=True, metavar="DIR", help="thư mục ghi khóa")
    k = ksub.add_parser("sign", help="ký một bộ cài (ra tệp chữ ký cho publish-update)")
    k.add_argument("installer", metavar="INSTALLER")
    k.add_argument("--version", required=True)
    k.add_argument("--platform", choices=["windows", "linux-deb"])
    k.add_argument("--key", required=True, metavar="KEY_FILE")
    k.add_argument("--out", required=True, metavar="SIG_FILE")
    p.set_defaults(func=cmd_release_key)

    client = argparse.ArgumentParser(add_help=False, parents=[common])
    client.add_argument("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}",
                        help="địa chỉ cổng đang chạy")
    client.add_argument("--admin-token")
    p = sub.add_parser("faults", help="lỗi giả lập trên cổng đang chạy (kiểm thử, đào tạo)")
    fsub = p.add_subparsers(dest="faults_cmd", required=True)
    f = fsub.add_parser("set", parents=[client])
    f.add_argument("--kind", required=True, choices=KINDS)
    f.add_argument("--path", default=".*", help="biểu thức chính quy trên đường dẫn")
    f.add_argument("--method", default=".*")
    limit = f.add_mutually_exclusive_group()
    limit.add_argument("--times", type=int, help="chỉ N yêu cầu khớp tiếp theo")
    limit.add_argument("--rate", type=float, help="xác suất 0–1 cho mỗi yêu cầu khớp")
    f.add_argument("--delay", type=float, default=2.0, help="giây (kind=delay)")
    f.add_argument("--status", type=int, default=503)
    f.add_argument("--retry-after", type=int, default=1)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--append", action="store_true", help="thêm vào các luật đang có")
    fsub.add_parser("clear", parents=[client])
    fsub.add_parser("show", parents=[client])
    p.set_defaults(func=cmd_faults)
    return parser


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Run one command; returns the exit code (0 done, 1 refused, 2 bad usage or a missing
    extra (`--blob-store s3://…` without boto3); `fleet`: 3 when a counter needs looking
    at).

    `prog` names the command in help texts, e.g. "motcua gateway"."""
    args = build_parser(prog).parse_args(argv)
    from provincial_gateway.admin_ops import AdminError
    from provincial_gateway.dossiers import StatusError
    from provincial_gateway.refdata import RefDataError
    from provincial_gateway.releases import ReleaseError

    try:
        return int(args.func(args))
    except ObjectStoreNotInstalled as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return EXIT_NOT_INSTALLED
    except ObjectStoreError as exc:
        print(f"Lỗi: {exc.message}", file=sys.stderr)
        return 1
    except (CliError, AdminError, StatusError, RefDataError, ReleaseError,
            BlobStoreSettingError) as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
