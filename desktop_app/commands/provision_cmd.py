"""`motcua provision FILE`: set up a counter PC from the technician's provisioning file.

Exit codes: 0 applied (or, with --dry-run, valid), possibly with warnings such as an
unreachable gateway; 2 the file is invalid or cannot be applied (nothing is written).
The station token is never printed; a generated one-time password for the technician
account is printed once."""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.domain.errors import DomainError

if TYPE_CHECKING:
    from desktop_app.context import AppContext
    from desktop_app.setup.plan import ProvisionPlan

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INVALID = 2


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "provision", help="cấu hình máy trạm từ tệp cấu hình của kỹ thuật viên",
        description="Kiểm tra toàn bộ tệp cấu hình (JSON hoặc TOML) rồi áp dụng một lần: "
        "cơ quan, số hiệu quầy, địa chỉ và chứng chỉ của hệ thống tỉnh, mã xác thực (lưu vào "
        "kho khóa của hệ điều hành), hồ sơ quét, tài khoản kỹ thuật viên. Mã thoát: 0 thành "
        "công (có thể kèm cảnh báo, ví dụ chưa kết nối được tỉnh); 2 tệp không hợp lệ hoặc "
        "không áp dụng được (không thay đổi gì). Mẫu: packaging/provision.example.json.")
    p.add_argument("file", type=Path, metavar="TỆP", help="tệp cấu hình .json hoặc .toml")
    p.add_argument("--data-dir", type=Path, default=None, help="thư mục dữ liệu")
    p.add_argument("--dry-run", action="store_true",
                   help="chỉ kiểm tra tệp và kết nối, không ghi gì")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.add_argument("--force", action="store_true",
                   help="vẫn ghi đè khi CSDL dùng chung đang là của quầy khác")
    p.set_defaults(func=run)


