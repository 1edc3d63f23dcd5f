"""Separator sheets: strict payload, printable PDF, detection on scanner-like pages."""

from __future__ import annotations

import io
import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from desktop_app.domain.citizen_qr import CitizenQrError, parse_citizen_qr
from desktop_app.scanning import separators
from desktop_app.scanning.barcodes import (
    decode_qr,
    downscaled_gray,
    make_qr_image,
    scan_qr_zxing,
)
from desktop_app.scanning.separators import (
    SeparatorError,
    SeparatorSpec,
    detect_separator,
    inspect_page,
    is_separator_payload,
    parse_separator_payload,
    render_separator_sheets,
    try_parse_separator,
)
from tests.scanning.batch_images import (
    CITIZEN_QR,
    HARSH,
    MILD,
    Degradation,
    degrade,
    idcard_page,
    receipt_page,
    render_separator_images,
    save_jpeg,
)

pytestmark = pytest.mark.nodb

CODE = "000.00.12.H12-231027-1001"
SPEC = SeparatorSpec(CODE, "BSKS", 3, "Lường Thị Ửng", "Bản sao Giấy khai sinh hoặc giấy tờ "
                     "chứng minh nội dung khai sinh của người được đăng ký")
DPI = 150


# --- payload ---------------------------------------------------------------------------------

def test_payload_round_trip_and_shape() -> None:
    assert SPEC.payload == "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|3"
    back = parse_separator_payload(SPEC.payload)
    assert back == SPEC and back.key == (CODE, "BSKS", 3)
    assert back.applicant_name == ""  # names are printed, not encoded
    assert parse_separator_payload(SPEC.payload.encode()) == SPEC
    longest = SeparatorSpec("999.99.99.Z99-991231-9999", "A" * 16, 99)
    assert len(longest.payload) <= 55  # QR version 6 at level H


@pytest.mark.parametrize("payload", [
    "",
    "MCO-SEP/1",
    "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS",  # missing index
    "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|3|x",  # extra field
    "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|03",  # leading zero
    "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|0",
    "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|100",
    "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|-1",
    "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|3\n",  # no trimming
    " MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|3",
    "MCO-SEP/1|000.00.12.h12-231027-1001|BSKS|3",  # lower-case agency
    "MCO-SEP/1|000.00.12.H12-231327-1001|BSKS|3",  # month 13
    "MCO-SEP/1|000.00.12.H12-231027-0001|BSKS|3",  # station 0
    "MCO-SEP/1|000.00.12.H12-231027-1000|BSKS|3",  # sequence 0
    "MCO-SEP/1|x000.00.12.H12-231027-1001|BSKS|3",
    "MCO-SEP/1|000.00.12.H12-231027-1001||3",
    "MCO-SEP/1|000.00.12.H12-231027-1001|BS KS|3",
    "MCO-SEP/1|000.00.12.H12-231027-1001|Đơn|3",
    "MCO-SEP/1|000.00.12.H12-231027-1001|ABCDEFGHIJKLMNOPQ|3",  # 17 characters
    "MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|٣",  # Arabic-Indic digit three
    "mco-sep/1|000.00.12.H12-231027-1001|BSKS|3",
    "MCO-SEP/2|000.00.12.H12-231027-1001|BSKS|3",
    "MCO-SEP/|000.00.12.H12-231027-1001|BSKS|3",
    CITIZEN_QR,
    CODE,  # the receipt QR without a tracking URL
    f"https://dichvucong.thainguyen.gov.vn/tra-cuu?ma={CODE}",
    "MCO-SEP/1|" + "9" * 80,
])
def test_strict_validation(payload: str) -> None:
    with pytest.raises(SeparatorError):
        parse_separator_payload(payload)
    assert try_parse_separator(payload) is None


def test_other_readers_reject_separator_payloads() -> None:
    # An ID-card reader sees a wrong first field; the receipt look-up can ask us first.
    with pytest.raises(CitizenQrError):
        parse_citizen_qr(SPEC.payload)
    assert is_separator_payload(SPEC.payload) and is_separator_payload(b"MCO-SEP/9|x")
    assert not is_separator_payload(CITIZEN_QR) and not is_separator_payload(CODE)


