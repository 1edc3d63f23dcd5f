"""The components step offers the copy the province holds of a document this PC never
digitized (the gateway over loopback); Ctrl+R downloads it in the background and the
component takes it."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.intake.service import IntakeService
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers, upload_blob
from tests.support.shots import shot

from ..test_gui_intake import CARD, key, open_main_window, scan_text, type_text
from ..test_intake import TEST_CATALOG, complete_draft
from ..test_reuse import GT
from .test_sync_engine import synced_station  # noqa: F401  (fixture)

pytestmark = pytest.mark.gui

PDF = b"%PDF-1.4 the province's copy " * 80
CODE = f"{AGENCY}-261020-2001"
CARD_ID = CARD.split("|")[0]


def _province_copy(gateway: GatewayServer, name: str) -> str:
    token = add_station(gateway, AGENCY, digit=2)
    sha = upload_blob(gateway, token, PDF)
    doc: dict[str, Any] = {
        "ClientId": "6f1c1f7e-8d2a-4d7e-9a51-0c3f0d1e2a02", "MaDonVi": AGENCY,
        "MaHoSo": CODE, "PhienBan": 1, "MaTTHC": "9.000005", "TenTTHC": "Thủ tục",
        "KenhThucHien": 1, "ChuHoSo": "Hoàng Thị Mai", "SoGiayToChuHoSo": CARD_ID,
        "NgayTiepNhan": "20261020090000", "NgayHenTra": "20261025170000",
        "TrangThaiHoSo": 2, "TaiLieuNop": [
            {"MaThanhPhanHoSo": "GT", "TenThanhPhan": name, "TenTepDinhKem": "gt.pdf",
             "TepDinhKemSha256": sha, "DuocSoHoa": 1}]}
    resp = requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]),
                        json=doc, headers=auth_headers(token), timeout=10)
    assert resp.status_code in (200, 201), resp.text
    return sha


def test_a_province_copy_is_offered_and_fetched_with_ctrl_r(  # type: ignore[no-untyped-def]
        qtbot, ctx: AppContext, clerk: ClerkInfo, gateway: GatewayServer,
        synced_station: SyncService) -> None:  # noqa: F811
    name = complete_draft(IntakeService(ctx)).components[GT].name
    sha = _province_copy(gateway, name)
    station = StationService(ctx).require()
    window = next(open_main_window(qtbot, ctx, station, clerk, TEST_CATALOG))
    try:
        window.activateWindow()
        qtbot.waitUntil(lambda: (w := QApplication.focusWidget()) is not None
                        and w.window() is window)
        key(qtbot, Qt.Key.Key_F2)
        intake = window.intake
        qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.proc_step.search)
        type_text(None, "xac nhan thu nghiem")
        qtbot.waitUntil(lambda: intake.proc_step.results.count() == 1)
        key(qtbot, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda: QApplication.focusWidget() is intake.applicant_step.owner.full_name)
        scan_text(CARD)
        key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert intake.step == 2, intake.error.text()

        step = intake.components_step
        qtbot.waitUntil(lambda: GT in step.offers, timeout=15_000)
        assert step.offers[GT].where == "province"
        step.table.setFocus()
        step.table.setCurrentCell(GT, 0)
        assert "trên hệ thống tỉnh" in step.offer_note.text()
        shot("intake-province-copy", window)
        key(qtbot, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: step.collect()[GT].provided, timeout=15_000)
        entry = step.collect()[GT]
        assert [f.source_code for f in entry.files] == [CODE]
        assert ctx.blobs.read_bytes(sha) == PDF  # downloaded, hash-checked, stored
    finally:
        window.runner.wait()
        window.quit_now()
