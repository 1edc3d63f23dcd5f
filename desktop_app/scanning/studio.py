"""What the studio screen does, without Qt: capture or import pages through the pipeline,
assemble a component's pages into compliant PDFs under the size limit, store them, and —
for a dossier already received — link them in one transaction.

Each long call takes a ``control`` (progress, item, warn, check) supplied by the UI's job
runner, so the same code runs from the studio, from tests and from scripts.

The capture drivers, the image pipeline and the separator renderer are imported by the
calls that use them: the main window builds this backend at start-up, and their imports
(numpy, pikepdf, img2pdf, reportlab, the scanner drivers) would add ~0.2 s to it here,
more on a counter PC."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService, DigitizedFile
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import fold
from desktop_app.scanning.driver_dialog import driver_dialog_enabled
from desktop_app.scanning.model import (
    CancelToken,
    CapturedFile,
    DigitizationRules,
    PdfMetadata,
    ProcessedPage,
    ScanProfile,
)
from desktop_app.scanning.sources.base import CaptureProgress, CaptureSource
from desktop_app.scanning.workspace import UNASSIGNED, Workspace
from local_db import repositories as repo

log = logging.getLogger(__name__)

IMPORT_SOURCE = "import"


class Control(Protocol):
    token: CancelToken

    def progress(self, done: int, total: int, text: str = "") -> None: ...
    def item(self, value: object) -> None: ...
    def warn(self, message_vi: str) -> None: ...
    def check(self) -> None: ...


class QuietControl:
    """For scripts and tests: collects warnings, never cancels."""

    def __init__(self) -> None:
        self.token = CancelToken()
        self.items: list[object] = []
        self.warnings: list[str] = []

    def progress(self, done: int, total: int, text: str = "") -> None:
        pass

    def item(self, value: object) -> None:
        self.items.append(value)

    def warn(self, message_vi: str) -> None:
        self.warnings.append(message_vi)

    def check(self) -> None:
        self.token.raise_if_cancelled()


@dataclass(frozen=True)
class FinishResult:
    key: str
    label: str
    files: tuple[DigitizedFile, ...]
    actions: tuple[str, ...]


def safe_name(text: str, limit: int = 60) -> str:
    """A file name any Windows or portal accepts: folded to ASCII, dashes, short."""
    base = re.sub(r"[^0-9a-z]+", "-", fold(text)).strip("-")
    return base[:limit].rstrip("-") or "tep"


class StudioBackend:
    def __init__(self, ctx: AppContext, clerk: ClerkInfo, *, dossier_id: int | None = None,
                 dossier_code: str | None = None) -> None:
        self.ctx = ctx
        self.clerk = clerk
        self.service = DigitizationService(ctx)
        self.dossier_id = dossier_id
        self.dossier_code = dossier_code

    # --- choices -------------------------------------------------------------------------

    def profiles(self) -> list[ScanProfile]:
        return self.service.profiles()

    def profile(self, name: str) -> ScanProfile:
        return self.service.profile(name)

    def rules(self) -> DigitizationRules:
        return self.service.rules()

    def work_root(self) -> Path:
        return self.service.work_dir()

    def hot_folders(self) -> list[Path]:
        return self.service.hot_folders()

    def sources(self, hot_folders: Sequence[Path] | None = None) -> list[tuple[str, str]]:
        """(key, Vietnamese label) of every capture source usable on this PC. ``hot_folders``
        (read beforehand with ``hot_folders()``) spares the database to a caller that runs
        this where the context may already be closed; by default they are read here."""
        from desktop_app.scanning.sources import available_sources

        folders = self.service.hot_folders() if hot_folders is None else hot_folders
        out: list[tuple[str, str]] = []
        for source in available_sources(folders):
            try:
                devices = source.list_devices()
            except DomainError as exc:
                log.warning("listing %s devices failed: %s", source.name, exc.detail)
                continue
            out += [(f"{source.name}|{d.id}", f"{source.label_vi}: {d.label}") for d in devices]
        out.append((IMPORT_SOURCE, "Nhập từ tệp (ảnh, PDF)"))
        return out

    # --- capture -------------------------------------------------------------------------

    def _process(self, files: Iterable[CapturedFile], profile: ScanProfile, work: Path,
                 control: Control) -> tuple[int, int]:
        """Run each captured file through the pipeline; pages are handed to the UI as soon
        as they are done. A refused file is reported and the batch goes on."""
        rules = self.rules()
        pages = dropped = 0

        def arrived(done: int, total: int, page: ProcessedPage) -> None:
            nonlocal pages, dropped
            if page.blank and profile.drop_blank:
                dropped += 1
                return
            pages += 1
            control.item(page)
            control.progress(pages, 0, f"Đã xử lý {pages} trang…")

        for captured in files:
            control.check()
            try:
                process_captured(captured, profile, rules, work / "pages", control.token,
                                 arrived)
            except DomainError as exc:
                log.warning("refused %s: %s", captured.path, exc.detail)
                control.warn(exc.message_vi)
        return pages, dropped

    def open_source(self, source_key: str) -> CaptureSource:
        """The capture source behind a studio key, with this PC's hot folders, its claim
        signature in a shared one, and its choice of the WIA/TWAIN driver's own window."""
        from desktop_app.scanning.sources import open_source

        return open_source(source_key, self.service.hot_folders(),
                           **self.service.hot_folder_station(),
                           show_driver_dialog=driver_dialog_enabled(self.ctx))

    def capture(self, source_key: str, profile: ScanProfile, work: Path, control: Control,
                single: bool = False) -> str:
        if source_key == IMPORT_SOURCE:
            raise DomainError("Hãy bấm “Nhập tệp…” hoặc kéo thả tệp vào danh sách trang.",
                              "capture called with the import source")
        source = self.open_source(source_key)
        if single:
            profile = replace(profile, duplex=False)
        raw = work / "raw"
        raw.mkdir(parents=True, exist_ok=True)

        def captured() -> Iterable[CapturedFile]:
            frames = source.capture(profile, raw, control.token, _scanner_progress(control))
            for n, f in enumerate(frames, 1):
                yield f
                if single and n == 1:
                    break

        pages, dropped = self._process(captured(), profile, work, control)
        return _summary(pages, dropped)

    def import_files(self, paths: Sequence[Path], profile: ScanProfile, work: Path,
                     control: Control) -> str:
        from desktop_app.scanning.sources.files import import_files

        raw = work / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        report = import_files(paths, raw, self.rules())
        for err in report.errors:
            control.warn(err.message_vi)
        pages, dropped = self._process(report.files, profile, work, control)
        return _summary(pages, dropped)

    def capture_raw(self, source_key: str, profile: ScanProfile, work: Path,
                    control: Control) -> list[CapturedFile]:
        """Pages exactly as the scanner delivered them (for separator batches, which are
        split before any processing)."""
        raw = work / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        out: list[CapturedFile] = []
        source = self.open_source(source_key)
        for f in source.capture(profile, raw, control.token, _scanner_progress(control)):
            out.append(f)
            control.progress(len(out), 0, f"Đã quét {len(out)} trang…")
        return out

    def import_raw(self, paths: Sequence[Path], work: Path, control: Control
                   ) -> list[CapturedFile]:
        from desktop_app.scanning.sources.files import import_files

        raw = work / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        report = import_files(paths, raw, self.rules())
        for err in report.errors:
            control.warn(err.message_vi)
        return list(report.files)

    # --- finishing -----------------------------------------------------------------------

    def finish(self, ws: Workspace, key: str, control: Control, ocr: bool = False
               ) -> FinishResult:
        """Assemble the slot's pages into PDF(s) under the size limit, store them, and link
        them when the dossier is already received. Pages leave the workspace only after
        the files are safely stored."""
        from desktop_app.scanning.fitting import assemble_component

        if key == UNASSIGNED:
            raise DomainError("Hãy xếp các trang vào một thành phần hồ sơ trước khi lưu.",
                              "finish on the unassigned tray")
        slot = ws.slot(key)
        pages: list[ProcessedPage] = list(slot.pages)
        if not pages:
            raise DomainError("Thành phần này chưa có trang nào.", f"empty slot {key}")
        now = self.ctx.clock.now()
        meta = PdfMetadata(
            title=slot.label,
            dossier_code=self.dossier_code,
            component=slot.label,
            clerk=self.clerk.full_name,
            created_at_iso=now.isoformat(timespec="seconds"),
        )
        out_dir = ws.root / "out" / key
        shutil.rmtree(out_dir, ignore_errors=True)  # leftovers of an interrupted attempt
        out_dir.mkdir(parents=True)
        control.progress(0, len(pages), "Đang tạo tệp PDF…")
        base = safe_name(f"{self.dossier_code or ''} {slot.label}")
        fit = assemble_component(pages, out_dir, base, self.rules(), meta, cancel=control.token,
                                 ocr=ocr)
        files = self.service.store(fit.parts, profile="")
        self.link(key, files)
        ws.take(key)
        shutil.rmtree(out_dir, ignore_errors=True)
        return FinishResult(key, slot.label, tuple(files), tuple(fit.actions))

    def link(self, key: str, files: Sequence[DigitizedFile]) -> None:
        """Stored files of a slot, linked to the received dossier's component (nothing for
        a dossier still being received: the wizard keeps them in its draft)."""
        if self.dossier_id is not None:
            self.service.attach(self.dossier_id, int(key), files, self.clerk,
                                replace_existing=True)

    def separator_sheets(self, ws: Workspace | None = None) -> bytes:
        """One separator sheet per submitted component of this (received) dossier."""
        if self.dossier_id is None:
            raise DomainError("Tờ phân cách chỉ in được cho hồ sơ đã tiếp nhận (đã có mã hồ sơ). "
                              "Hãy tiếp nhận hồ sơ trước, rồi số hóa theo lô.",
                              "separator sheets without a received dossier")
        return separator_sheets_for(self.ctx, [self.dossier_id])


