"""`motcua id-qr`: payload text or card image in, Vietnamese fields or a reason out."""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.commands import id_qr_cmd
from desktop_app.scanning.barcodes import make_qr_image

pytestmark = pytest.mark.nodb

CARD = ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|"
        "Số 12, thôn Nà Phặc, xã Nà Phặc, huyện Ngân Sơn, Bắc Kạn|15082021")


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="motcua")
    id_qr_cmd.add_parsers(parser.add_subparsers())
    args = parser.parse_args(["id-qr", *argv])
    return int(args.func(args))


def test_text_payload_prints_vietnamese_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(CARD) == 0
    out = capsys.readouterr().out
    for line in ("Số định danh:    001099012345", "Số CMND cũ:      123456789",
                 "Họ và tên:       Nguyễn Văn An", "Ngày sinh:       01/01/1990",
                 "Giới tính:       Nam",
                 "Nơi thường trú:  Số 12, thôn Nà Phặc, xã Nà Phặc, huyện Ngân Sơn, Bắc Kạn",
                 "Ngày cấp:        15/08/2021"):
        assert line in out.splitlines()
    assert "đối chiếu với thẻ gốc" in out


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(unicodedata.normalize("NFD", CARD), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["full_name"] == "Nguyễn Văn An"
    assert data["birth_date"] == "1990-01-01" and data["issue_date"] == "2021-08-15"
    assert data["sex"] == "Nam" and data["old_id_number"] == "123456789"
    # 001 0 99 …: the number says born 1999, the card says 1990 — a soft warning only.
    assert len(data["warnings"]) == 1 and "1999" in data["warnings"][0]


def test_card_without_issue_date_and_old_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("019390001234||Hoàng Thị Mai|12031990|Nữ|Thôn Nà Lẹng|") == 0
    out = capsys.readouterr().out
    assert "Số CMND cũ" not in out and "Ngày cấp:        (không có)" in out


def test_garbled_wedge_text_is_repaired(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(CARD.encode().decode("latin-1")) == 0
    assert "Họ và tên:       Nguyễn Văn An" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", ["png", "jpg", "tif"])
def test_image_file(tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"the card.{suffix}"
    make_qr_image(CARD).convert("RGB").save(path)
    assert run(str(path)) == 0
    assert "Nơi thường trú:  Số 12, thôn Nà Phặc" in capsys.readouterr().out


def test_existing_file_without_image_suffix_is_read_as_image(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "scan_from_phone"
    make_qr_image(CARD).save(path, format="PNG")
    assert run(str(path), "--json") == 0
    assert json.loads(capsys.readouterr().out)["id_number"] == "001099012345"


def test_the_card_qr_is_chosen_among_several(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    page = Image.new("L", (900, 500), 255)
    page.paste(make_qr_image("000.00.12.H12-231027-1001"), (20, 20))
    page.paste(make_qr_image(CARD, box_size=4), (450, 20))
    path = tmp_path / "desk.png"
    page.save(path)
    assert run(str(path), "--json") == 0
    assert json.loads(capsys.readouterr().out)["full_name"] == "Nguyễn Văn An"


@pytest.mark.parametrize(("source", "message"), [
    ("", "Không nhận được dữ liệu"),
    ("001099012345|123456789|Nguyễn Văn An|31021990|Nam|Sơn La|15082021", "không tồn tại"),
    ("001099012345|123456789|Nguyễn Văn An|01011990|Nam", "5 trường"),
    ("00109901234|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", "12 chữ số"),
    ("001099012345|123456789|NguyÃ»n VÄƒn|01011990|Nam|Sơn La|15082021", "Unikey"),
    ("x" * 5000, "1 trường"),
    ("card.png", "Không tìm thấy tệp card.png"),
])
def test_text_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str,
                     message: str, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(source) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Lỗi: ") and message in captured.err


def _blank(path: Path) -> None:
    Image.new("L", (400, 400), 255).save(path)


def _separator(path: Path) -> None:
    make_qr_image("000.00.12.H12-231027-1001|TK").save(path)


def _utf16(path: Path) -> None:
    make_qr_image("Nguyễn Văn An".encode("utf-16-le")).save(path)


def _truncated(path: Path) -> None:
    make_qr_image(CARD).save(path)
    path.write_bytes(path.read_bytes()[:300])


def _not_an_image(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


@pytest.mark.parametrize(("make", "message"), [
    (_blank, "Không tìm thấy mã QR nào trong ảnh"),
    (_separator, "trường"),
    (_utf16, "không chứa văn bản UTF-8"),
    (_truncated, "bị hỏng"),
    (_not_an_image, "không phải ảnh"),
])
def test_image_errors(tmp_path: Path, make: object, message: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "card.png"
    make(path)  # type: ignore[operator]
    assert run(str(path)) == 2
    err = capsys.readouterr().err
    assert message in err, err
