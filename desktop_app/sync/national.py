"""Mapping of local dossiers to the national one-stop sync vocabulary (DOMAIN.md).

The outbox stores this document as sent, so a retry resends the identical body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from local_db.models import Dossier, DossierComponent
from sync_contract import text_rules


def national_time(value: datetime | None) -> str:
    return value.strftime("%Y%m%d%H%M%S") if value else ""


def _files(c: DossierComponent) -> list[tuple[str, str, int, str]]:
    """(sha256, file name, digitization state, MaKetQuaThayThe) of a component's current
    files; the last is the original's dossier code for a reused copy, else ""."""
    out = [(f.blob_sha256, f.file_name, f.digitization_state,
            f.reuse.source_code if f.reuse else "")
           for f in c.files if f.superseded_at is None]
    if not out and c.blob_sha256:
        out.append((c.blob_sha256, c.name, 1, ""))
    return out


def _documents(c: DossierComponent) -> list[dict[str, Any]]:
    """One TaiLieuNop item per digitized file (a component split into parts has several);
    a component without a file still appears, so the checklist travels complete."""
    base = {
        "MaThanhPhanHoSo": c.component_code,
        "TenThanhPhan": c.name,
        "SoBanChinh": c.originals,
        "SoBanSao": c.certified_copies,
        "SoBanChup": c.photocopies,
        "DaNop": c.provided,
        "NoiDungBoSung": c.problem,
        "IsDeleted": False,
    }
    files = _files(c)
    if not files:
        return [{**base, "TenTepDinhKem": c.name, "TepDinhKemSha256": "", "DuocSoHoa": 0,
                 "DuocTaiSuDung": False, "DuocLayTuKhoDMQG": False, "MaKetQuaThayThe": ""}]
    # A reused copy (state 2 or 3) is DuocTaiSuDung with the code of what it stands for:
    # the dossier whose digitized component (or result) it is (README, reuse).
    return [{**base, "TenTepDinhKem": name, "TepDinhKemSha256": sha, "DuocSoHoa": state,
             "DuocTaiSuDung": state in (2, 3), "DuocLayTuKhoDMQG": False,
             "MaKetQuaThayThe": source}
            for sha, name, state, source in files]


def file_hashes(document: dict[str, Any]) -> list[str]:
    """Blobs a dossier document refers to (the gateway must hold them first): the
    components' files and the results digitized at the counter."""
    return sorted({t["TepDinhKemSha256"] for t in document.get("TaiLieuNop", [])
                   if t.get("TepDinhKemSha256")}
                  | {r["TepSha256"] for r in document.get("DanhSachGiayToKetQua", [])
                     if r.get("TepSha256")})


def _counter_results(d: Dossier) -> list[dict[str, Any]]:
    """DanhSachGiayToKetQua of the paper results digitized at the counter (DOMAIN.md),
    each with its file's hash: the gateway holds the file before it takes the document."""
    return [{"GiayToId": r.gateway_id, "TenGiayTo": r.name,
             "MaThanhPhanHoSo": r.component_code, "MaGiayToKetQua": r.number,
             "NguoiKy": r.signer,
             "NgayKy": r.signed_on.strftime("%Y%m%d000000") if r.signed_on else "",
             "TepSha256": r.announced_sha256, "KichThuoc": r.size, "LoaiTep": r.media_type,
             "DuongDanTepTinKetQua": f"/api/v1/blobs/{r.announced_sha256}",
             "NguonKetQua": "counter"}
            for r in d.counter_results]


def dossier_document(d: Dossier, agency_code: str) -> dict[str, Any]:
    """The document as the gateway accepts it: every string within the wire text rules
    (lengths, no control or direction characters), whatever a clerk typed or pasted."""
    doc = _document(d, agency_code)
    # Added field, present only when there is one: documents of other dossiers (and their
    # stored revisions) stay byte for byte as before.
    if results := _counter_results(d):
        doc["DanhSachGiayToKetQua"] = results
    return text_rules.fit_document(doc)


def _document(d: Dossier, agency_code: str) -> dict[str, Any]:
    owner = d.owner
    id_type = 1 if len(owner.id_number) == 12 else 2 if owner.id_number else None
    return {
        "ClientId": d.uuid,
        "PhienBan": d.revision or 1,
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
        # The date the citizen was last given, as before; the receipt's appointment, the
        # legal deadline and every change travel alongside (added fields only).
        "NgayHenTra": national_time(d.current_appointment_at or d.appointment_at),
        "NgayHenTraBanDau": national_time(d.appointment_at),
        "HanGiaiQuyet": national_time(d.due_at or d.appointment_at),
        "DanhSachHenLai": [
            {"Loai": c.kind, "NgayHenTraTruoc": national_time(c.old_at),
             "NgayHenTraMoi": national_time(c.new_at), "LyDo": c.reason,
             "NguoiQuyetDinh": c.decided_by[:50], "ThoiDiem": national_time(c.decided_at)}
            for c in d.appointment_changes],
        "NgayTuChoi": national_time(d.received_at) if d.status == 3 else "",
        "TrangThaiHoSo": d.status,
        "HinhThuc": 1 if d.delivery == "counter" else 2,
        "DiaChiNhanKetQua": d.delivery_address,
        "GhiChu": d.reason or d.note,
        "HoSoCoThanhPhanSoHoa": any(_files(c) for c in d.components),
        "TaiLieuNop": [item for c in d.components for item in _documents(c)],
        "DanhSachLePhi": _fees(d),
        # Added field: each collection as recorded (a reversal cancels ``HuyKhoanThu``).
        "DanhSachThuPhi": [
            {"KhoanThuId": p.id, "SoTien": p.amount, "NguoiNop": p.payer_name,
             "HinhThucThu": p.method, "SoBienLai": p.receipt_number, "LyDo": p.reason,
             "GiaiDoan": p.stage, "HuyKhoanThu": p.reverses_id,
             "NguoiThu": p.collected_by[:50], "ThoiDiem": national_time(p.collected_at)}
            for p in d.payments],
    }


def _fee_type(kind: str) -> int:
    """LoaiPhiLePhi: 1 phí, 2 lệ phí, 0 neither (e.g. "không thu")."""
    k = kind.casefold().replace("_", " ")
    return 2 if "lệ phí" in k or "le phi" in k else 1 if "phí" in k or "phi" in k else 0


def _fees(d: Dossier) -> list[dict[str, Any]]:
    if not d.fees:  # a dossier from before the fees were itemised
        return [{"TenPhiLePhi": "Tổng phí, lệ phí", "Gia": d.fee_total}] if d.fee_total else []
    return [{"TenPhiLePhi": f.name, "MaPhiLePhi": f.fee_code, "Gia": f.amount,
             "LoaiPhiLePhi": _fee_type(f.kind), "CachTinh": f.rate_text,
             "SoLuong": f.quantity_text} for f in d.fees]
