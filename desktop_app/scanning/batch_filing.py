"""File one ADF batch with separator sheets into many dossiers' components.

Order of work: split the raw captured pages at the separator sheets first (barcodes are
read on downscaled copies, so this is cheap), then run only the content pages through
the image pipeline, assemble each component's PDF under the size limit, store it and link
it to its dossier in one transaction. Pages that cannot be filed automatically (before
the first separator, or behind a sheet naming an unknown dossier or component) are never
dropped: they are processed into a workspace that the operator opens in the studio.

Like `studio`, it imports the image pipeline and the barcode readers in the calls that
use them: the batch page is built when the main window opens."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService, DigitizedFile
from desktop_app.domain.errors import DomainError
from desktop_app.scanning.model import (
    CapturedFile,
    DigitizationRules,
    PdfMetadata,
    ProcessedPage,
    ScanProfile,
)
from desktop_app.scanning.studio import Control, process_captured, safe_name
from desktop_app.scanning.workspace import UNASSIGNED, Workspace
from local_db import repositories as repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiledComponent:
    dossier_code: str
    component_name: str
    pages: int
    files: tuple[DigitizedFile, ...]
    actions: tuple[str, ...]


@dataclass
class BatchReport:
    filed: list[FiledComponent] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unfiled_pages: int = 0
    unfiled_workspace: Path | None = None
    separators: int = 0
    pages_read: int = 0

    @property
    def summary_vi(self) -> str:
        dossiers = len({f.dossier_code for f in self.filed})
        text = (f"Đã đọc {self.pages_read} trang, {self.separators} tờ phân cách; lưu "
                f"{len(self.filed)} thành phần của {dossiers} hồ sơ.")
        if self.unfiled_pages:
            text += (f" Còn {self.unfiled_pages} trang chưa xếp được, đã giữ lại để xếp tay "
                     "trong màn hình số hóa.")
        return text


def _component(ctx: AppContext, code: str, index: int | None
               ) -> tuple[int, int, str] | None:
    """(dossier id, position, component name) for a separator, or None if unknown."""
    with ctx.db.read() as s:
        d = repo.dossier_by_code(s, code)
        if d is None or index is None:
            return None
        comp = next((c for c in d.components if c.position == index - 1), None)
        return None if comp is None else (d.id, comp.position, comp.name)


def one_page_files(captured: Sequence[CapturedFile], profile: ScanProfile,
                   rules: DigitizationRules, work: Path, control: Control) -> list[CapturedFile]:
    """ADF software often writes a whole batch as one multi-page TIFF or PDF: split such
    files into one file per page (losslessly) so separator sheets can be found between
    them. Single-page files are passed through untouched."""
    from desktop_app.scanning.loading import load_image, materialize, open_document

    out: list[CapturedFile] = []
    for cap in captured:
        control.check()
        try:
            doc = open_document(cap.path, profile, rules)
        except DomainError as exc:
            control.warn(exc.message_vi)
            continue
        if len(doc.pages) == 1:
            out.append(cap)
            continue
        folder = work / "pages-split"
        folder.mkdir(parents=True, exist_ok=True)
        for page in doc.pages:
            control.check()
            if page.kind in ("pdf-image", "pdf-render"):
                page = materialize(page, folder)
                out.append(replace(cap, path=page.path, dpi=page.dpi))
                continue
            target = folder / f"{cap.path.stem}-p{page.frame + 1:04d}.tif"
            with load_image(page) as im:
                compression = "group4" if im.mode == "1" else "tiff_lzw"
                im.save(target, compression=compression, dpi=(page.dpi_x, page.dpi_y))
            out.append(replace(cap, path=target, dpi=page.dpi))
    return out


def file_batch(ctx: AppContext, clerk: ClerkInfo, captured: Sequence[CapturedFile],
               profile: ScanProfile, work: Path, control: Control) -> BatchReport:
    from desktop_app.scanning.batch_split import split_batch
    from desktop_app.scanning.fitting import assemble_component

    service = DigitizationService(ctx)
    rules = service.rules()
    captured = one_page_files(captured, profile, rules, work, control)
    control.progress(0, len(captured), "Đang tìm tờ phân cách…")
    split = split_batch(list(captured), duplex=profile.duplex,
                        progress=lambda done, total: control.progress(
                            done, total or 0, f"Đang tìm tờ phân cách… {done} trang"),
                        cancel=control.token)
    report = BatchReport(pages_read=split.pages_read, separators=len(split.separator_pages))
    report.warnings += [w.message_vi for w in split.warnings]
    unfiled: list[CapturedFile] = []
    for group in split.groups:
        control.check()
        target = (None if group.dossier_code is None
                  else _component(ctx, group.dossier_code, group.component_index))
        pages_in = [p for p in group.pages if isinstance(p, CapturedFile)]
        if target is None:
            if group.dossier_code is not None:
                report.warnings.append(
                    f"Tờ phân cách của hồ sơ {group.dossier_code}, thành phần số "
                    f"{group.component_index}: không có hồ sơ/thành phần này trên máy; "
                    f"{len(pages_in)} trang được giữ lại để xếp tay.")
            unfiled += pages_in
            continue
        if not pages_in:
            continue
        dossier_id, position, name = target
        pages: list[ProcessedPage] = []
        out = work / "pages" / f"{safe_name(group.dossier_code or '')}-{position}"
        for cap in pages_in:
            pages += [p for p in process_captured(cap, profile, rules, out, control.token)
                      if not (p.blank and profile.drop_blank)]
        if not pages:
            report.warnings.append(f"Hồ sơ {group.dossier_code}, “{name}”: chỉ có trang trắng.")
            continue
        meta = PdfMetadata(title=name, dossier_code=group.dossier_code, component=name,
                           clerk=clerk.full_name,
                           created_at_iso=ctx.clock.now().isoformat(timespec="seconds"))
        pdf_dir = work / "out" / f"{safe_name(group.dossier_code or '')}-{position}"
        pdf_dir.mkdir(parents=True, exist_ok=True)
        fit = assemble_component(pages, pdf_dir,
                                 safe_name(f"{group.dossier_code} {name}"), rules, meta,
                                 cancel=control.token, ocr=profile.ocr)
        files = service.store(fit.parts, profile.name)
        service.attach(dossier_id, position, files, clerk, replace_existing=True)
        report.filed.append(FiledComponent(group.dossier_code or "", name, len(pages),
                                           tuple(files), tuple(fit.actions)))
        control.progress(len(report.filed), 0,
                         f"Đã lưu {len(report.filed)} thành phần (hồ sơ {group.dossier_code})")
    if unfiled:
        ws = Workspace.create(service.work_dir(), [], "Trang chưa xếp của lô quét")
        for cap in unfiled:
            for page in process_captured(cap, profile, rules, ws.root / "pages",
                                         control.token):
                ws.add(UNASSIGNED, page)
        report.unfiled_pages = ws.page_count()
        report.unfiled_workspace = ws.root
    log.info("batch filed: %d components, %d unfiled pages, %d warnings",
             len(report.filed), report.unfiled_pages, len(report.warnings))
    return report


def check_batch(captured: Sequence[CapturedFile]) -> None:
    if not captured:
        raise DomainError("Lô quét không có trang nào.", "empty batch")