def test_newer_version_gets_its_own_message() -> None:
    with pytest.raises(SeparatorError) as err:
        parse_separator_payload("MCO-SEP/2|whatever")
    assert "phiên bản" in err.value.message_vi


@pytest.mark.parametrize(("args", "word"), [
    (("000.00.12.H12-231027-100", "TK", 1), "Mã hồ sơ"),
    ((CODE, "T K", 1), "Mã thành phần"),
    ((CODE, "TK", 0), "Số thứ tự"),
    ((CODE, "TK", True), "Số thứ tự"),
])
def test_spec_is_validated_on_construction(args: tuple[str, str, int], word: str) -> None:
    with pytest.raises(SeparatorError) as err:
        SeparatorSpec(*args)
    assert word in err.value.message_vi


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=90), st.binary(max_size=90),
                 st.text(max_size=60).map(lambda t: "MCO-SEP/1|" + t),
                 st.lists(st.text(alphabet="0123456789.-|HABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                  max_size=26), max_size=6)
                 .map(lambda parts: "MCO-SEP/1|" + "|".join(parts))))
def test_no_input_crashes_the_parser(data: str | bytes) -> None:
    try:
        spec = parse_separator_payload(data)
    except SeparatorError:
        return
    assert spec.payload == (data.decode() if isinstance(data, bytes) else data)


@settings(max_examples=200, deadline=None)
@given(agency=st.from_regex(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}", fullmatch=True),
       day=st.dates(date(2000, 1, 1), date(2099, 12, 31)), station=st.integers(1, 9),
       seq=st.integers(1, 999),
       component=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", fullmatch=True),
       index=st.integers(1, 99))
def test_every_valid_spec_round_trips(agency: str, day: date, station: int, seq: int,
                                      component: str, index: int) -> None:
    code = f"{agency}-{day:%y%m%d}-{station}{seq:03d}"
    spec = SeparatorSpec(code, component, index)
    assert parse_separator_payload(spec.payload) == spec
    assert parse_separator_payload(spec.payload.encode("ascii")) == spec


# --- printing --------------------------------------------------------------------------------

def test_pdf_has_one_a4_page_per_sheet_with_readable_vietnamese(tmp_path: Path) -> None:
    other = SeparatorSpec("000.00.12.H12-231027-1002", "TK", 1, "Nguyễn Văn Đức",
                          "Tờ khai đăng ký khai sinh")
    path = tmp_path / "out" / "tach.pdf"
    data = render_separator_sheets([SPEC, other], path)
    assert path.read_bytes() == data
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    first = reader.pages[0].extract_text()
    for text in (CODE, "TỜ PHÂN CÁCH — KHÔNG SỐ HÓA", "Lường Thị Ửng", "Thành phần số 3",
                 "Bản sao Giấy khai sinh", "BSKS"):
        assert text in first
    assert "Nguyễn Văn Đức" in reader.pages[1].extract_text()
    fonts = {str(f) for page in reader.pages
             for f in page["/Resources"]["/Font"].get_object().values()
             for f in [f.get_object()["/BaseFont"]]}
    assert fonts and not any("Helvetica" in f for f in fonts)  # only the embedded fonts


def test_output_is_deterministic_and_empty_requests_refused() -> None:
    assert render_separator_sheets([SPEC]) == render_separator_sheets([SPEC])
    with pytest.raises(SeparatorError):
        render_separator_sheets([])


@pytest.fixture(scope="module")
def sheet_image(tmp_path_factory: pytest.TempPathFactory) -> Image.Image:
    out = tmp_path_factory.mktemp("sheet")
    [png] = render_separator_images([SPEC], DPI, out)
    with Image.open(png) as im:
        return im.convert("L")


def test_both_printed_symbols_decode(sheet_image: Image.Image) -> None:
    codes = decode_qr(sheet_image)
    assert [c.text for c in codes] == [SPEC.payload, SPEC.payload]
    tops = sorted(c.rect[1] for c in codes)
    assert tops[0] < sheet_image.height * 0.3 < sheet_image.height * 0.6 < tops[1]
    assert detect_separator(sheet_image) == SPEC


# --- detection on scanner-like pages ---------------------------------------------------------

