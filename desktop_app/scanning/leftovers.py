"""Digitization work an earlier run left unsaved: studio workspaces under the data
directory's ``scan-work`` whose pages were scanned but never stored as PDFs (the app was
closed, the PC froze or lost power). Listed at start so the clerk can finish or drop
them; nothing is removed unless the clerk asks."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop_app.scanning.workspace import Workspace, WorkspaceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnsavedWork:
    path: Path
    title: str
    pages: int
    modified_at: datetime
    dossier_id: int | None  # the received dossier it is for, when known

    @property
    def label_vi(self) -> str:
        title = self.title or "Phiên số hóa"
        return f"{title} — {self.pages} trang, lần cuối {self.modified_at:%H:%M %d/%m/%Y}"


def unsaved_work(scan_work: Path, exclude: Collection[str] = ()) -> list[UnsavedWork]:
    """Workspaces holding at least one page, newest first. ``exclude``: folder names
    that belong to something else shown on its own (the saved intake draft's pages).
    An empty workspace is not listed: nothing in it can be lost."""
    out = []
    for path in Workspace.unfinished(scan_work):
        if path.name in exclude:
            continue
        try:
            ws = Workspace.open(path)
            pages = ws.page_count()
            modified = datetime.fromtimestamp(ws.modified_at())
        except (WorkspaceError, OSError) as exc:
            log.warning("unsaved scan work %s not readable: %r", path.name, exc)
            continue
        if pages:
            out.append(UnsavedWork(path, ws.title, pages, modified, ws.dossier_id))
    out.sort(key=lambda w: w.modified_at, reverse=True)
    return out


def discard_work(scan_work: Path, path: Path) -> None:
    """Drop the pages of one workspace, after the clerk confirmed."""
    if path.parent.resolve() != scan_work.resolve():
        raise WorkspaceError("Không bỏ được: thư mục này không phải phiên số hóa.",
                             f"refusing to discard {path} outside {scan_work}")
    Workspace.open(path).discard()
    log.info("unsaved scan work %s discarded", path.name)
