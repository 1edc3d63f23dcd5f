"""Gateway-side models the wire module leaves as plain dicts.

`DossierDocument` states what the gateway checks in a PUT body (the national dossier
document of `desktop_app.sync.national`); every other field is kept exactly as sent."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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


class TaiLieuNopItem(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    TepDinhKemSha256: str | None = Field(
        default="", description="SHA-256 (hex) of the digitized file, uploaded first by tus")


class DossierDocument(BaseModel):
    """PUT /dossiers/{client_id} body: the national one-stop dossier document."""

    model_config = ConfigDict(extra="allow", strict=True)

    ClientId: str = Field(min_length=1, max_length=64, description="The station's dossier UUID")
    MaDonVi: str = Field(min_length=1, max_length=40, description="Receiving agency code")
    MaHoSo: str = Field(max_length=60, description="Dossier code; empty for a refusal")
    PhienBan: int = Field(ge=0, description="Revision, incremented by the station on each change")
    TrangThaiHoSo: int = Field(default=2, ge=1, le=10)
    NgayTiepNhan: str = Field(default="", description="yyyyMMddHHmmss, Asia/Ho_Chi_Minh")
    MaTTHC: str = ""
    TenTTHC: str = ""
    TaiLieuNop: list[TaiLieuNopItem] = Field(default_factory=list)
