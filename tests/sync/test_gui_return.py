"""Whole flows at the counter by keyboard, with the real gateway: receive → the province
marks the result ready → return by scanning the receipt; the supplement cycle; a late
dossier → apology letter with a new appointment."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.service import SyncService
from local_db.models import AuditEntry, Dossier, OutboxEntry
from provincial_gateway.server import GatewayServer
from tests.support.dialogs import answer_text
from tests.support.shots import shot
from ui import return_page
from ui.main_window import MainWindow
from ui.slip_preview import SlipPreviewDialog
from ui.wedge import WedgeScanFilter

from ..test_gui_intake import key, scan_text
from ..test_intake import TEST_CATALOG
from ..test_slips import text_of
from .test_sync_engine import receive

pytestmark = pytest.mark.gui

PROXY_CARD = ("001089005678||Hoàng Văn Phủ|05061989|Nam|"
              "Bản Chang, xã Nà Phặc, tỉnh Thái Nguyên|01022022")


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
           gateway: GatewayServer, station_token: str):
    station = StationService(ctx).save(replace(station, gateway_url=gateway.url))
    SyncService(ctx).set_token(station_token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    win = MainWindow(ctx, clerk, station)
    wedge = WedgeScanFilter(win)
    wedge.install(QApplication.instance())  # type: ignore[arg-type]
    win.take_scans(wedge)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    QApplication.instance().removeEventFilter(wedge)  # type: ignore[union-attr]
    win.sync.stop()
    win.runner.wait()


def _dossier(ctx: AppContext, uuid: str) -> Dossier:
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier).where(Dossier.uuid == uuid)).one()
        s.expunge(d)
        return d


def _code(ctx: AppContext, uuid: str) -> str:
    code = _dossier(ctx, uuid).code
    assert code
    return code


def _synced(window: MainWindow, gateway: GatewayServer, qtbot, uuid: str) -> None:  # type: ignore[no-untyped-def]
    from provincial_gateway.db import Dossier as GatewayDossier

    window.sync.worker.wake()

    def there() -> bool:
        with gateway.sessions() as s:
            return s.scalar(select(GatewayDossier).where(
                GatewayDossier.client_id == uuid)) is not None

    qtbot.waitUntil(there, timeout=15_000)


def _preview(qtbot, window: MainWindow, title_part: str) -> SlipPreviewDialog:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: isinstance(getattr(window, "last_preview", None),
                                       SlipPreviewDialog)
                    and title_part in window.last_preview.windowTitle(), timeout=10_000)
    return window.last_preview


def test_receive_result_ready_then_return_by_scanning_the_receipt(
        qtbot, window: MainWindow, ctx: AppContext, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
        gateway: GatewayServer) -> None:
    uuid = receive(ctx, clerk)
    code = _code(ctx, uuid)
    _synced(window, gateway, qtbot, uuid)
    gateway.set_status(code, 4, note="Đang giải quyết")
    gateway.set_status(code, 9, note="Đã ký kết quả")
    window.sync.worker.wake()
    qtbot.waitUntil(lambda: _dossier(ctx, uuid).status == 9, timeout=15_000)

    # The clerk is on the home page; the citizen's receipt QR is scanned.
    key(qtbot, Qt.Key.Key_F1)
    scan_text(code)
    page = window.returns
    qtbot.waitUntil(lambda: page.current is not None and page.current.code == code,
                    timeout=5000)
    assert window.pages.currentWidget() is page
    assert "Đã có kết quả" in page.status.text() and page.return_btn.isEnabled()
    assert page.receiver_name.text() == "Nguyễn Thị Ánh Tuyết"  # the owner by default

    # Someone else collects it: scanning their ID card fills the receiver as a proxy.
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.receiver_name)
    scan_text(PROXY_CARD)
    assert page.is_proxy.isChecked() and page.receiver_name.text() == "Hoàng Văn Phủ"
    page.authorisation.setText("Giấy ủy quyền ngày 01/11/2023")
    # The result as counted at the counter: the catalog's result is offered, not counted.
    results = page.results.table
    assert results.rowCount() == 1
    assert results.cellWidget(0, 2).value() == return_page.ResultsTable.NOT_COUNTED
    results.item(0, 0).setText("Giấy xác nhận")
    results.item(0, 1).setText("Số 15/GXN")
    results.cellWidget(0, 2).setValue(2)
    # Nothing was collected at intake: the fee is still owed and is collected now.
    assert "Phải nộp 2.000 đồng" in page.fee_state.text()
    assert page.payment.isVisible() and not page.payment.isChecked()
    assert page.payment.amount.value() == 2000
    page.payment.setChecked(True)
    page.payment.receipt.setText("0012399")
    page.receiver_name.setFocus()
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    preview = _preview(qtbot, window, code)
    assert preview.doc.pageCount() >= 1
    preview.accept()

    d = _dossier(ctx, uuid)
    assert (d.status, d.returned_to, d.returned_to_id, d.return_method) == (
        10, "Hoàng Văn Phủ", "001089005678", "counter")
    with ctx.db.read() as s:
        event = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "event")).one()
        assert event.payload["TrangThaiHoSo"] == 10 and event.payload["MaHoSo"] == code
        assert event.payload["ChiTiet"]["results"] == [
            {"name": "Giấy xác nhận", "copies": 2, "reference": "Số 15/GXN"}]
        assert event.payload["ChiTiet"]["payment"]["receipt_number"] == "0012399"
        printed = event.payload["ChiTiet"]["document_sha256"]
    text = " ".join(text_of(ctx.blobs.read_bytes(printed)).split())
    assert "Giấy xác nhận (Số 15/GXN) 02" in text
    assert "Phí, lệ phí đã thu: Lệ phí 2.000 đồng (biên lai số 0012399)" in text
    # The event and the new revision reach the province.
    from provincial_gateway.db import Dossier as GatewayDossier
    from provincial_gateway.db import Event

    window.sync.worker.wake()

    def returned_there() -> bool:
        with gateway.sessions() as s:
            row = s.scalar(select(GatewayDossier).where(GatewayDossier.client_id == uuid))
            return row is not None and row.status == 10 and bool(s.scalars(select(Event)).all())

    qtbot.waitUntil(returned_there, timeout=15_000)
    with gateway.sessions() as s:  # the province has the money recorded, as recorded
        row = s.scalar(select(GatewayDossier).where(GatewayDossier.client_id == uuid))
        assert row is not None
        [paid] = json.loads(row.body)["DanhSachThuPhi"]
        assert (paid["SoTien"], paid["SoBienLai"], paid["GiaiDoan"]) == (2000, "0012399",
                                                                         "return")
    assert not page.return_btn.isEnabled()  # already returned


def test_supplement_cycle_prints_a_new_appointment(
        qtbot, window: MainWindow, ctx: AppContext, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
        gateway: GatewayServer, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    uuid = receive(ctx, clerk)
    code = _code(ctx, uuid)
    first = _dossier(ctx, uuid).appointment_at
    _synced(window, gateway, qtbot, uuid)
    gateway.set_status(code, 5, note="Thiếu giấy tờ chứng minh nơi cư trú")
    window.sync.worker.wake()
    qtbot.waitUntil(lambda: _dossier(ctx, uuid).status == 5, timeout=15_000)

    clock.set(datetime(2023, 11, 1, 14, 0))  # the citizen comes back on Wednesday
    key(qtbot, Qt.Key.Key_F7)
    scan_text(code)
    page = window.returns
    qtbot.waitUntil(lambda: page.current is not None and page.supplement_done_btn.isEnabled(),
                    timeout=5000)
    assert "bổ sung" in page.status.text()
    answer_text("Đã nộp giấy xác nhận cư trú")
    page.supplement_done_btn.setFocus()
    key(qtbot, Qt.Key.Key_Space)
    preview = _preview(qtbot, window, code)
    preview.accept()
    d = _dossier(ctx, uuid)
    assert d.status == 2
    # 5 working days counted again from Wednesday 01/11/2023 14:00: the new legal date;
    # the receipt's first date is kept.
    assert d.current_appointment_at == d.due_at == datetime(2023, 11, 8, 14, 0) != first
    assert d.appointment_at == first
    with ctx.db.read() as s:
        doc = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "dossier")
                        .order_by(OutboxEntry.id.desc())).first()
        assert doc is not None and doc.payload["NgayHenTra"] == "20231108140000"
        assert doc.payload["NgayHenTraBanDau"] == f"{first:%Y%m%d%H%M%S}"
        assert doc.payload["PhienBan"] == 2


def test_late_dossier_gets_an_apology_with_a_new_appointment(
        qtbot, window: MainWindow, ctx: AppContext, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
        clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    uuid = receive(ctx, clerk)
    code = _code(ctx, uuid)
    due = _dossier(ctx, uuid).appointment_at
    assert due is not None
    clock.set(due + timedelta(days=1))
    key(qtbot, Qt.Key.Key_F8)
    late = window.late
    qtbot.waitUntil(lambda: late.table.rowCount() == 1, timeout=5000)
    assert late.table.item(0, 0).text() == code
    assert late.table.item(0, 6).text() == "Quá hẹn"

    new_date = due + timedelta(days=5)

    def fill_and_accept(dialog: return_page.ApologyDialog) -> int:
        dialog.reason.setPlainText("Chờ xác minh của Công an xã")
        dialog.unit.setText("Công chức Tư pháp - Hộ tịch")
        dialog.new_date.setDateTime(new_date)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(return_page.ApologyDialog, "exec", fill_and_accept)
    late.table.setFocus()
    late.apology_btn.click()
    preview = _preview(qtbot, window, code)
    preview.accept()
    d = _dossier(ctx, uuid)
    assert (d.appointment_at, d.current_appointment_at) == (due, new_date)
    with ctx.db.read() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "dossier_apology")).one()
        assert audit.detail["unit"] == "Công chức Tư pháp - Hộ tịch"
    # Still late (an apology does not undo the delay), listed with the date now given.
    new_text = f"{new_date:%H:%M %d/%m/%Y}"
    qtbot.waitUntil(lambda: late.table.rowCount() == 1
                    and late.table.item(0, 4).text() == new_text, timeout=5000)
    assert late.table.item(0, 6).text() == "Quá hẹn"


def test_result_documents_are_shown_viewed_saved_and_the_handover_recorded(
        qtbot, window: MainWindow, ctx: AppContext, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
        gateway: GatewayServer, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date
    from pathlib import Path

    from PySide6.QtWidgets import QFileDialog

    from local_db.models import ResultDocumentRow, ResultHandover
    from provincial_gateway.admin_ops import ResultUpload

    uuid = receive(ctx, clerk)
    code = _code(ctx, uuid)
    _synced(window, gateway, qtbot, uuid)
    # The province's result: a real PDF (this dossier's receipt stands in for it).
    result_pdf = ctx.blobs.read_bytes(_dossier(ctx, uuid).slip_blob or "")
    source = tmp_path / "giay-khai-sinh.pdf"
    source.write_bytes(result_pdf)
    gateway.set_status(code, 9, note="Đã ký kết quả", results=[ResultUpload(
        source, "Giấy khai sinh", "123/GKS", "Lò Văn Minh", date(2023, 11, 2))])
    window.sync.worker.wake()

    def fetched() -> bool:
        with ctx.db.read() as s:
            return s.scalar(select(ResultDocumentRow.state)) == "fetched"

    qtbot.waitUntil(fetched, timeout=15_000)
    key(qtbot, Qt.Key.Key_F7)
    scan_text(code)
    page = window.returns
    panel = page.result_docs
    qtbot.waitUntil(lambda: page.current is not None and panel.table.rowCount() == 1,
                    timeout=5000)
    assert panel.isVisible()
    assert [panel.table.item(0, c).text() for c in range(5)] == [
        "Giấy khai sinh", "123/GKS", "02/11/2023", "Lò Văn Minh", "Đã tải về"]
    shot("f7-result-from-the-province", window)

    # Opened in the slip preview: rendered, and printable from there.
    panel.view_btn.click()
    preview = _preview(qtbot, window, "Giấy khai sinh")
    assert preview.doc.pageCount() >= 1 and preview.pdf == result_pdf
    shot("f7-result-viewer", preview)
    preview.reject()

    # An electronic copy on the citizen's USB stick.
    usb = tmp_path / "usb" / "giay-khai-sinh.pdf"
    usb.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *_a, **_k: (str(usb), "Tệp PDF (*.pdf)"))
    panel.save_btn.click()
    qtbot.waitUntil(lambda: "Đã lưu bản điện tử" in page.status.text(), timeout=5000)
    assert Path(usb).read_bytes() == result_pdf

    # Handed over as an electronic copy: recorded beside the return, and sent.
    page.electronic.setChecked(True)
    page.receiver_name.setFocus()
    shot("f7-electronic-handover", window)
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    _preview(qtbot, window, "Trả kết quả").accept()
    assert _dossier(ctx, uuid).status == 10
    with ctx.db.read() as s:
        handovers = [(h.method, h.note, h.documents) for h in
                     s.scalars(select(ResultHandover).order_by(ResultHandover.id))]
        doc_id = s.scalar(select(ResultDocumentRow.id))
        event = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "event")).one()
        detail = dict(event.payload["ChiTiet"])
    assert handovers == [("electronic", "usb", [doc_id]), ("electronic", "", [doc_id])]
    assert detail["handover"] == "electronic"
    from provincial_gateway.db import Event

    def handover_there() -> bool:
        window.sync.worker.wake()  # again while waiting: a wake during a run is not lost
        with gateway.sessions() as s:
            return [json.loads(e.body)["ChiTiet"].get("handover", "")
                    for e in s.scalars(select(Event))] == ["electronic"]

    qtbot.waitUntil(handover_there, timeout=20_000)
