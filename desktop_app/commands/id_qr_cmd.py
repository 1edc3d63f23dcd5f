"""`motcua id-qr PAYLOAD|IMAGE`: scanner self-test for the chip ID card QR.

Give the text a keyboard-wedge scanner typed (quote it), or a photo/scan of the card: the
image is read with zbar in binary mode, then parsed and validated as the intake wizard
would."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app.domain.citizen_qr import parse_citizen_qr
from desktop_app.domain.errors import DomainError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "id-qr", help="kiểm tra máy quét: giải mã và kiểm tra mã QR thẻ căn cước",
        description="Giải mã mã QR trên thẻ căn cước/CCCD từ chuỗi ký tự hoặc từ tệp ảnh.")
    p.add_argument("source", metavar="PAYLOAD|IMAGE",
                   help="chuỗi dữ liệu của mã QR, hoặc đường dẫn tệp ảnh có mã QR")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.set_defaults(func=run)


def _payload(source: str) -> str:
    path = Path(source)
    if path.suffix.lower() in IMAGE_SUFFIXES or (len(source) < 4096 and path.is_file()):
        from desktop_app.scanning.barcodes import decode_qr_file

        codes = decode_qr_file(path)
        if not codes:
            raise DomainError(f"Không tìm thấy mã QR nào trong ảnh {path.name}.",
                              f"no QR in {path}")
        text = codes[0].text
        if text is None:
            raise DomainError("Mã QR trong ảnh không chứa văn bản UTF-8.",
                              f"non-UTF-8 QR in {path}")
        return text
    return source


def run(args: argparse.Namespace) -> int:
    try:
        card = parse_citizen_qr(_payload(args.source))
    except DomainError as exc:
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({
            "id_number": card.id_number, "old_id_number": card.old_id_number,
            "full_name": card.full_name, "birth_date": card.birth_date.isoformat(),
            "sex": card.sex, "address": card.address,
            "issue_date": card.issue_date.isoformat() if card.issue_date else None,
        }, ensure_ascii=False, indent=1))
        return 0
    print("Mã QR hợp lệ.")
    print(f"Số định danh:    {card.id_number}")
    if card.old_id_number:
        print(f"Số CMND cũ:      {card.old_id_number}")
    print(f"Họ và tên:       {card.full_name}")
    print(f"Ngày sinh:       {card.birth_date:%d/%m/%Y}")
    print(f"Giới tính:       {card.sex}")
    print(f"Nơi thường trú:  {card.address}")
    if card.issue_date:
        print(f"Ngày cấp:        {card.issue_date:%d/%m/%Y}")
    return 0