def separator_sheets_for(ctx: AppContext, dossier_ids: Sequence[int]) -> bytes:
    from desktop_app.scanning.separators import SeparatorSpec, render_separator_sheets
    specs: list[SeparatorSpec] = []
    with ctx.db.read() as s:
        for dossier_id in dossier_ids:
            d = repo.dossier_by_id(s, dossier_id)
            if d is None or not d.code:
                raise DomainError("Chỉ in được tờ phân cách cho hồ sơ đã tiếp nhận.",
                                  f"dossier {dossier_id} missing or without code")
            # Only what the citizen handed in has pages to scan; the sheet names who
            # stood at the counter (the proxy, when one filed for the owner).
            submitter = (d.submitter or d.owner).full_name
            specs += [SeparatorSpec(d.code, c.component_code or f"TP{c.position + 1}",
                                    c.position + 1, submitter, c.name)
                      for c in d.components if c.provided]
    if not specs:
        raise DomainError("Hồ sơ đã chọn không có thành phần nào đã nộp để số hóa, nên không "
                          "có tờ phân cách nào để in.", "no submitted components to separate")
    return render_separator_sheets(specs)


def separator_sheets_for_codes(ctx: AppContext, codes: Sequence[str]) -> bytes:
    """Separator sheets for the dossiers a clerk typed or scanned the codes of."""
    ids: list[int] = []
    with ctx.db.read() as s:
        for code in codes:
            d = repo.dossier_by_code(s, code)
            if d is None:
                raise DomainError(f"Không tìm thấy hồ sơ có mã {code}.", f"no dossier {code!r}")
            ids.append(d.id)
    return separator_sheets_for(ctx, ids)


def process_captured(captured: CapturedFile, profile: ScanProfile, rules: DigitizationRules,
                     out_dir: Path, cancel: CancelToken | None = None,
                     on_page: Callable[[int, int, ProcessedPage], None] | None = None,
                     ) -> list[ProcessedPage]:
    """Every page of one captured or imported file, through the image pipeline; large
    pages one at a time (the pipeline's lock), ``on_page`` as each one is done."""
    from desktop_app.scanning.page_processing import process_file

    return process_file(captured.path, profile, rules, out_dir, cancel=cancel,
                        on_page=on_page)


def _scanner_progress(control: Control) -> Callable[[CaptureProgress], None]:
    def report(event: CaptureProgress) -> None:
        control.progress(int(event.fraction * 100), 100,
                         event.message_vi or f"Đang quét trang {event.page}… "
                         f"({event.pages_done} trang đã xong)")
    return report


def _summary(pages: int, dropped: int) -> str:
    text = f"Đã nhận {pages} trang."
    if dropped:
        text += f" Bỏ {dropped} trang trắng."
    return text
