"""Mapping of local dossiers to the national one-stop sync vocabulary (DOMAIN.md).

The outbox stores this document as sent, so a retry resends the identical body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from local_db.models import Dossier


def national_time(value: datetime | None) -> str:
    return value.strftime("%Y%m%d%H%M%S") if value else ""


def dossier_document(d: Dossier, agency_code: str) -> dict[str, Any]:
    owner = d.owner
    id_type = 1 if len(owner.id_number) == 12 else 2 if owner.id_number else None
    return {
        "ClientId": d.uuid,
        "MaDonVi": agency_code,
        "MaHoSo": d.code or "",
        "SoPhieu": d.slip_number,
        "MaTTHC": d.procedure_code,
        "TenTTHC": d.procedure_name,
        "KenhThucHien": d.channel,
        "ChuHoSo": owner.full_name,
        "LoaiDoiTuong": 1,
        "SoGiayToChuHoSo": owner.id_number,
        "DinhDanhCHS": (
            [{"LoaiDinhDanh": id_type, "SoDinhDanh": owner.id_number}] if id_type else []
        ),
        "DiaChiChuHoSo": owner.address,
        "Email": owner.email,
        "SoDienThoai": owner.phone,
        "NguoiNop": d.submitter.full_name if d.submitter else owner.full_name,
        "TrichYeuHoSo": d.procedure_name[:1000],
        "NgayTiepNhan": national_time(d.received_at),
        "NgayHenTra": national_time(d.appointment_at),
        "NgayTuChoi": national_time(d.received_at) if d.status == 3 else "",
        "TrangThaiHoSo": d.status,
        "HinhThuc": 1 if d.delivery == "counter" else 2,
        "DiaChiNhanKetQua": d.delivery_address,
        "GhiChu": d.reason or d.note,
        "HoSoCoThanhPhanSoHoa": any(c.blob_sha256 for c in d.components),
        "TaiLieuNop": [
            {
                "MaThanhPhanHoSo": c.component_code,
                "TenTepDinhKem": c.name,
                "SoBanChinh": c.originals,
                "SoBanSao": c.certified_copies,
                "SoBanChup": c.photocopies,
                "DaNop": c.provided,
                "NoiDungBoSung": c.problem,
                "TepDinhKemSha256": c.blob_sha256 or "",
                "DuocSoHoa": 1 if c.blob_sha256 else 0,
            }
            for c in d.components
        ],
        "DanhSachLePhi": [{"TenPhiLePhi": "Tổng phí, lệ phí", "Gia": d.fee_total}]
        if d.fee_total
        else [],
    }
