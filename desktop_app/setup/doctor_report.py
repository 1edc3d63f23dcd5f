"""The doctor's answer: one `Check` per thing looked at, each OK, a warning or a failure
with a Vietnamese message for the technician and details for the helpdesk."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from desktop_app import __version__

OK, WARN, FAIL = "ok", "warn", "fail"
STATUS_VI = {OK: "OK", WARN: "CẢNH BÁO", FAIL: "LỖI"}
EXIT_CODES = {OK: 0, WARN: 1, FAIL: 2}


@dataclass
class Check:
    id: str
    title_vi: str
    status: str
    message_vi: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def line(self) -> str:
        return f"[{STATUS_VI[self.status]:^8}] {self.title_vi}: {self.message_vi}"


@dataclass
class DoctorReport:
    generated_at: str
    data_dir: str
    checks: list[Check]
    elapsed_s: float = 0.0

    @property
    def status(self) -> str:
        states = {c.status for c in self.checks}
        return FAIL if FAIL in states else WARN if WARN in states else OK

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def check(self, check_id: str) -> Check:
        return next(c for c in self.checks if c.id == check_id)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "app_version": __version__, "generated_at": self.generated_at,
                "data_dir": self.data_dir, "status": self.status,
                "exit_code": self.exit_code, "elapsed_s": round(self.elapsed_s, 2),
                "checks": [asdict(c) for c in self.checks]}

    def text_vi(self) -> str:
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in (OK, WARN, FAIL)}
        verdict = {OK: "Máy trạm sẵn sàng.",
                   WARN: "Máy trạm dùng được nhưng có điểm cần xem.",
                   FAIL: "Máy trạm có lỗi cần kỹ thuật viên xử lý."}[self.status]
        lines = [f"Kiểm tra máy trạm Một Cửa Offline {__version__} — {self.generated_at}",
                 f"Thư mục dữ liệu: {self.data_dir}", ""]
        lines += [c.line for c in self.checks]
        lines += ["", f"{verdict} ({counts[OK]} đạt, {counts[WARN]} cảnh báo, "
                      f"{counts[FAIL]} lỗi; {self.elapsed_s:.1f} giây)"]
        return "\n".join(lines)
