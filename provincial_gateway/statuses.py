"""The national one-stop status codes (TrangThaiHoSo) with the portal's labels, as the
gateway shows them in its admin pages and change feed notes."""

from __future__ import annotations

STATUS_LABELS: dict[int, str] = {
    1: "Mới đăng ký",
    2: "Đã tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung hồ sơ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong, có kết quả",
    10: "Đã trả kết quả",
}
