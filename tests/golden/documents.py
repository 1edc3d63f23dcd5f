"""The documents under golden test, built from fixed data only: fixed times (never the
machine's clock), a fixed station, clerk and citizens with Vietnamese names, fixed
dossier codes. The renderers embed the bundled fonts and write ``invariant`` PDFs, so
nothing here depends on the date, the locale or the fonts installed on the machine.

``PLAIN`` are rendered from data alone; ``reissued_receipt`` is the receipt the station
prints again when a supplement is received, which takes a station database."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.documents.letters import (
    ApologyData,
    ResultDocument,
    ReturnSlipData,
    StopNoticeData,
    render_apology,
    render_return_receipt,
    render_stop_notice,
)
from desktop_app.documents.slip_parts import AgencyHeader, FeeLine, FeesPaid
from desktop_app.documents.slips import (
    ComponentLine,
    ReceiptData,
    RefusalData,
    SupplementData,
    SupplementItem,
    render_receipt,
    render_refusal,
    render_supplement_request,
)
from desktop_app.documents.tracking_book import BookHeader, render_tracking_book_pdf
from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.intake.drafts import IntakeDraft, PersonInfo
from desktop_app.intake.returns import ReturnService
from desktop_app.intake.service import IntakeService
from desktop_app.report_model import TrackingBookRow
from desktop_app.reports import book_notes
from desktop_app.scanning.separators import SeparatorSpec, render_separator_sheets
from desktop_app.station import StationInfo, StationService
from local_db.models import Dossier
from local_db.report_queries import ChangeRecord

HEADER = AgencyHeader("UBND xã Nà Phặc", "UBND tỉnh Thái Nguyên", "Nà Phặc")
STATION = StationInfo(agency_code="000.00.12.H12", agency_name="UBND xã Nà Phặc",
                      parent_name="UBND tỉnh Thái Nguyên", place_name="Nà Phặc",
                      station_digit=1, receipt_page_size="A4", book_number="01",
                      tracking_url="https://dichvucong.thainguyen.gov.vn/tra-cuu")
CODE = "000.00.12.H12-231027-1001"
QR = f"https://dichvucong.thainguyen.gov.vn/tra-cuu?ma={CODE}"
CLERK = "Triệu Thị Hương"
OWNER = "Đặng Thị Ánh Tuyết"
PROCEDURE = "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"
RECEIVED = datetime(2023, 10, 27, 9, 32)  # a Friday
APPOINTMENT = datetime(2023, 11, 3, 9, 32)  # 5 working days later

COMPONENTS = [
    ComponentLine("Đơn đăng ký biến động đất đai, tài sản gắn liền với đất (Mẫu số 11/ĐK)",
                  1, 0, 0),
    ComponentLine("Giấy chứng nhận quyền sử dụng đất đã cấp", 1, 0, 0),
    ComponentLine("Hợp đồng chuyển nhượng quyền sử dụng đất có công chứng", 1, 0, 0),
    ComponentLine("Căn cước công dân của bên chuyển nhượng", 0, 1, 0),
    ComponentLine("Căn cước công dân của bên nhận chuyển nhượng", 0, 1, 0),
    ComponentLine("Tờ khai lệ phí trước bạ nhà, đất", 2, 0, 0),
    ComponentLine("Tờ khai thuế thu nhập cá nhân", 2, 0, 0),
    ComponentLine("Trích lục bản đồ địa chính thửa đất số 125, tờ bản đồ số 7", 0, 0, 1),
]


def receipt(components: int, page_size: str) -> bytes:
    data = ReceiptData(
        header=HEADER, dossier_code=CODE, received_at=RECEIVED, appointment_at=APPOINTMENT,
        applicant_name=OWNER, id_number="019190001234",
        address="Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên", phone="0912 345 678",
        email="anhtuyet.dang@example.vn", procedure_name=PROCEDURE, procedure_code="1.004227",
        components=COMPONENTS[:components], set_count=1, time_limit_text="05 ngày làm việc",
        delivery_text="Tại Bộ phận tiếp nhận và trả kết quả xã Nà Phặc",
        fees=[FeeLine("Lệ phí cấp giấy chứng nhận", 25_000),
              FeeLine("Phí thẩm định hồ sơ", 150_000)],
        book_number="01", sequence_number=12, clerk_name=CLERK, qr_payload=QR)
    return render_receipt(data, page_size)  # type: ignore[arg-type]


def supplement_request() -> bytes:
    return render_supplement_request(SupplementData(
        header=HEADER, number="BS-231027-1001", issued_at=RECEIVED, applicant_name=OWNER,
        id_number="019190001234", address="Thôn Nà Lẹng, xã Nà Phặc", phone="0912 345 678",
        procedure_name="Đăng ký khai sinh",
        items=[SupplementItem("Giấy chứng sinh", "Nộp bản chính"),
               SupplementItem("Tờ khai đăng ký khai sinh",
                              "Ghi đủ họ, chữ đệm, tên của cha, mẹ\nKý, ghi rõ họ tên")],
        reason="Thiếu giấy chứng sinh; tờ khai chưa ghi đủ thông tin của cha",
        rules_reference="Luật Hộ tịch số 60/2014/QH13", official_name=CLERK,
        official_phone="0208 3888 999"))


def refusal() -> bytes:
    return render_refusal(RefusalData(
        header=HEADER, number="TC-231027-1001", issued_at=RECEIVED, applicant_name=OWNER,
        id_number="019190001234", address="Thôn Nà Lẹng, xã Nà Phặc", phone="0912 345 678",
        procedure_name="Cấp Giấy phép xây dựng nhà ở riêng lẻ",
        reason="Không thuộc thẩm quyền giải quyết của Ủy ban nhân dân xã: nộp tại Bộ phận "
               "Một cửa huyện Bạch Thông",
        official_name=CLERK))


def apology() -> bytes:
    return render_apology(ApologyData(
        header=HEADER, dossier_code=CODE, owner_name=OWNER, received_at=RECEIVED,
        procedure_name=PROCEDURE, original_appointment=APPOINTMENT,
        reason="Chờ ý kiến Sở Tài nguyên và Môi trường về ranh giới thửa đất",
        responsible_unit="Văn phòng đăng ký đất đai chi nhánh Bạch Thông",
        new_appointment=datetime(2023, 11, 10, 14, 0), issued_at=datetime(2023, 11, 2, 8, 15),
        # As the app signs it for the agency (desktop_app.signers): a deputy for the chair.
        signer_name="Lò Văn Ún", signer_title="TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
        number="1001/PXL-UBND", qr_payload=QR))


def stop_notice(withdrawn: bool = False) -> bytes:
    reason = ("Công dân có đơn xin rút hồ sơ ngày 01/11/2023" if withdrawn
              else "Thửa đất đang có tranh chấp, chờ kết quả hòa giải tại Ủy ban nhân dân xã")
    return render_stop_notice(StopNoticeData(
        header=HEADER, dossier_code=CODE, procedure_name=PROCEDURE, owner_name=OWNER,
        received_at=RECEIVED, reason=reason, issued_at=datetime(2023, 11, 1, 10, 15),
        signer_name="Lường Thị Hoa", signer_title="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
        number="1002/TB-UBND" if withdrawn else "1001/TB-UBND", withdrawn=withdrawn,
        qr_payload=QR))


def receipt_certified_paid() -> bytes:
    """Certified copies charged per page and per copy, the money taken with Receive:
    line 7 gives what was counted, the amount owed and what was collected."""
    data = ReceiptData(
        header=HEADER, dossier_code=CODE, received_at=RECEIVED,
        appointment_at=RECEIVED.replace(hour=16, minute=0),  # same day: before 15 giờ
        applicant_name=OWNER, id_number="019190001234",
        address="Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên", phone="0912 345 678",
        email="", procedure_name="Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ "
        "quan, tổ chức có thẩm quyền của Việt Nam cấp hoặc chứng nhận",
        procedure_code="2.000815",
        components=[ComponentLine("Bản chính Giấy khai sinh (để đối chiếu, chứng thực)", 1,
                                  0, 0)], set_count=1,
        time_limit_text="Trong ngày (nhận sau 15 giờ trả trong ngày làm việc tiếp theo)",
        delivery_text="Tại Bộ phận tiếp nhận và trả kết quả xã Nà Phặc",
        fees=[FeeLine("Phí chứng thực bản sao từ bản chính", 16_000,
                      "2 bản × 5 trang; 1 bản × 1 trang")],
        fees_paid=FeesPaid(16_000, ("0012345",)),
        book_number="01", sequence_number=13, clerk_name=CLERK, qr_payload=QR)
    return render_receipt(data, "A5")


def return_receipt() -> bytes:
    return render_return_receipt(ReturnSlipData(
        header=HEADER, dossier_code=CODE, procedure_name=PROCEDURE, owner_name=OWNER,
        returned_at=datetime(2023, 11, 3, 15, 5), receiver_name="Lò Văn Ún",
        receiver_id_number="011090001234", receiver_is_owner=False,
        authorisation="Giấy ủy quyền số 12/UQ ngày 01/11/2023", received_at=RECEIVED,
        fees_due=[FeeLine("Lệ phí cấp giấy chứng nhận", 25_000)],
        fees_paid=FeesPaid(25_000, ("0012345",)),
        documents=[ResultDocument("Giấy chứng nhận quyền sử dụng đất (bản chính)", 1),
                   ResultDocument("Trích lục bản đồ địa chính", 2, "Số 125/TL")],
        clerk_name=CLERK, qr_payload=QR))


def tracking_book() -> bytes:
    """A month's book of four lines: returned on time, returned late, waiting for a
    supplement, and still open past its appointment — late, though an apology gave it a
    new date — as of 30/11/2023."""
    as_of = datetime(2023, 11, 30, 17, 0)

    def row(number: int, day: int, owner: str, content: str, status: DossierStatus,
            returned: datetime | None = None, returned_to: str = "",
            phone: str = "0912 345 678", apology_on: int = 0) -> TrackingBookRow:
        received = datetime(2023, 11, day, 8 + number, 5 * number)
        appointment = datetime(2023, 11, day + 7, 8 + number, 5 * number)
        late = (returned or as_of) > appointment  # the one rule: the legal deadline
        changes = [ChangeRecord(number, "apology", appointment,
                                datetime(2023, 12, 5, 16, 0), "Chờ xác minh",
                                datetime(2023, 11, apology_on, 10, 0))] if apology_on else []
        return TrackingBookRow(
            number=number, code=f"000.00.12.H12-2311{day:02d}-1{number:03d}",
            content=content, count=1, owner=owner,
            address="Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên", phone=phone,
            received_at=received, appointment_at=appointment, returned_at=returned,
            returned_to=returned_to, clerk=CLERK, locality="xã Nà Phặc",
            notes=book_notes(status, late, returned, "counter", changes),
            status=status)

    rows = [
        row(1, 1, OWNER, "Đăng ký khai sinh", DossierStatus.RETURNED,
            datetime(2023, 11, 6, 10, 0), OWNER),
        row(2, 2, "Lò Văn Ún", PROCEDURE, DossierStatus.RETURNED,
            datetime(2023, 11, 15, 14, 30), "Lò Thị Ưng"),
        row(3, 6, "Hoàng Thị Mai", "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
            DossierStatus.SUPPLEMENT_REQUESTED, phone=""),
        row(4, 8, "Nguyễn Văn Đức", "Cấp Giấy xác nhận tình trạng hôn nhân",
            DossierStatus.RECEIVED, apology_on=20),  # apologised: still late
    ]
    out = io.BytesIO()
    render_tracking_book_pdf(rows, BookHeader("UBND XÃ NÀ PHẶC", "UBND TỈNH THÁI NGUYÊN",
                                              date(2023, 11, 1), date(2023, 11, 30), "01"),
                             out)
    return out.getvalue()


def separator_sheet() -> bytes:
    return render_separator_sheets([SeparatorSpec(
        CODE, "BSKS", 3, OWNER,
        "Bản sao Giấy khai sinh hoặc giấy tờ chứng minh nội dung khai sinh của người được "
        "đăng ký")])


PLAIN: dict[str, Callable[[], bytes]] = {
    "receipt-a4-1": lambda: receipt(1, "A4"),
    "receipt-a4-8": lambda: receipt(8, "A4"),
    "receipt-a5-1": lambda: receipt(1, "A5"),
    "receipt-a5-8": lambda: receipt(8, "A5"),
    "receipt-a5-certified-paid": receipt_certified_paid,
    "supplement-request": supplement_request,
    "refusal": refusal,
    "apology": apology,
    "stop-notice": stop_notice,
    "withdrawal-notice": lambda: stop_notice(withdrawn=True),
    "return-receipt": return_receipt,
    "tracking-book": tracking_book,
    "separator-sheet": separator_sheet,
}

REISSUED = "receipt-reissued"

# The one procedure of the re-issued receipt, fixed here (not the sample catalog, which
# may change with the province's data).
CATALOG = {
    "catalog_version": "golden-1",
    "procedures": [{
        "code": "1.001193",
        "name": "Đăng ký khai sinh",
        "field_code": "HT",
        "field_name": "Hộ tịch",
        "time_limit": {"amount": 5, "unit": "working_days", "text": "05 ngày làm việc"},
        "fees": [{"code": "LP", "name": "Lệ phí", "amount": 8000, "kind": "lệ phí"}],
        "components": [
            {"code": "TK", "name": "Tờ khai đăng ký khai sinh", "originals": 1,
             "required": True},
            {"code": "GCS", "name": "Giấy chứng sinh", "originals": 1, "required": True},
            {"code": "UQ", "name": "Văn bản ủy quyền (nếu nộp thay)", "originals": 1,
             "required": False},
        ],
    }],
}


def reissued_receipt(ctx: AppContext, clock: FixedClock) -> bytes:
    """Receive a dossier on Friday 27/10/2023, have the agency ask for a supplement (the
    status the province's sync would write), and receive the supplement on Monday
    06/11/2023 16:00: the receipt printed then, with the new appointment."""
    clock.set(RECEIVED)
    StationService(ctx).save(STATION)
    clerk = AccountService(ctx).create_clerk("huong", CLERK, "mat-khau-1", Role.CLERK)
    CatalogService(ctx).import_data(CATALOG)
    intake = IntakeService(ctx)
    draft = IntakeDraft.for_procedure(intake.catalog.get("1.001193"))
    draft.owner = PersonInfo(full_name=OWNER, id_number="019190001234",
                             address="Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên",
                             phone="0912 345 678", email="anhtuyet.dang@example.vn")
    for component in draft.components:
        component.provided = component.required
    received = intake.receive(draft, clerk)
    with ctx.db.write() as s:  # checked by the status machine, as a sync would be
        dossier = s.get(Dossier, received.dossier_id)
        assert dossier is not None
        dossier.status = int(DossierStatus.SUPPLEMENT_REQUESTED)
    clock.set(datetime(2023, 11, 6, 16, 0))
    return ReturnService(ctx).receive_supplement(received.dossier_id, clerk,
                                                 "giấy chứng sinh").pdf
