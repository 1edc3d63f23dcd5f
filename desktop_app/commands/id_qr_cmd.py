"""`motcua id-qr PAYLOAD|IMAGE`: scanner self-test for the chip ID card QR.

Give the text a keyboard-wedge scanner typed (quote it), or a photo/scan of the card: the
image is read with zbar in binary mode, then parsed and validated as the intake wizard
would. Exit status 0 when the card reads, 2 when it does not (the Vietnamese reason goes
to stderr; ``-v`` adds the technical detail to the log)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from desktop_app.domain.citizen_qr import CitizenCard, looks_like_citizen_qr, parse_citizen_qr
from desktop_app.domain.errors import DomainError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".tif", ".tiff", ".bmp", ".gif",
                  ".webp", ".pnm", ".pgm", ".ppm"}


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "id-qr", help="kiểm tra máy quét: giải mã và kiểm tra mã QR thẻ căn cước",
        description="Giải mã mã QR trên thẻ căn cước/CCCD từ chuỗi ký tự (máy quét gõ ra) "
        "hoặc từ tệp ảnh chụp/quét thẻ.")
    p.add_argument("source", metavar="PAYLOAD|IMAGE",
                   help="chuỗi dữ liệu của mã QR (đặt trong dấu nháy), hoặc đường dẫn tệp "
                   "ảnh có mã QR")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.set_defaults(func=run)


def _is_image_path(source: str) -> bool:
    if "\x00" in source or len(source) > 4096:
        return False
    path = Path(source)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return True
    if looks_like_citizen_qr(source):
        return False
    try:
        return path.is_file()
    except (OSError, ValueError):  # e.g. a name too long for the file system
        return False


def _payload_from_image(path: Path) -> str:
    from desktop_app.scanning.barcodes import decode_qr_file

    codes = decode_qr_file(path)
    if not codes:
        raise DomainError(
            f"Không tìm thấy mã QR nào trong ảnh {path.name}. Hãy chụp/quét lại rõ nét, đủ "
            "sáng, mã QR không bị lóa hoặc bị che.", f"{path}: no QR code found")
    texts = [c.text for c in codes if c.text is not None]
    if not texts:
        raise DomainError(f"Mã QR trong ảnh {path.name} không chứa văn bản UTF-8 (không phải "
                          "mã QR thẻ căn cước).", f"{path}: {len(codes)} non-UTF-8 QR codes")
    # A photo may also show other codes (a receipt, a separator sheet): prefer the card's.
    cards = [t for t in texts if looks_like_citizen_qr(t.strip())]
    if len(codes) > 1:
        log.info("%s: %d QR codes, %d look like an ID card", path, len(codes), len(cards))
    return (cards or texts)[0]


def _as_json(card: CitizenCard) -> dict[str, Any]:
    return {
        "id_number": card.id_number, "old_id_number": card.old_id_number,
        "full_name": card.full_name, "birth_date": card.birth_date.isoformat(),
        "sex": card.sex, "address": card.address,
        "issue_date": card.issue_date.isoformat() if card.issue_date else None,
        "extra": list(card.extra), "warnings": card.consistency_warnings(),
    }


def _lines(card: CitizenCard) -> list[str]:
    rows = [("Số định danh", card.id_number)]
    if card.old_id_number:
        rows.append(("Số CMND cũ", card.old_id_number))
    rows += [
        ("Họ và tên", card.full_name),
        ("Ngày sinh", f"{card.birth_date:%d/%m/%Y}"),
        ("Giới tính", card.sex),
        ("Nơi thường trú", card.address),
        ("Ngày cấp", f"{card.issue_date:%d/%m/%Y}" if card.issue_date else "(không có)"),
    ]
    rows += [(f"Trường thêm {i}", value) for i, value in enumerate(card.extra, 8)]
    lines = ["Mã QR hợp lệ."] + [f"{label + ':':<17}{value}" for label, value in rows]
    lines += [f"Lưu ý: {w}" for w in card.consistency_warnings()]
    lines.append("Mã QR không có chữ ký số: chỉ dùng để nhập nhanh, hãy đối chiếu với thẻ gốc.")
    return lines


def _utf8_safe_output() -> None:
    """A console or pipe that cannot show Vietnamese gets escapes instead of a crash."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding not in ("utf8", "utf_8") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def run(args: argparse.Namespace) -> int:
    source: str = args.source
    _utf8_safe_output()
    try:
        if _is_image_path(source):
            card = parse_citizen_qr(_payload_from_image(Path(source)))
        else:
            card = parse_citizen_qr(source)
    except DomainError as exc:
        log.info("id-qr refused: %s", exc.detail)
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_as_json(card), ensure_ascii=False, indent=1))
    else:
        print("\n".join(_lines(card)))
    return 0
