"""Why a print job did not reach the printer: a Vietnamese message for the clerk (what to
check, what to do) and the precise cause for the log."""

from __future__ import annotations

from desktop_app.domain.errors import DomainError

KEPT_VI = "Phiếu đã được lưu trong hồ sơ, có thể in lại bất cứ lúc nào."


class PrintError(DomainError):
    """The job was not accepted for printing (nothing was printed)."""


class PrinterNotFound(PrintError):
    def __init__(self, printer: str, detail: str = "") -> None:
        super().__init__(
            f"Không tìm thấy máy in “{printer}” trên máy tính này (có thể đã bị gỡ hoặc đổi "
            f"tên). Hãy chọn máy in khác bằng “In…” (Ctrl+Shift+P) hoặc báo kỹ thuật viên. "
            f"{KEPT_VI}",
            detail or f"printer {printer!r} not found",
        )
        self.printer = printer


class PrintServiceDown(PrintError):
    def __init__(self, detail: str, windows: bool = False) -> None:
        service = "Print Spooler của Windows" if windows else "dịch vụ in (CUPS)"
        super().__init__(
            f"Dịch vụ in của máy tính không chạy ({service}), nên chưa gửi được phiếu tới "
            f"máy in. Hãy khởi động lại máy tính hoặc báo kỹ thuật viên. {KEPT_VI}",
            detail,
        )


class JobRefused(PrintError):
    def __init__(self, printer: str, detail: str) -> None:
        super().__init__(
            f"Máy in “{printer}” đang từ chối nhận lệnh in (đã bị tạm ngừng nhận lệnh). Hãy "
            f"báo kỹ thuật viên bật lại máy in này trong phần quản lý máy in, hoặc chọn máy "
            f"in khác bằng “In…” (Ctrl+Shift+P). {KEPT_VI}",
            detail,
        )
        self.printer = printer
