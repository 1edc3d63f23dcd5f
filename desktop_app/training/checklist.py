"""The trainer's checklist: the scenarios a class goes through, each with its steps, and
which ones the trainee has done (ticks kept in ``checklist.json`` of the training folder,
so they survive a restart and are cleared by a reset)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from desktop_app.files import write_atomically
from desktop_app.training.citizens import CITIZENS
from desktop_app.training.seed import ACCOUNTS


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    steps: tuple[str, ...]


def _name(i: int) -> str:
    return CITIZENS[i].card.full_name


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("intake_scan", "Tiếp nhận hồ sơ bằng quét mã QR thẻ căn cước", (
        "F2, gõ “xac nhan tinh trang hon nhan” rồi Enter.",
        f"Quét thẻ của {_name(0)} trên tờ thẻ giả lập: thông tin chủ hồ sơ tự điền.",
        "Ctrl+Enter qua các bước, Ctrl+A đánh dấu đủ thành phần, Ctrl+Enter tiếp nhận.",
        "Ctrl+P in giấy tiếp nhận (có dấu TẬP HUẤN). Tỉnh giả lập trả kết quả sau 10 phút.",
    )),
    Scenario("supplement", "Yêu cầu bổ sung và nhận bổ sung", (
        f"Tiếp nhận hồ sơ thứ hai (thẻ {_name(1)}): sau 5 phút tỉnh yêu cầu bổ sung.",
        "F7, quét mã trên giấy tiếp nhận: trạng thái “Yêu cầu bổ sung”, ý kiến của tỉnh.",
        "“Số hóa thành phần bổ sung…”, rồi “Hoàn tất nhận bổ sung”: in lại giấy tiếp nhận.",
        "Tại quầy: “Yêu cầu bổ sung…” ở bước cuối của tiếp nhận in Mẫu 02.",
    )),
    Scenario("late_apology", "Hồ sơ trễ hạn: văn bản xin lỗi (F8)", (
        f"F8: hồ sơ của {_name(2)} nhận từ ba tuần trước đã quá hạn.",
        "“Lập văn bản xin lỗi, đề nghị gia hạn…”: chọn ngày hẹn mới, in Mẫu 04.",
        "Sau 45 phút tỉnh báo có kết quả: trả kết quả hồ sơ trễ (F7).",
    )),
    Scenario("return_proxy", "Trả kết quả cho người nhận thay", (
        "Khi hồ sơ thứ nhất “Đã có kết quả”: F7, quét mã trên giấy tiếp nhận.",
        f"Quét thẻ của {_name(3)}: bà trở thành người nhận thay (được ủy quyền).",
        "Ctrl+Enter ghi nhận trả kết quả và in phiếu trả.",
    )),
    Scenario("refusal", "Tỉnh dừng xử lý: trao thông báo", (
        f"Hồ sơ thứ ba (thẻ {_name(7)}): sau 8 phút tỉnh dừng xử lý.",
        "F7, mở hồ sơ, trao thông báo (Mẫu 05) cho công dân.",
    )),
    Scenario("usb_bundle", "Mất mạng: xuất gói USB", (
        "F6 bảng đồng bộ: xem các mục đang chờ gửi.",
        "“Xuất gói USB…”: chọn một thư mục làm “USB”, gói được mã hóa và ký.",
        "Giải thích: gói được nhập ở máy có mạng hoặc tại cổng tỉnh.",
    )),
)


def accounts_text() -> list[str]:
    return [f"{a.username} / {a.password} — {a.full_name}" for a in ACCOUNTS]


class Checklist:
    def __init__(self, path: Path) -> None:
        self.path = path

    def ticks(self) -> dict[str, bool]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {k: bool(v) for k, v in raw.items() if isinstance(k, str)}

    def set(self, key: str, done: bool) -> None:
        ticks = self.ticks()
        ticks[key] = done
        write_atomically(self.path, json.dumps(ticks, ensure_ascii=False, indent=1))
