"""A typical intake done with keys only counts at most 10 keyboard actions: procedure by
search (the sample provincial catalog), ID-card scan, the required components ticked,
received, slip printed with one key on the counter's printer (a real CUPS queue of a
private scheduler)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.scanning.studio import StudioBackend
from desktop_app.station import StationInfo
from local_db.models import Dossier, OutboxEntry
from ui.main_window import MainWindow
from ui.wedge import WedgeScanFilter

from .support.cups_server import CupsServer, job_number, running_cups
from .support.typical_intake import Actions, focus_in, typical_intake

pytestmark = pytest.mark.gui

PRINTER = "Canon_LBP2900"


@pytest.fixture(scope="module")
def cups() -> Iterator[CupsServer]:
    with running_cups(PRINTER) as server:
        yield server


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
           cups: CupsServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    # The counter's printer is a queue of the private scheduler; lp finds it there.
    monkeypatch.setenv("CUPS_SERVER", cups.socket_path)
    monkeypatch.setenv("MOTCUA_PRINT_BACKEND", "cups")
    monkeypatch.setattr("desktop_app.printers.available_printers", lambda: [PRINTER])
    monkeypatch.setattr("desktop_app.printers.default_printer", lambda: PRINTER)
    monkeypatch.setattr(StudioBackend, "sources", lambda self, folders=None: [])
    win = MainWindow(ctx, clerk, replace(station, printer=PRINTER))
    wedge = WedgeScanFilter(win)  # as ui.app wires it
    wedge.install(QApplication.instance())  # type: ignore[arg-type]
    win.take_scans(wedge)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    focus_in(win)
    yield win
    wedge.uninstall(QApplication.instance())  # type: ignore[arg-type]
    if win.last_preview is not None:
        win.last_preview.close()
    win.sync.stop()
    win.runner.wait()


def test_a_typical_intake_takes_ten_keyboard_actions(window: MainWindow, ctx: AppContext,
                                                     cups: CupsServer) -> None:
    actions = Actions()
    typical_intake(window, actions)
    assert actions.done == ["F2", "gõ “dang ky khai sinh”", "Enter", "quét thẻ căn cước",
                            "Ctrl+Enter", "Ctrl+A", "Ctrl+Enter", "Ctrl+Enter", "Ctrl+Enter",
                            "Ctrl+P"]
    assert len(actions.done) <= 10
    with ctx.db.read() as s:
        dossier = s.scalars(select(Dossier)).one()
        assert dossier.owner.full_name == "Nguyễn Thị Ánh Tuyết"
        assert dossier.owner.id_number == "019190001234"
        assert dossier.procedure_code == "1.001193"  # Đăng ký khai sinh (sample catalog)
        provided = [c.provided for c in dossier.components]
        assert s.scalars(select(OutboxEntry)).one().payload["MaHoSo"] == dossier.code
        slip = ctx.blobs.read_bytes(dossier.slip_blob)
    required = [c.required for c in CatalogService(ctx).get("1.001193").components]
    assert provided == required and sum(required) == 2  # Ctrl+A ticked the required ones
    preview = window.last_preview
    assert preview is not None and preview.status.objectName() == "ok"
    assert f"“{PRINTER}”" in preview.status.text()
    found = re.search(r"lệnh in (\S+)\)", preview.status.text())
    assert found is not None, preview.status.text()
    # The stored slip itself went to the printer.
    assert cups.spooled(job_number(found.group(1))) == slip
