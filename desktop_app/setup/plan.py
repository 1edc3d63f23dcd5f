"""What a provisioning file says once it has been checked: the plan that is applied to a
counter PC (`plan_file` reads and checks the file, `apply` writes the plan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.domain.errors import DomainError
from desktop_app.scanning.model import ScanProfile
from desktop_app.signers import SignedKind, SignerBlock
from desktop_app.station import StationInfo, scanner_affix_text
from local_db.engine import redacted_url

KNOWN_KEYS: dict[str, str] = {
    "agency_code": "mã cơ quan (QCVN 102:2016, ví dụ 000.00.12.H12)",
    "agency_name": "tên cơ quan in trên phiếu",
    "parent_name": "tên cơ quan cấp trên",
    "place_name": "địa danh",
    "station_digit": "số hiệu quầy 1–9",
    "book_number": "số sổ theo dõi hồ sơ",
    "gateway_url": "địa chỉ hệ thống một cửa của tỉnh",
    "ca_bundle": "chứng chỉ CA của tỉnh (đường dẫn tệp PEM hoặc nội dung PEM)",
    "station_token": "mã xác thực của quầy",
    "enrolment_code": "mã đăng ký một lần để lấy mã xác thực",
    "printer": "tên máy in",
    "scan_profiles": "các hồ sơ quét (khóa bởi kỹ thuật viên)",
    "upload_limit_mb": "giới hạn dung lượng mỗi tệp gửi lên tỉnh (MB)",
    "retention_days": "số ngày giữ tệp trên máy sau khi hồ sơ kết thúc",
    "unsynced_warn_days": "số ngày hồ sơ chưa gửi được thì cảnh báo",
    "hot_folders": "thư mục nhận bản quét khổ lớn",
    "receipt_page_size": "khổ giấy biên nhận (A4 hoặc A5)",
    "tracking_url": "địa chỉ tra cứu hồ sơ in trên biên nhận",
    "db_url": "cơ sở dữ liệu PostgreSQL dùng chung trong mạng LAN",
    "technician": "tài khoản kỹ thuật viên",
    "scanner_prefix": "ký tự máy quét mã QR gửi trước mỗi mã (thường để trống)",
    "scanner_suffix": "ký tự máy quét mã QR gửi sau mỗi mã, trước Enter (thường để trống)",
    "signers": "người ký thay mặt cơ quan theo mẫu (\"04\", \"05\": authority, delegation, "
               "title, name)",
    "release_public_key": "khóa công khai phát hành của tỉnh (ed25519:…) để kiểm tra chữ ký "
                          "bản cập nhật",
    "update_max_kbps": "tốc độ tải bản cập nhật tối đa (kbit/s)",
}


@dataclass(frozen=True)
class Problem:
    key: str
    message_vi: str

    @property
    def text(self) -> str:
        return f"{self.key}: {self.message_vi}" if self.key else self.message_vi


class ProvisioningInvalid(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        lines = "\n".join(f"  - {p.text}" for p in problems)
        super().__init__(f"Tệp cấu hình có {len(problems)} lỗi:\n{lines}",
                         f"provisioning file invalid: {len(problems)} problem(s): "
                         + "; ".join(p.key or "?" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class TechnicianSpec:
    username: str
    full_name: str
    password_hash: str = field(default="", repr=False)


@dataclass(frozen=True)
class ProvisionPlan:
    source: Path
    source_sha256: str
    station: StationInfo  # ca_bundle is set to the installed copy when applied
    profiles: tuple[ScanProfile, ...] = ()
    technician: TechnicianSpec | None = None
    ca_pem: str = field(default="", repr=False)
    ca_source: str = ""  # "inline", the source path, or "" (system CAs)
    token: str = field(default="", repr=False)
    enrolment_code: str = field(default="", repr=False)
    db_url: str = field(default="", repr=False)
    signers: tuple[tuple[SignedKind, SignerBlock], ...] = ()
    warnings: tuple[str, ...] = ()
    release_public_key: str = ""  # "ed25519:<hex>"; "" leaves the stored one as it is
    update_max_kbps: int | None = None  # None leaves the stored limit as it is

    def summary(self) -> dict[str, Any]:
        """What will be applied, without any secret (for --dry-run and --json)."""
        s = self.station
        return {
            "agency_code": s.agency_code, "agency_name": s.agency_name,
            "parent_name": s.parent_name, "place_name": s.place_name,
            "station_digit": s.station_digit, "book_number": s.book_number,
            "gateway_url": s.gateway_url, "ca_bundle": self.ca_source,
            "station_token": "có" if self.token else "không",
            "enrolment_code": "có" if self.enrolment_code else "không",
            "printer": s.printer, "upload_limit_mb": s.upload_limit_mb,
            "retention_days": s.retention_days,
            "unsynced_warn_days": s.unsynced_warn_days, "hot_folders": list(s.hot_folders),
            "receipt_page_size": s.receipt_page_size, "tracking_url": s.tracking_url,
            "db_url": redacted_url(self.db_url),
            "scan_profiles": [p.name for p in self.profiles],
            "technician": self.technician.username if self.technician else "",
            "scanner_prefix": scanner_affix_text(s.scanner_prefix),
            "scanner_suffix": scanner_affix_text(s.scanner_suffix),
            "signers": {kind.value: [*block.title_lines(), block.name]
                        for kind, block in self.signers},
            "release_public_key": self.release_public_key,
            "update_max_kbps": self.update_max_kbps,
        }
