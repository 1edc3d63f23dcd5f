"""Return-counter letters (Mẫu 04 apology, Mẫu 05 stop/withdrawal notice, return record):
text extracted from the PDF, the QR decoded from a rendering, pagination."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from desktop_app.documents.letters import (
    HEAD_OF_AGENCY,
    ApologyData,
    FeeLine,
    FeesPaid,
    ResultDocument,
    ReturnSlipData,
    StopNoticeData,
    render_apology,
    render_return_receipt,
    render_stop_notice,
)
from desktop_app.documents.slip_parts import AgencyHeader
from desktop_app.scanning.barcodes import decode_qr

pytestmark = pytest.mark.nodb

HEADER = AgencyHeader("UBND xã Nà Phặc", "UBND tỉnh Thái Nguyên", "Nà Phặc")
CODE = "000.00.12.H12-231027-1001"
OWNER = "Đặng Thị Ánh Tuyết"
RECEIVER = "Lò Văn Ún"
CLERK = "Hà Thị Ưng"
REASON = "Chờ ý kiến <b>Sở Tài nguyên & Môi trường</b> về ranh giới thửa đất"
PROCEDURE = "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"
RECEIVED = datetime(2023, 10, 27, 9, 32)
COPY_1 = "Liên 1: Lưu tại Bộ phận tiếp nhận và trả kết quả"
COPY_2 = "Liên 2: Giao người nộp hồ sơ"
COPY_2_RETURN = "Liên 2: Giao người nhận kết quả"
LONG_REASON = "\n".join(
    f"{i}. Hồ sơ phải chờ kết quả đo đạc lại của Văn phòng đăng ký đất đai chi nhánh huyện "
    "Bạch Thông, xác minh nguồn gốc sử dụng đất với Ủy ban nhân dân xã và lấy ý kiến các hộ "
    "liền kề về ranh giới thửa đất." for i in range(1, 41))
DPI = 150
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                    reason="poppler-utils (pdftoppm) not installed")


def apology(**changes: Any) -> ApologyData:
    data = ApologyData(
        header=HEADER, dossier_code=CODE, owner_name=OWNER, received_at=RECEIVED,
        procedure_name=PROCEDURE, original_appointment=datetime(2023, 11, 3, 9, 32),
        reason=REASON, responsible_unit="Văn phòng đăng ký đất đai chi nhánh Bạch Thông",
        new_appointment=datetime(2023, 11, 10, 14, 0), issued_at=datetime(2023, 11, 2, 8, 15),
        signer_name=RECEIVER, signer_title="CHỦ TỊCH", number="15/XL-UBND")
    return dataclasses.replace(data, **changes)


def stop(**changes: Any) -> StopNoticeData:
    data = StopNoticeData(
        header=HEADER, dossier_code=CODE, procedure_name=PROCEDURE, owner_name=OWNER,
        received_at=RECEIVED, reason=REASON, issued_at=datetime(2023, 11, 1, 10, 15),
        signer_name=CLERK)
    return dataclasses.replace(data, **changes)


def returned(**changes: Any) -> ReturnSlipData:
    data = ReturnSlipData(
        header=HEADER, dossier_code=CODE, procedure_name=PROCEDURE, owner_name=OWNER,
        returned_at=datetime(2023, 11, 3, 15, 5), receiver_name=RECEIVER,
        receiver_id_number="011090001234", receiver_is_owner=False,
        authorisation="Giấy ủy quyền số 12/UQ ngày 01/11/2023", received_at=RECEIVED,
        fees_due=[FeeLine("Lệ phí cấp giấy chứng nhận", 25_000)],
        fees_paid=FeesPaid(25_000),
        documents=["Giấy chứng nhận quyền sử dụng đất (bản chính)",
                   ResultDocument("Trích lục bản đồ địa chính", 2, "Số 125/TL")],
        clerk_name=CLERK)
    return dataclasses.replace(data, **changes)


Renderer = Callable[..., bytes]
CASES: list[tuple[Renderer, Callable[..., Any]]] = [
    (render_apology, apology), (render_stop_notice, stop), (render_return_receipt, returned),
]
CASE_IDS = ["apology", "stop", "return"]


def page_texts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [unicodedata.normalize("NFC", p.extract_text()) for p in reader.pages]


def flat(text: str) -> str:
    """Whitespace collapsed: a phrase is found even where the paragraph wrapped it."""
    return re.sub(r"\s+", " ", text)


def text_of(pdf: bytes) -> str:
    return flat("\n".join(page_texts(pdf)))


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def assert_all_in(text: str, expected: tuple[str, ...]) -> None:
    for phrase in expected:
        assert unicodedata.is_normalized("NFC", phrase)
        assert flat(phrase) in text, phrase


COMMON = ("UBND TỈNH THÁI NGUYÊN", "UBND XÃ NÀ PHẶC", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
          "Độc lập - Tự do - Hạnh phúc", f"Mã hồ sơ: {CODE}", PROCEDURE, OWNER)


# --- Mẫu 04 -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_apology_text(size: str) -> None:
    texts = page_texts(render_apology(apology(), size))
    assert len(texts) == 2  # one page per copy
    text = flat("\n".join(texts))
    assert_all_in(text, (
        *COMMON, "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT", "Số: 15/XL-UBND",
        "Nà Phặc, ngày 02 tháng 11 năm 2023", f"Kính gửi: Ông/Bà {OWNER}",
        "Vào lúc 09 giờ 32 phút, ngày 27 tháng 10 năm 2023, Ủy ban nhân dân xã Nà Phặc "
        "tiếp nhận hồ sơ",
        "Thời gian hẹn trả kết quả: 09 giờ 32 phút, ngày 03 tháng 11 năm 2023",
        f"Lý do chậm trễ: {REASON}",
        "Đơn vị, cơ quan chịu trách nhiệm: Văn phòng đăng ký đất đai chi nhánh Bạch Thông",
        "thành thật xin lỗi Ông/Bà vì sự chậm trễ này và sự bất tiện đã gây ra",
        "14 giờ 00 phút, ngày 10 tháng 11 năm 2023", "CHỦ TỊCH",
        "(Ký, ghi rõ họ tên và đóng dấu)", RECEIVER, COPY_1, COPY_2))
    # The agency itself issues the letter: no counter line in its letterhead.
    assert "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ" not in text
    assert COPY_1 in flat(texts[0]) and COPY_2 in flat(texts[1])
    assert all("Trang 1/1" in t for t in texts)


def test_apology_defaults_leave_the_signature_and_number_to_fill_by_hand() -> None:
    text = text_of(render_apology(apology(signer_name="", number="",
                                          signer_title=HEAD_OF_AGENCY)))
    assert "NGƯỜI ĐỨNG ĐẦU CƠ QUAN" in text
    assert "Số: ……" in text


# --- Mẫu 05 -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_stop_notice_text(size: str) -> None:
    texts = page_texts(render_stop_notice(stop(), size))
    assert len(texts) == 2
    text = flat("\n".join(texts))
    assert_all_in(text, (
        *COMMON, "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
        "Nà Phặc, ngày 01 tháng 11 năm 2023", f"Kính gửi: Ông/Bà {OWNER}",
        "Vào lúc 09 giờ 32 phút, ngày 27 tháng 10 năm 2023",
        "dừng giải quyết hồ sơ nêu trên kể từ 10 giờ 15 phút, ngày 01 tháng 11 năm 2023",
        f"Lý do dừng giải quyết hồ sơ: {REASON}", "Xin thông báo để Ông/Bà được biết",
        # Issued and signed for the agency, not by its counter (the signer is data:
        # desktop_app.signers; the generic block when none is given).
        "NGƯỜI ĐỨNG ĐẦU CƠ QUAN", "(Ký, ghi rõ họ tên và đóng dấu)", CLERK, COPY_1, COPY_2))
    assert "RÚT HỒ SƠ" not in text and "NGƯỜI ĐỀ NGHỊ" not in text
    assert "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ" not in text and "CÁN BỘ TIẾP NHẬN" not in text


def test_withdrawal_notice_wording() -> None:
    text = text_of(render_stop_notice(stop(withdrawn=True, reason="Chuyển nơi cư trú")))
    assert_all_in(text, (
        "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ", "Theo đề nghị rút hồ sơ của Ông/Bà",
        "Lý do rút hồ sơ: Chuyển nơi cư trú", "NGƯỜI ĐỀ NGHỊ RÚT HỒ SƠ", OWNER, CLERK))
    assert "Lý do dừng" not in text
    meta = PdfReader(io.BytesIO(render_stop_notice(stop(withdrawn=True)))).metadata
    assert meta is not None and meta.title == "Thông báo dừng giải quyết hồ sơ"


# --- return of the result ---------------------------------------------------------------


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_return_receipt_text(size: str) -> None:
    texts = page_texts(render_return_receipt(returned(), size))
    assert len(texts) == 2
    text = flat("\n".join(texts))
    assert_all_in(text, (
        *COMMON, "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", "BIÊN NHẬN TRẢ KẾT QUẢ GIẢI QUYẾT HỒ SƠ",
        "Nà Phặc, ngày 03 tháng 11 năm 2023", "Vào lúc 15 giờ 05 phút, ngày 03 tháng 11 năm 2023",
        f"Chủ hồ sơ: Ông/Bà {OWNER}",
        "Thời gian tiếp nhận hồ sơ: 09 giờ 32 phút, ngày 27 tháng 10 năm 2023",
        f"Người nhận kết quả: Ông/Bà {RECEIVER} (người được chủ hồ sơ ủy quyền, theo "
        "Giấy ủy quyền số 12/UQ ngày 01/11/2023)",
        "Số định danh cá nhân: 011090001234",
        "Hình thức trả kết quả: Trực tiếp tại Bộ phận tiếp nhận và trả kết quả Ủy ban nhân "
        "dân xã Nà Phặc",
        "Giấy chứng nhận quyền sử dụng đất (bản chính)",
        "Trích lục bản đồ địa chính (Số 125/TL)", "02",
        "Phí, lệ phí đã thu: Lệ phí cấp giấy chứng nhận 25.000 đồng",
        "NGƯỜI NHẬN KẾT QUẢ", "NGƯỜI TRẢ KẾT QUẢ", "(Ký và ghi rõ họ tên)", CLERK,
        COPY_1, COPY_2_RETURN))
    assert COPY_1 in flat(texts[0]) and COPY_2_RETURN in flat(texts[1])


def test_return_to_the_owner_by_post() -> None:
    text = text_of(render_return_receipt(returned(
        receiver_name="", receiver_is_owner=True, authorisation="", method="post",
        post_address="Thôn Nà Lẹng, xã Nà Phặc <số 5> & ngõ 2", fees_due=8000,
        fees_paid=FeesPaid(8000, ("0012345", "AB/2026-17")),
        documents=[], received_at=None)))
    assert_all_in(text, (
        f"Người nhận kết quả: Ông/Bà {OWNER} (chủ hồ sơ)",
        "Qua dịch vụ bưu chính công ích, gửi đến địa chỉ: Thôn Nà Lẹng, xã Nà Phặc <số 5> & "
        "ngõ 2", "Phí, lệ phí đã thu: 8.000 đồng (biên lai số 0012345, AB/2026-17)",
        "(Theo kết quả giải quyết hồ sơ)"))
    assert "ủy quyền" not in text and "Thời gian tiếp nhận" not in text
    free = text_of(render_return_receipt(returned(fees_due=0, fees_paid=None)))
    assert "Phí, lệ phí: Không thu" in free


def test_return_receipt_prints_a_reduced_payment_or_an_exemption_with_its_reason() -> None:
    due = [FeeLine("Lệ phí cấp giấy chứng nhận", 25000)]
    reduced = flat(text_of(render_return_receipt(returned(
        fees_due=due, fees_paid=FeesPaid(12500, ("0012346",), "giảm 50% theo Nghị quyết "
                                         "HĐND tỉnh")))))
    assert ("Phí, lệ phí phải nộp theo quy định: Lệ phí cấp giấy chứng nhận 25.000 đồng; "
            "đã thu 12.500 đồng (biên lai số 0012346) — giảm 50% theo Nghị quyết HĐND tỉnh"
            in reduced)
    exempt = flat(text_of(render_return_receipt(returned(
        fees_due=due, fees_paid=FeesPaid(0, (), "người thuộc hộ nghèo")))))
    assert "miễn thu — người thuộc hộ nghèo" in exempt and "đã thu" not in exempt
    partial = flat(text_of(render_return_receipt(returned(
        fees_due=due, fees_paid=FeesPaid(20000, ("0012347",), "", 5000)))))
    assert "đã thu 20.000 đồng (biên lai số 0012347); còn phải nộp 5.000 đồng" in partial


def test_return_receipt_states_only_recorded_facts() -> None:
    """Nothing recorded as paid: the schedule is "phải nộp", never "đã thu"; a result
    whose copies nobody counted leaves the count to be written by hand."""
    text = flat(text_of(render_return_receipt(returned(
        fees_paid=None, fees_due=[FeeLine("Lệ phí cấp giấy chứng nhận", 25000)],
        documents=["Giấy xác nhận tình trạng hôn nhân"]))))
    assert "Phí, lệ phí phải nộp theo quy định: Lệ phí cấp giấy chứng nhận 25.000 đồng" in text
    assert "đã thu" not in text
    assert "Giấy xác nhận tình trạng hôn nhân ……" in text and "hôn nhân 01" not in text


# --- common properties ------------------------------------------------------------------


@pytest.mark.parametrize(("render", "make"), CASES, ids=CASE_IDS)
def test_markup_in_citizen_data_is_printed_not_interpreted(render: Renderer,
                                                           make: Callable[..., Any]) -> None:
    name = "Lò <i>Văn</i> & Ún"
    text = text_of(render(make(owner_name=name)))
    assert name in text
    if render is not render_return_receipt:
        assert REASON in text


@pytest.mark.parametrize(("render", "make"), CASES, ids=CASE_IDS)
def test_decomposed_input_is_drawn_composed(render: Renderer,
                                            make: Callable[..., Any]) -> None:
    nfd = {"owner_name": unicodedata.normalize("NFD", OWNER),
           "procedure_name": unicodedata.normalize("NFD", PROCEDURE)}
    assert nfd["owner_name"] != OWNER
    pdf = render(make(**nfd))
    assert pdf == render(make())  # NFD and NFC input give the same document
    assert OWNER in text_of(pdf)


@pytest.mark.parametrize("size", ["A4", "A5"])
@pytest.mark.parametrize(("render", "make"), CASES, ids=CASE_IDS)
def test_same_data_gives_identical_bytes(render: Renderer, make: Callable[..., Any],
                                         size: str) -> None:
    assert render(make(), size) == render(make(), size)
    assert render(make(), size) != render(make(dossier_code=CODE[:-1] + "2"), size)


@pytest.mark.parametrize(("render", "make"), CASES, ids=CASE_IDS)
def test_typical_letters_fit_one_a5_page_per_copy(render: Renderer,
                                                  make: Callable[..., Any]) -> None:
    pdf = render(make(), "A5")
    assert pages(pdf) == 2
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert (round(page.mediabox.width), round(page.mediabox.height)) == (420, 595)


@pytest.mark.parametrize("size", ["A4", "A5"])
@pytest.mark.parametrize(("render", "make", "last"), [
    (render_apology, apology, "CHỦ TỊCH"),
    (render_stop_notice, stop, "NGƯỜI ĐỨNG ĐẦU CƠ QUAN"),
], ids=["apology", "stop"])
def test_long_reasons_run_onto_more_pages(render: Renderer, make: Callable[..., Any],
                                          last: str, size: str) -> None:
    texts = page_texts(render(make(reason=LONG_REASON), size))
    assert len(texts) >= 4 and len(texts) % 2 == 0  # both copies run to the same length
    half = len(texts) // 2
    for start, label in ((0, COPY_1), (half, COPY_2)):
        copy = texts[start:start + half]
        joined = flat("\n".join(copy))
        for i in (1, 20, 40):
            assert f"{i}. Hồ sơ phải chờ kết quả đo đạc lại" in joined, i
        for n, page in enumerate(copy, 1):
            assert f"Trang {n}/{half}" in page
            assert label.split(":")[0] in page
        assert last in copy[-1]  # the signature follows the reason, on the last page
    assert "Trang 1/1" not in "\n".join(texts)


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_long_result_lists_run_onto_more_pages(size: str) -> None:
    docs = [f"Giấy tờ kết quả số {i}: bản sao trích lục hồ sơ địa chính thửa đất" for i in
            range(1, 61)]
    texts = page_texts(render_return_receipt(returned(documents=docs), size))
    half = len(texts) // 2
    assert half >= 2 and len(texts) == 2 * half
    assert f"Trang {half}/{half}" in texts[half - 1] and f"Trang 1/{half}" in texts[half]
    second = flat("\n".join(texts[half:]))
    assert all(f"Giấy tờ kết quả số {i}:" in second for i in (1, 30, 60))
    assert "NGƯỜI TRẢ KẾT QUẢ" in texts[-1]


@pytest.mark.parametrize(("render", "make"), CASES, ids=CASE_IDS)
def test_metadata_and_fonts(render: Renderer, make: Callable[..., Any]) -> None:
    reader = PdfReader(io.BytesIO(render(make())))
    meta = reader.metadata
    assert meta is not None and meta.subject == CODE and meta.author == "UBND xã Nà Phặc"
    names = set()
    for page in reader.pages:
        for f in page["/Resources"]["/Font"].values():
            names.add(str(f.get_object()["/BaseFont"]))
    assert names and all("Liberation" in f for f in names), names


@pytest.mark.parametrize(("render", "make"), CASES, ids=CASE_IDS)
def test_unknown_page_size_is_refused(render: Renderer, make: Callable[..., Any]) -> None:
    with pytest.raises(ValueError):
        render(make(), "Letter")


# --- QR ---------------------------------------------------------------------------------


def _rasterise(pdf: bytes, tmp: Path, page: int) -> Image.Image:
    src = tmp / "letter.pdf"
    src.write_bytes(pdf)
    for old in tmp.glob("page*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-f", str(page), "-l", str(page),
                    str(src), str(tmp / "page")], check=True)
    with Image.open(next(tmp.glob("page*.png"))) as im:
        im.load()
        return im


@needs_pdftoppm
@pytest.mark.parametrize("size", ["A4", "A5"])
@pytest.mark.parametrize(("render", "make"), CASES, ids=CASE_IDS)
def test_qr_decodes_to_the_dossier_code_on_both_copies(render: Renderer,
                                                       make: Callable[..., Any], size: str,
                                                       tmp_path: Path) -> None:
    pdf = render(make(), size)
    for page in (1, 2):
        image = _rasterise(pdf, tmp_path, page)
        codes = decode_qr(image)
        assert [c.text for c in codes] == [CODE]
        _left, top, width, height = codes[0].rect
        assert min(width, height) >= 22 / 25.4 * DPI - 3  # at least 22 mm: scannable
        assert top < image.height * 0.3  # beside the title


@needs_pdftoppm
def test_qr_payload_can_be_a_tracking_url(tmp_path: Path) -> None:
    url = f"https://dichvucong.example.vn/tra-cuu?ma={CODE}"
    image = _rasterise(render_apology(apology(qr_payload=url), "A5"), tmp_path, 1)
    assert [c.text for c in decode_qr(image)] == [url]
