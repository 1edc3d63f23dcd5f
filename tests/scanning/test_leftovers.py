"""Scanned pages an earlier run never stored as files are found at start, and dropped only
when the clerk asks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_app.scanning.leftovers import discard_work, unsaved_work
from desktop_app.scanning.workspace import UNASSIGNED, Workspace, WorkspaceError

from ..test_draft_store import page

pytestmark = pytest.mark.nodb


def workspace(base: Path, title: str, pages: int, mtime: int,
              dossier_id: int | None = None) -> Workspace:
    ws = Workspace.create(base, [("0", "Tờ khai")], title)
    ws.dossier_id = dossier_id
    for n in range(pages):
        ws.add("0" if n % 2 else UNASSIGNED, page(ws.root, f"p{n}"))
    ws.save()
    os.utime(ws.root / "workspace.json", (mtime, mtime))
    return ws


def test_workspaces_with_pages_are_listed_newest_first(tmp_path: Path) -> None:
    base = tmp_path / "scan-work"
    old = workspace(base, "Hồ sơ 000.00.12.H12-231027-1001 — Hoàng Thị Mai", 2, 1_700_000_000,
                    dossier_id=7)
    new = workspace(base, "Trang chưa xếp của lô quét", 3, 1_700_000_600)
    workspace(base, "Lô quét", 0, 1_700_000_900)  # nothing to lose
    mine = workspace(base, "Hồ sơ đang nhập", 1, 1_700_001_000)
    (base / "ws-broken000000").mkdir()
    (base / "ws-broken000000" / "workspace.json").write_text("{", encoding="utf-8")
    found = unsaved_work(base, exclude={mine.root.name})
    assert [(w.path, w.pages, w.dossier_id) for w in found] == [
        (new.root, 3, None), (old.root, 2, 7)]
    assert found[1].label_vi.startswith(
        "Hồ sơ 000.00.12.H12-231027-1001 — Hoàng Thị Mai — 2 trang, lần cuối ")
    assert unsaved_work(tmp_path / "nowhere") == []


def test_the_dossier_a_workspace_is_for_is_kept_on_disk(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "Hồ sơ", 1, 1_700_000_000, dossier_id=42)
    assert Workspace.open(ws.root).dossier_id == 42
    # A workspace saved by an earlier version has no such field.
    state = (ws.root / "workspace.json").read_text(encoding="utf-8")
    (ws.root / "workspace.json").write_text(state.replace('"dossier_id": 42', '"x": 1'),
                                           encoding="utf-8")
    assert Workspace.open(ws.root).dossier_id is None


def test_discarding_removes_only_that_workspace(tmp_path: Path) -> None:
    base = tmp_path / "scan-work"
    drop = workspace(base, "Bỏ", 2, 1_700_000_000)
    keep = workspace(base, "Giữ", 2, 1_700_000_000)
    discard_work(base, drop.root)
    assert not drop.root.exists() and keep.root.exists()
    with pytest.raises(WorkspaceError):
        discard_work(base, tmp_path)  # never anything outside scan-work
    assert tmp_path.exists()
