"""The studio's working set: processed pages grouped by dossier component, with the page
operations a scanner operator needs (rotate, delete, reorder, move to another component,
replace one page by a re-scan).

Everything lives in a directory under the data directory's ``scan-work`` and its state is
saved (atomically) after every change, so closing the app or a power cut mid-batch loses
no page. Deleting a page only moves it to a recoverable bin until the work is finished."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.domain.errors import DomainError
from desktop_app.files import write_atomically
from desktop_app.scanning.model import ColourMode, ProcessedPage

STATE_FILE = "workspace.json"
UNASSIGNED = "__unassigned__"


class WorkspaceError(DomainError):
    pass


@dataclass
class Slot:
    """One destination: a dossier component (key = position as text) or the unassigned
    tray for pages not yet sorted."""

    key: str
    label: str
    pages: list[ProcessedPage] = field(default_factory=list)


def _page_to_json(page: ProcessedPage) -> dict[str, Any]:
    data = asdict(page)
    data["image_path"] = str(page.image_path)
    data["preview_path"] = str(page.preview_path)
    data["mode"] = page.mode.value
    return data


def _page_from_json(data: dict[str, Any]) -> ProcessedPage:
    data = dict(data)
    data["image_path"] = Path(data["image_path"])
    data["preview_path"] = Path(data["preview_path"])
    data["mode"] = ColourMode(data["mode"])
    return ProcessedPage(**data)


class Workspace:
    """Pages per slot. Not thread-safe: the studio changes it on the UI thread only."""

    def __init__(self, root: Path, slots: list[tuple[str, str]], title: str = "") -> None:
        self.root = root
        self.title = title
        self.slots: list[Slot] = [Slot(UNASSIGNED, "Chưa xếp vào thành phần")]
        self.slots += [Slot(key, label) for key, label in slots]
        self.bin: list[ProcessedPage] = []
        self.bin_from: list[tuple[str, int]] = []  # where each binned page was
        # The received dossier these pages are for (None: a dossier being received, or
        # pages a batch could not file), so work left unsaved can be reopened for it.
        self.dossier_id: int | None = None
        self.root.mkdir(parents=True, exist_ok=True)

    # --- persistence -----------------------------------------------------------------

    @classmethod
    def create(cls, base: Path, slots: list[tuple[str, str]], title: str = "") -> Workspace:
        ws = cls(base / f"ws-{uuid.uuid4().hex[:12]}", slots, title)
        ws.save()
        return ws

    @classmethod
    def open(cls, root: Path) -> Workspace:
        try:
            data = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WorkspaceError("Không đọc được phiên số hóa đã lưu.",
                                 f"{root / STATE_FILE}: {exc!r}") from exc
        ws = cls(root, [], data.get("title", ""))
        ws.slots = [Slot(s["key"], s["label"], [_page_from_json(p) for p in s["pages"]])
                    for s in data["slots"]]
        ws.bin = [_page_from_json(p) for p in data.get("bin", [])]
        dossier_id = data.get("dossier_id")
        ws.dossier_id = dossier_id if isinstance(dossier_id, int) else None
        origins = data.get("bin_from", [])
        ws.bin_from = ([(str(k), int(i)) for k, i in origins] if len(origins) == len(ws.bin)
                       else [(UNASSIGNED, 10**6)] * len(ws.bin))
        return ws

    @staticmethod
    def unfinished(base: Path) -> list[Path]:
        """Workspaces left by an earlier run (app closed or power cut mid-batch)."""
        if not base.is_dir():
            return []
        return sorted(p for p in base.glob("ws-*") if (p / STATE_FILE).is_file())

    def save(self) -> None:
        data = {
            "title": self.title,
            "slots": [{"key": s.key, "label": s.label,
                       "pages": [_page_to_json(p) for p in s.pages]} for s in self.slots],
            "bin": [_page_to_json(p) for p in self.bin],
            "bin_from": [list(o) for o in self.bin_from],
            "dossier_id": self.dossier_id,
        }
        write_atomically(self.root / STATE_FILE, json.dumps(data, ensure_ascii=False))

    def discard(self) -> None:
        """After the pages became stored PDFs (or the operator explicitly abandons)."""
        shutil.rmtree(self.root, ignore_errors=True)

    # --- queries ---------------------------------------------------------------------

    def slot(self, key: str) -> Slot:
        for s in self.slots:
            if s.key == key:
                return s
        raise WorkspaceError("Không có thành phần này trong phiên số hóa.", f"slot {key!r}")

    def page_count(self) -> int:
        return sum(len(s.pages) for s in self.slots)

    def modified_at(self) -> float:
        """When the pages last changed (every change rewrites the state file)."""
        return (self.root / STATE_FILE).stat().st_mtime

    def __iter__(self) -> Iterator[tuple[Slot, ProcessedPage]]:
        for s in self.slots:
            for p in s.pages:
                yield s, p

    def estimated_bytes(self, key: str) -> int:
        return sum(p.encoded_bytes for p in self.slot(key).pages)

    def retarget(self, slots: list[tuple[str, str]], title: str) -> None:
        """Point the workspace at a dossier's components (pages left unfiled by a batch are
        filed by hand this way); pages of slots that disappear go to the unassigned tray."""
        tray = self.slot(UNASSIGNED)
        keep = {key for key, _ in slots}
        for s in self.slots[1:]:
            if s.key not in keep:
                tray.pages += s.pages
        old = {s.key: s for s in self.slots}
        self.slots = [tray] + [Slot(k, label, old[k].pages if k in old else [])
                               for k, label in slots]
        self.title = title
        self.save()

    # --- operations (each one saved at once) --------------------------------------------

    def add(self, key: str, page: ProcessedPage) -> None:
        self.slot(key).pages.append(page)
        self.save()

    def rotate(self, key: str, index: int, degrees: int = 90) -> ProcessedPage:
        page = self.slot(key).pages[index]
        page.rotation = (page.rotation + degrees) % 360
        self.save()
        return page

    def delete(self, key: str, index: int) -> ProcessedPage:
        page = self.slot(key).pages.pop(index)
        self.bin.append(page)
        self.bin_from.append((key, index))
        self.save()
        return page

    def undelete(self, key: str | None = None) -> tuple[str, int] | None:
        """Put the last deleted page back where it was (or into ``key`` when its component
        is gone); returns where it went."""
        if not self.bin:
            return None
        page = self.bin.pop()
        origin, index = self.bin_from.pop()
        if origin not in {s.key for s in self.slots}:
            origin, index = key or UNASSIGNED, 10**6
        pages = self.slot(origin).pages
        index = min(index, len(pages))
        pages.insert(index, page)
        self.save()
        return origin, index

    def move(self, key: str, index: int, new_index: int) -> None:
        pages = self.slot(key).pages
        page = pages.pop(index)
        pages.insert(max(0, min(new_index, len(pages))), page)
        self.save()

    def move_to(self, key: str, index: int, target: str) -> None:
        page = self.slot(key).pages.pop(index)
        self.slot(target).pages.append(page)
        self.save()

    def replace(self, key: str, index: int, page: ProcessedPage) -> ProcessedPage:
        """A re-scan of one page takes the old page's place; the old one goes to the bin."""
        pages = self.slot(key).pages
        old = pages[index]
        pages[index] = page
        self.bin.append(old)
        self.bin_from.append((key, index))
        self.save()
        return old

    def take(self, key: str) -> list[ProcessedPage]:
        """The pages of a slot once they are stored as a PDF; they leave the workspace."""
        s = self.slot(key)
        pages, s.pages = s.pages, []
        self.save()
        return pages
