"""The WIA/TWAIN driver's own window: a per-PC choice kept in the database, audited, and
given to the source the studio opens."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.paths import DataPaths
from desktop_app.scanning.driver_dialog import driver_dialog_enabled, set_driver_dialog
from desktop_app.scanning.sources.hotfolder import HotFolder
from desktop_app.scanning.sources.twain import TwainSource
from desktop_app.scanning.sources.wia import WiaSource
from desktop_app.scanning.studio import StudioBackend
from desktop_app.station import StationInfo
from local_db.models import AuditEntry

WIA_KEY = "wia|{6BDD1FC6-810F-11D0-BEC7-08002BE2092F}\\0000"
TWAIN_KEY = "twain|Canon DR-C225 TWAIN"


@pytest.fixture
def drivers_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """WIA and TWAIN as on a Windows PC (opening a source touches no device)."""
    monkeypatch.setattr(WiaSource, "available", lambda self: True)
    monkeypatch.setattr(TwainSource, "available", lambda self: True)


def test_off_by_default_then_saved_audited_and_given_to_the_studios_source(
        drivers_here: None, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,
        tmp_path: Path) -> None:
    backend = StudioBackend(ctx, clerk)
    assert driver_dialog_enabled(ctx) is False
    assert backend.open_source(WIA_KEY).show_driver_dialog is False  # type: ignore[attr-defined]

    assert set_driver_dialog(ctx, True, clerk) is True
    assert driver_dialog_enabled(ctx) is True
    for key in (WIA_KEY, TWAIN_KEY, "twain"):
        source = backend.open_source(key)
        assert isinstance(source, WiaSource | TwainSource)
        assert source.show_driver_dialog is True
    # A hot folder has no driver window and still opens with this PC's claim.
    folder = backend.open_source(f"hotfolder|{tmp_path}")
    assert isinstance(folder, HotFolder) and folder.station_id == ctx.paths.install_id()

    set_driver_dialog(ctx, False, clerk)
    assert backend.open_source(TWAIN_KEY).show_driver_dialog is False  # type: ignore[attr-defined]
    with ctx.db.read() as s:
        saved = s.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "scanner_options_saved").order_by(AuditEntry.id)).all()
    assert saved == [{"driver_dialog": True}, {"driver_dialog": False}]


def test_each_pc_sharing_the_database_keeps_its_own_choice(
        ctx: AppContext, station: StationInfo, clerk: ClerkInfo, tmp_path: Path) -> None:
    set_driver_dialog(ctx, True, clerk)
    # Another counter PC: its own data directory (install id), the same database.
    other = dataclasses.replace(ctx, paths=DataPaths(tmp_path / "other-pc"))
    other.paths.ensure()
    assert driver_dialog_enabled(other) is False
    set_driver_dialog(other, False, clerk)
    assert driver_dialog_enabled(ctx) is True