def _db_reachable(url: str, timeout: float = 3.0) -> str:
    """"" when the PostgreSQL server answers on TCP, else the problem (a LAN server that
    is off would otherwise hang the connection for minutes)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    host, port = u.host or "localhost", u.port or 5432
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return (f"db_url: không kết nối được máy chủ CSDL {host}:{port} "
                f"({exc.strerror or type(exc).__name__}). Hãy bật máy chủ và kiểm tra mạng LAN.")
    return ""


def _emit(args: argparse.Namespace, data: dict[str, Any], lines: list[str],
          stream: Any = None) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(lines), file=stream or sys.stdout)


def run(args: argparse.Namespace) -> int:
    from desktop_app.setup.plan import ProvisioningInvalid
    from desktop_app.setup.plan_file import read_plan

    try:
        plan = read_plan(args.file)
    except ProvisioningInvalid as exc:
        log.info("provision: %s", exc.detail)
        _emit(args, {"ok": False, "dry_run": args.dry_run, "file": str(args.file),
                     "errors": [p.text for p in exc.problems], "warnings": []},
              [f"Tệp {args.file}: {exc.message_vi}", "Chưa thay đổi gì trên máy này."],
              sys.stderr)
        return EXIT_INVALID
    from desktop_app.paths import default_data_dir

    # A refusal (or a dry run) leaves the data directory exactly as it found it.
    created = _Created(args.data_dir or default_data_dir())
    try:
        code = _run_or_refuse(args, plan)
    except BaseException:
        created.remove()
        raise
    if code != EXIT_OK or args.dry_run:
        created.remove()
    return code


def _run_or_refuse(args: argparse.Namespace, plan: ProvisionPlan) -> int:
    try:
        return _apply(args, plan)
    except DomainError as exc:
        # The technician reads the Vietnamese message; the English detail is for the log
        # file only (the console shows warnings and errors, not this).
        log.info("provision failed: %s", exc.detail)
        _emit(args, {"ok": False, "dry_run": args.dry_run, "file": str(args.file),
                     "errors": [exc.message_vi], "warnings": list(plan.warnings)},
              [f"Lỗi: {exc.message_vi}"], sys.stderr)
        return EXIT_INVALID


def _apply(args: argparse.Namespace, plan: ProvisionPlan) -> int:
    from desktop_app.paths import default_data_dir
    from desktop_app.setup.apply import apply_plan, check_existing
    from desktop_app.setup.probe import GatewayProbe, probe_plan

    data_dir: Path = args.data_dir or default_data_dir()
    errors: list[str] = []
    warnings: list[str] = list(plan.warnings)
    notes: list[str] = []
    if plan.db_url and (problem := _db_reachable(plan.db_url)):
        errors.append(problem)

    # What is already on this PC first: a single-use enrolment code is only exchanged
    # when nothing local stands in the way.
    if not errors:
        existing = _existing(data_dir, plan)
        if existing is not None:
            try:
                more_errors, more_warnings = check_existing(existing, plan, force=args.force)
            finally:
                existing.close()
            errors += more_errors
            warnings += more_warnings
    probe = GatewayProbe()
    if not errors:
        probe = probe_plan(plan, enrol=not args.dry_run)
        errors += probe.errors
        warnings += probe.warnings
        notes += probe.notes

    ctx = None
    try:
        summary = plan.summary()
        lines = [f"Tệp cấu hình: {args.file}",
                 f"  Cơ quan: {summary['agency_name']} ({summary['agency_code']}), quầy số "
                 f"{summary['station_digit']}",
                 f"  Hệ thống tỉnh: {summary['gateway_url'] or '(chưa có)'}"
                 + (f" — {'kết nối được' if probe.reachable else 'chưa kết nối được'}"
                    if probe.checked else ""),
                 f"  Thư mục dữ liệu: {data_dir}"]
        data: dict[str, Any] = {"ok": not errors, "dry_run": args.dry_run,
                                "file": str(args.file), "data_dir": str(data_dir),
                                "plan": summary, "errors": errors, "warnings": warnings,
                                "notes": notes,
                                "gateway": {"checked": probe.checked,
                                            "reachable": probe.reachable,
                                            "token_accepted": probe.token_ok,
                                            "identity_checked": probe.identity_checked,
                                            "clock_skew_s": probe.clock_skew_s}}
        if errors:
            lines += ["", f"Không áp dụng được ({len(errors)} lỗi):"]
            lines += [f"  - {e}" for e in errors]
            lines += [f"CẢNH BÁO: {w}" for w in warnings]
            lines.append("Chưa thay đổi gì trên máy này.")
            _emit(args, data, lines, sys.stderr)
            return EXIT_INVALID
        if args.dry_run:
            lines += ["", "Tệp hợp lệ (chạy thử: chưa ghi gì)."]
            lines += [f"CẢNH BÁO: {w}" for w in warnings]
            lines += [f"Ghi chú: {n}" for n in notes]
            _emit(args, data, lines)
            return EXIT_OK
        ctx = _open(data_dir, plan)
        result = apply_plan(ctx, plan, token=probe.token)
    finally:
        if ctx is not None:
            ctx.close()
    applied = asdict(result)
    applied.pop("one_time_password")
    applied.pop("recovery_code")
    applied["station"] = {**applied["station"], "hot_folders": list(result.station.hot_folders)}
    data["applied"] = applied
    lines += ["", "Đã áp dụng cấu hình:"]
    if result.ca_path:
        lines.append(f"  - Chứng chỉ CA của tỉnh: {result.ca_path}")
    if result.token_stored:
        lines.append("  - Mã xác thực của quầy: đã lưu "
                     + ("vào kho khóa của hệ điều hành" if result.token_stored == "keyring"
                        else f"vào {result.token_stored} (chỉ tài khoản này đọc được)"))
    if result.profiles:
        lines.append(f"  - Hồ sơ quét (đã khóa): {', '.join(result.profiles)}")
    if result.technician:
        action = {"created": "đã tạo", "updated": "đã cập nhật mật khẩu",
                  "kept": "đã có, giữ nguyên mật khẩu"}[result.technician_action]
        lines.append(f"  - Tài khoản kỹ thuật viên “{result.technician}”: {action}")
    printer = result.station.printer or "máy in mặc định của hệ điều hành"
    lines.append(f"  - Giữ tệp trên máy {result.station.retention_days} ngày sau khi hồ sơ kết "
                 f"thúc; in biên nhận ra: {printer}")
    if result.station.scanner_prefix or result.station.scanner_suffix:
        from desktop_app.station import scanner_affix_text

        prefix = scanner_affix_text(result.station.scanner_prefix) or "(không có)"
        suffix = scanner_affix_text(result.station.scanner_suffix) or "(không có)"
        lines.append(f"  - Máy quét mã QR: tiền tố {prefix}, hậu tố {suffix}")
    if result.signers:
        lines.append(f"  - Người ký thay mặt cơ quan: Mẫu {', '.join(result.signers)}")
    if result.db_url_path:
        lines.append(f"  - CSDL dùng chung: {result.db_url_path}")
    if plan.release_public_key:
        lines.append("  - Khóa phát hành của tỉnh (kiểm tra chữ ký bản cập nhật): "
                     f"{plan.release_public_key[:20]}…")
    if result.one_time_password:
        data["technician_one_time_password"] = result.one_time_password
        lines += ["", f"Mật khẩu dùng một lần của “{result.technician}”: "
                      f"{result.one_time_password}",
                  "  (chỉ hiện lần này; lần đăng nhập đầu tiên sẽ phải đặt mật khẩu mới)"]
    if result.recovery_code and not (args.json or sys.stdout.isatty()):
        # Text written to a file (the installer's provision.log): the code would lie on
        # the disk beside the escrow copy it unlocks. It is made again at a terminal.
        log.info("recovery code not printed: output is not a terminal")
        lines += ["", "MÃ KHÔI PHỤC DỮ LIỆU: không ghi vào tệp (mã nằm trên ổ đĩa cạnh bản "
                  "khóa dự phòng thì ai lấy được máy cũng mở được dữ liệu). Kỹ thuật viên "
                  "mở cửa sổ lệnh, chạy “motcua recovery-code” và ghi mã ra giấy."]
    elif result.recovery_code:
        data["recovery_code"] = result.recovery_code
        lines += ["", f"MÃ KHÔI PHỤC DỮ LIỆU: {result.recovery_code}",
                  "  (chỉ hiện lần này; ghi ra giấy và cất nơi an toàn. Khi cài lại máy hoặc "
                  "đổi máy, lệnh “motcua recover-key” cần mã này để mở lại dữ liệu đã mã hóa"
                  + ("; bản khóa dự phòng đã gửi lên tỉnh)" if result.escrow_sent
                     else "; bản khóa dự phòng mới chỉ lưu trên máy này)")]
    lines += [f"CẢNH BÁO: {w}" for w in warnings]
    lines += [f"Ghi chú: {n}" for n in notes]
    lines.append("Kiểm tra lại máy bằng: motcua doctor")
    _emit(args, data, lines)
    return EXIT_OK


class _Created:
    """What a refused provisioning made in the data directory, to take it away again: the
    whole directory when it did not exist, else only the entries that were not there
    before. Nothing that existed before is removed."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.existed = data_dir.exists()
        self.before = {p.name for p in data_dir.iterdir()} if data_dir.is_dir() else set()
        self.missing_parents = [p for p in data_dir.parents if not p.exists()]

    def remove(self) -> None:
        import shutil

        if not self.existed:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            for parent in self.missing_parents:  # innermost first
                try:
                    parent.rmdir()
                except OSError:
                    break
            log.info("provision refused: removed the new data directory %s", self.data_dir)
            return
        new = sorted(p for p in self.data_dir.iterdir() if p.name not in self.before)
        for path in new:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        log.info("provision refused: removed %d new entries of %s", len(new), self.data_dir)


def _existing(data_dir: Path, plan: ProvisionPlan) -> AppContext | None:
    """The database already there (opened without migrating), or None."""
    from desktop_app.context import open_existing_context

    try:
        return open_existing_context(data_dir, plan.db_url or None)
    except Exception as exc:
        log.info("provision: existing database not inspected: %s", type(exc).__name__)
        return None


def _open(data_dir: Path, plan: ProvisionPlan) -> AppContext:
    """The data directory's context, created and migrated as needed, to apply the plan."""
    from desktop_app.startup import open_station

    try:
        return open_station(data_dir, db_url=plan.db_url or None, sample_catalog=False)
    except DomainError:
        raise
    except Exception as exc:
        raise DomainError(f"Không mở được cơ sở dữ liệu ({type(exc).__name__}). Hãy kiểm tra "
                          "db_url và quyền ghi thư mục dữ liệu.",
                          f"open_context failed: {type(exc).__name__}: {exc}") from exc
