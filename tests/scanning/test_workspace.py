"""The studio's working set survives restarts and never loses a page."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.scanning.model import ColourMode, ProcessedPage
from desktop_app.scanning.workspace import Workspace, WorkspaceError


def _page(tmp_path: Path, n: int) -> ProcessedPage:
    img = tmp_path / f"p{n}.jpg"
    img.write_bytes(b"x" * (n + 1))
    return ProcessedPage(img, img, 1654, 2339, 200, ColourMode.GREY, n + 1, source="test")


def test_operations_are_saved_and_reopened(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "work", [("0", "Đơn đề nghị"), ("1", "Bản sao CCCD")],
                          "Hồ sơ 000.00.12.H12-231027-1001")
    for n in range(4):
        ws.add("0", _page(tmp_path, n))
    ws.rotate("0", 1)
    ws.rotate("0", 1)
    ws.move("0", 3, 0)
    ws.move_to("0", 1, "1")
    deleted = ws.delete("0", 0)
    again = Workspace.open(ws.root)
    assert again.title == "Hồ sơ 000.00.12.H12-231027-1001"
    assert [p.encoded_bytes for p in again.slot("0").pages] == [2, 3]
    assert [(p.encoded_bytes, p.rotation) for p in again.slot("1").pages] == [(1, 0)]
    assert [p.encoded_bytes for p in again.bin] == [deleted.encoded_bytes]
    assert again.slot("0").pages[0].rotation == 180
    assert again.page_count() == 3
    assert again.undelete() == ("0", 0)  # back where it was
    assert [p.encoded_bytes for p in Workspace.open(ws.root).slot("0").pages] == [4, 2, 3]
    assert Workspace.unfinished(tmp_path / "work") == [ws.root]


def test_replace_keeps_the_old_page_in_the_bin(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "work", [("0", "Bản đồ")])
    ws.add("0", _page(tmp_path, 1))
    old = ws.replace("0", 0, _page(tmp_path, 7))
    assert old.encoded_bytes == 2 and ws.bin == [old]
    assert [p.encoded_bytes for p in ws.take("0")] == [8]
    assert Workspace.open(ws.root).slot("0").pages == []


def test_unknown_slot_and_damaged_state_are_clear_errors(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "work", [("0", "Đơn")])
    with pytest.raises(WorkspaceError, match="Không có thành phần"):
        ws.add("9", _page(tmp_path, 1))
    (ws.root / "workspace.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="Không đọc được"):
        Workspace.open(ws.root)