@pytest.mark.parametrize(("seed", "how", "upside_down"), [
    (1, MILD, False),
    (2, MILD, True),
    (3, HARSH, False),
    (4, HARSH, True),
    (5, Degradation(max_skew=3.0, noise=16, blur=1.2, jpeg_quality=40), True),
])
def test_detects_degraded_sheets(sheet_image: Image.Image, tmp_path: Path, seed: int,
                                 how: Degradation, upside_down: bool) -> None:
    rng = random.Random(seed)
    scan = degrade(sheet_image, rng, DPI, how, rotate_180=upside_down)
    path = save_jpeg(scan, tmp_path / "scan.jpg", how.jpeg_quality, DPI)
    with Image.open(path) as im:
        found = inspect_page(im)
    assert found.spec == SPEC and found.decoder == "zbar"


def test_quarter_turned_sheet_still_reads(sheet_image: Image.Image) -> None:
    assert detect_separator(sheet_image.rotate(90, expand=True)) == SPEC


def test_id_card_and_receipt_codes_are_ignored() -> None:
    for page in (idcard_page(random.Random(1), 200), receipt_page(random.Random(2), 200, CODE)):
        found = inspect_page(page)
        assert found.spec is None and not found.is_separator
        assert found.foreign_codes >= 1  # the QR was seen and set aside
        assert found.zxing_tried  # a citizen QR must not hide a separator from zxing


def _page_with(*payloads: str) -> Image.Image:
    page = Image.new("L", (1240, 1754), 255)
    for i, payload in enumerate(payloads):
        page.paste(make_qr_image(payload, box_size=6, level="H"), (100 + 520 * (i % 2), 150))
    return page


def test_unusable_separator_codes_are_reported_not_ignored() -> None:
    newer = inspect_page(_page_with("MCO-SEP/2|000.00.12.H12-231027-1001|BSKS|3"))
    assert newer.spec is None and newer.is_separator and newer.invalid is not None
    two = inspect_page(_page_with(SPEC.payload, "MCO-SEP/1|000.00.12.H12-231027-1002|TK|1"))
    assert two.spec is None and two.invalid is not None and "hai tờ" in two.invalid.message_vi
    # A separator next to a citizen QR (a sheet photocopied onto a card copy) still counts.
    both = inspect_page(_page_with(CITIZEN_QR, SPEC.payload))
    assert both.spec == SPEC and both.foreign_codes == 1


def test_zxing_is_the_fallback(monkeypatch: pytest.MonkeyPatch,
                               sheet_image: Image.Image) -> None:
    monkeypatch.setattr(separators, "scan_qr_once", lambda gray, scale=1.0: [])
    found = inspect_page(sheet_image)
    assert found.spec == SPEC and found.decoder == "zxing" and found.zxing_tried
    assert inspect_page(sheet_image, use_zxing=False).spec is None


def test_large_pages_are_decoded_downscaled(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    real = separators.scan_qr_once

    def spy(gray: Image.Image, scale: float = 1.0) -> list[separators.DecodedCode]:
        seen.append(gray.size)
        return real(gray, scale)

    monkeypatch.setattr(separators, "scan_qr_once", spy)
    page = Image.new("L", (7016, 9921), 255)  # A4 at 850 dpi; an A0 scan is read the same way
    page.paste(make_qr_image(SPEC.payload, box_size=60, level="H"), (2000, 1000))
    assert detect_separator(page) == SPEC
    assert seen and max(seen[0]) <= 1600


def test_downscale_and_zxing_functions() -> None:
    gray, scale = downscaled_gray(Image.new("RGB", (3508, 2480), "white"))
    assert max(gray.size) <= 1600 and gray.mode == "L" and scale == pytest.approx(3508 / gray.width)
    small, one = downscaled_gray(Image.new("L", (800, 600), 255))
    assert small.size == (800, 600) and one == 1
    qr = make_qr_image("Nà Phặc – ư", box_size=4)
    codes = scan_qr_zxing(qr, scale=2.0)
    assert [c.text for c in codes] == ["Nà Phặc – ư"]
    assert codes[0].rect[0] == pytest.approx(2 * 4 * 4, abs=4)
