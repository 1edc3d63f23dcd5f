"""The digitization pipeline's public entry points, used by ``motcua digitize`` and by the
Qt studio:

- ``process_page`` / ``process_file``: one input page (or file) → encoded page(s) with a
  preview, as pages arrive from a scanner or an import;
- ``assemble_component``: pages → PDF file(s) under the province's per-file size limit,
  lowering JPEG quality and resolution step by step (never below the legal floors), and
  splitting into numbered parts only when that is not enough;
- ``digitize_files``: a batch of input documents → one compliant PDF (or parts) each, a
  refused input never stopping the others.

Memory: a page is decoded once at full resolution and at most two full-resolution copies
exist at any moment; large pages (A2 and up) go through ``LARGE_FORMAT_LOCK`` one at a
time, so an A0 map at 300 dpi stays well under 1.5 GB."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import multiprocessing
import os
import re
import shutil
import tempfile
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from desktop_app.domain.errors import DomainError
from desktop_app.scanning import imaging
from desktop_app.scanning.loading import (
    SourcePage,
    allow_pixels,
    decide_dpi,
    exif_orientation,
    load_image,
    load_small,
    materialize,
    normalise_mode,
    open_document,
)
from desktop_app.scanning.model import (
    CancelledError,
    CancelToken,
    ColourMode,
    DigitizationRules,
    OutputPart,
    PdfMetadata,
    ProcessedPage,
    ScanProfile,
)
from desktop_app.scanning.pdf_assembly import write_pdf

log = logging.getLogger(__name__)

# About an A2 page at 300 dpi (35 MP); A4/A3 scans stay below and may run in parallel.
LARGE_PIXELS = 30_000_000
# Large pages are processed one at a time across the whole process (studio threads, the
# CLI): two A0 colour pages at once would need ~2.5 GB. Re-entrant, so a caller may hold
# it around several calls that take it again.
LARGE_FORMAT_LOCK = threading.RLock()

DOC_OVERHEAD = 16 * 1024  # catalogue, XMP, document info, cross-reference table
PAGE_OVERHEAD = 1024  # page dictionary, content stream, image dictionary, TIFF header
QUALITY_STEPS = (75, 65)
DPI_STEPS = (400, 300, 250)
MAX_REPACK = 3


def is_large(width: int, height: int) -> bool:
    return width * height >= LARGE_PIXELS


@contextlib.contextmanager
def large_format_guard(width: int, height: int) -> Iterator[None]:
    if is_large(width, height):
        with LARGE_FORMAT_LOCK:
            yield
    else:
        yield


class MultiPageInput(DomainError):
    pass


class EmptyComponent(DomainError):
    pass


# --- one page ----------------------------------------------------------------------------------


def process_page(source: Path | str | Image.Image | SourcePage, profile: ScanProfile,
                 rules: DigitizationRules, work_dir: Path, *, dpi: int | None = None,
                 name: str | None = None, mode: ColourMode | None = None,
                 source_label: str = "", cancel: CancelToken | None = None) -> ProcessedPage:
    """Process one page: a single-page file, a ``SourcePage`` from ``open_document``, or
    an image already in memory (a camera or scanner frame; ``dpi`` is what the driver
    reported, else the profile's is assumed). The encoded page and its preview are written
    to ``work_dir`` under ``name`` (a fresh unique name by default). ``mode`` overrides the
    profile's colour mode."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    allow_pixels(rules)
    if isinstance(source, Image.Image):
        page, image = _memory_page(source, profile, rules, dpi, source_label)
        return _process(page, profile, rules, work_dir, name, mode, cancel, image=image)
    if isinstance(source, SourcePage):
        return _process(source, profile, rules, work_dir, name, mode, cancel)
    doc = open_document(Path(source), profile, rules)
    if len(doc.pages) != 1:
        raise MultiPageInput(f"Tệp {doc.path.name} có {len(doc.pages)} trang; hãy xử lý cả "
                             "tệp thay vì từng trang.",
                             f"{doc.path}: {len(doc.pages)} pages given to process_page")
    page = doc.pages[0]
    if dpi is not None and page.dpi_assumed:
        page = replace(page, dpi_x=dpi, dpi_y=dpi, dpi_assumed=False, notes=())
    return _process(page, profile, rules, work_dir, name, mode, cancel, label=source_label)


def process_file(path: Path | str, profile: ScanProfile, rules: DigitizationRules,
                 work_dir: Path, *, mode: ColourMode | None = None,
                 cancel: CancelToken | None = None,
                 on_page: Callable[[int, int, ProcessedPage], None] | None = None,
                 ) -> list[ProcessedPage]:
    """Every page of one input file, in order. ``on_page(done, total, page)`` is called as
    each page is finished (the studio shows it at once)."""
    doc = open_document(Path(path), profile, rules)
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    stem = _safe_name(doc.path.stem)
    out: list[ProcessedPage] = []
    for i, page in enumerate(doc.pages):
        _check(cancel)
        processed = _process(page, profile, rules, Path(work_dir),
                             f"{stem}-{uuid.uuid4().hex[:8]}-{i + 1:04d}", mode, cancel)
        out.append(processed)
        if on_page is not None:
            on_page(i + 1, len(doc.pages), processed)
    return out


def _memory_page(image: Image.Image, profile: ScanProfile, rules: DigitizationRules,
                 dpi: int | None, label: str) -> tuple[SourcePage, Image.Image]:
    from desktop_app.scanning.loading import check_pixels

    label = label or "ảnh quét"
    check_pixels(label, image.width, image.height, rules)
    declared = (float(dpi), float(dpi)) if dpi else image.info.get("dpi")
    dx, dy, assumed, notes = decide_dpi(label, image.width, image.height, declared, profile,
                                        rules)
    page = SourcePage(Path(label), label, "raster", 0, image.width, image.height, dx, dy,
                      assumed, notes=notes)
    return page, image


def _process(page: SourcePage, profile: ScanProfile, rules: DigitizationRules, work_dir: Path,
             name: str | None, mode: ColourMode | None, cancel: CancelToken | None, *,
             image: Image.Image | None = None, label: str = "") -> ProcessedPage:
    with large_format_guard(page.width, page.height):
        _check(cancel)
        if image is None:
            page = materialize(page, work_dir)
        stem = work_dir / (name or f"{_safe_name(Path(page.label).stem)}-{uuid.uuid4().hex[:12]}")
        return _PageJob(page, profile, work_dir, stem, mode or profile.mode, cancel,
                        image, label or page.label).run()


@dataclass
class _PageJob:
    """One page through analysis → (pass-through | geometry → mode → encode) → preview.
    Owns the full-resolution image it decodes and closes each superseded copy at once."""

    page: SourcePage
    profile: ScanProfile
    work_dir: Path
    stem: Path
    mode: ColourMode
    cancel: CancelToken | None
    caller_image: Image.Image | None
    label: str

    def run(self) -> ProcessedPage:
        page = self.page
        factor = imaging.analysis_factor(page.width, page.height, page.dpi)
        full: Image.Image | None = None
        square = page.dpi_x == page.dpi_y
        if self.caller_image is None and page.kind == "jpeg" and square:
            small = load_small(page, factor)  # no full decode yet: maybe none is needed
        else:
            full = self._load_full()
            small = imaging.reduce_to(full, factor)
        width, height = (full.size if full is not None else (page.width, page.height))
        small_dpi = page.dpi * small.width / width
        analysis, shown = imaging.analyse(small, small_dpi, deskew=self.profile.deskew,
                                          crop=self.profile.crop_borders, mode=self.mode)
        _check(self.cancel)
        if full is None and self._can_pass_through(analysis):
            return self._pass_through(analysis, shown)
        shown.close()
        if full is None:
            full = self._load_full()
        try:
            full = self._geometry(full, analysis, small.size)
            _check(self.cancel)
            full = self._swap(full, imaging.convert_for_mode(full, analysis.mode))
            path = imaging.encode(full, self.stem, page.dpi, self.profile.jpeg_quality)
            preview = imaging.write_preview(full, self.stem)
            width, height = full.size
        finally:
            if full is not None and full is not self.caller_image:
                full.close()
        return self._result(path, preview, width, height, analysis)

    def _load_full(self) -> Image.Image:
        page = self.page
        im = normalise_mode(self.caller_image) if self.caller_image is not None else (
            load_image(page))
        if page.dpi_x != page.dpi_y:
            # Fax-like non-square pixels: resample to the lower of the two resolutions so
            # the page keeps its real size and the PDF has one dpi per page.
            size = (round(im.width * page.dpi / page.dpi_x),
                    round(im.height * page.dpi / page.dpi_y))
            im = self._swap(im, im.resize(size, Image.Resampling.LANCZOS))
        return im

    def _swap(self, old: Image.Image, new: Image.Image) -> Image.Image:
        if new is not old and old is not self.caller_image:
            old.close()
        return new

    def _geometry(self, full: Image.Image, analysis: imaging.PageAnalysis,
                  small_size: tuple[int, int]) -> Image.Image:
        if analysis.skew_degrees:
            full = self._swap(full, imaging.rotate_page(full, analysis.skew_degrees))
        if analysis.content_box is not None:
            sx, sy = full.width / small_size[0], full.height / small_size[1]
            box = imaging.scale_box(analysis.content_box, sx, sy, full.width, full.height)
            full = self._swap(full, full.crop(box))
        return full

    def _can_pass_through(self, analysis: imaging.PageAnalysis) -> bool:
        """A scanner's JPEG goes into the PDF byte for byte when nothing about it has to
        change: no rotation, no crop, the right colour mode, and not a much higher
        quality (much larger file) than the profile asks for."""
        if analysis.skew_degrees or analysis.content_box is not None:
            return False
        with Image.open(self.page.path, formats=["JPEG"]) as im:
            jpeg_mode = im.mode
            upright = exif_orientation(im) == 1
        wanted = {ColourMode.COLOUR: "RGB", ColourMode.GREY: "L"}.get(analysis.mode)
        if not upright or jpeg_mode != wanted:
            return False
        quality = imaging.estimate_jpeg_quality(self.page.path)
        return quality is not None and quality <= self.profile.jpeg_quality + 10

    def _pass_through(self, analysis: imaging.PageAnalysis, shown: Image.Image) -> ProcessedPage:
        path = self.stem.with_suffix(".jpg")
        data = imaging.jpeg_with_density(self.page.path.read_bytes(), self.page.dpi)
        path.write_bytes(data)
        preview = imaging.write_preview(shown, self.stem)
        shown.close()
        return self._result(path, preview, self.page.width, self.page.height, analysis)

    def _result(self, path: Path, preview: Path, width: int, height: int,
                analysis: imaging.PageAnalysis) -> ProcessedPage:
        page = self.page
        return ProcessedPage(
            image_path=path, preview_path=preview, width_px=width, height_px=height,
            dpi=page.dpi, mode=analysis.mode, encoded_bytes=path.stat().st_size,
            source=self.label, blank=analysis.blank, skew_degrees=analysis.skew_degrees,
            cropped=analysis.content_box is not None, rotation=page.rotation,
            notes=[*page.notes, *analysis.notes])


# --- fitting a component under the size limit -----------------------------------------------


@dataclass(frozen=True)
class FitStep:
    """One rung of the shrinking ladder: JPEG pages re-encoded at ``quality`` and at most
    ``dpi``. ``None`` means "as encoded"."""

    quality: int | None
    dpi: int | None


@dataclass
class FitResult:
    """The PDF file(s) written for one component and, in Vietnamese, what was done to keep
    each under the per-file limit (shown to the clerk)."""

    parts: list[OutputPart]
    actions: list[str] = field(default_factory=list)
    jpeg_quality: int | None = None  # re-encoding quality, None when pages were kept as is
    dpi: int | None = None  # resolution pages were reduced to, None when kept
    oversize_pages: list[int] = field(default_factory=list)  # 1-based, alone over the limit

    @property
    def over_limit(self) -> bool:
        return bool(self.oversize_pages)


def fit_ladder(quality: int | None, dpi: int | None, rules: DigitizationRules) -> list[FitStep]:
    """Ever smaller settings: quality down to ~65 first (hardly visible on documents), then
    resolution down to the legal minimum, then quality down to the legibility floor.
    Nothing is ever raised, and nothing goes below ``rules.min_dpi`` or
    ``rules.min_jpeg_quality`` unless the pages already were."""
    steps = [FitStep(None, None)]
    if quality is None or dpi is None:
        return steps
    floor_q = min(rules.min_jpeg_quality, quality)
    floor_d = min(rules.min_dpi, dpi)
    mid_q = max(floor_q, min(quality, QUALITY_STEPS[-1]))
    for q in QUALITY_STEPS:
        if mid_q <= q < quality:
            steps.append(FitStep(q, dpi))
    for d in (*DPI_STEPS, floor_d):
        if floor_d <= d < dpi and FitStep(mid_q, d) not in steps:
            steps.append(FitStep(mid_q, d))
    last = FitStep(floor_q, floor_d)
    if last not in steps and (floor_q < mid_q or floor_d < dpi):
        steps.append(last)
    if len(steps) > 1 and steps[1] == FitStep(quality, dpi):
        steps.pop(1)
    return steps


def pack_parts(sizes: Sequence[int], budget: int) -> list[list[int]]:
    """Consecutive pages into as few files as fit ``budget`` (greedy is optimal for an
    order-preserving split). A page too big on its own gets a file of its own."""
    parts: list[list[int]] = []
    current: list[int] = []
    used = DOC_OVERHEAD
    for i, size in enumerate(sizes):
        if current and used + size > budget:
            parts.append(current)
            current, used = [], DOC_OVERHEAD
        current.append(i)
        used += size
    if current:
        parts.append(current)
    return parts


class _Variants:
    """Pages re-encoded per ladder step, cached, in a scratch directory. Sizes are always
    real encodings: estimates from a downscaled proxy proved 1.5–2× off on noisy scans
    (the proxy is smoother), and a wrong guess costs legibility or the size limit."""

    def __init__(self, pages: Sequence[ProcessedPage], scratch: Path,
                 cancel: CancelToken | None) -> None:
        self.pages = list(pages)
        self.scratch = scratch
        self.cancel = cancel
        self._cache: dict[tuple[int, FitStep], ProcessedPage] = {}
        self._quality: dict[Path, int | None] = {}

    def page(self, index: int, step: FitStep) -> ProcessedPage:
        key = (index, step)
        if key not in self._cache:
            self._cache[key] = self._variant(index, step)
        return self._cache[key]

    def pages_for(self, step: FitStep) -> list[ProcessedPage]:
        return [self.page(i, step) for i in range(len(self.pages))]

    def sizes(self, step: FitStep) -> list[int]:
        return [p.encoded_bytes + PAGE_OVERHEAD for p in self.pages_for(step)]

    def quality_of(self, page: ProcessedPage) -> int | None:
        if page.image_path not in self._quality:
            self._quality[page.image_path] = (
                imaging.estimate_jpeg_quality(page.image_path)
                if page.image_path.suffix.lower() in (".jpg", ".jpeg") else None)
        return self._quality[page.image_path]

    def _target(self, page: ProcessedPage, step: FitStep) -> tuple[int, int] | None:
        """(quality, dpi) to re-encode ``page`` at for ``step``; None to keep it as is.
        Bilevel G4 pages are small and lossless: never degraded."""
        quality = self.quality_of(page)
        if step.quality is None or step.dpi is None or quality is None:
            return None
        target = (min(quality, step.quality), min(page.dpi, step.dpi))
        return None if target == (quality, page.dpi) else target

    def _variant(self, index: int, step: FitStep) -> ProcessedPage:
        page = self.pages[index]
        target = self._target(page, step)
        if target is None:
            return page
        target_q, target_dpi = target
        _check(self.cancel)
        stem = self.scratch / f"p{index:04d}-q{target_q}-d{target_dpi}"
        size = (max(1, round(page.width_px * target_dpi / page.dpi)),
                max(1, round(page.height_px * target_dpi / page.dpi)))
        with large_format_guard(page.width_px, page.height_px), \
                Image.open(page.image_path, formats=["JPEG"]) as im:
            im.load()
            resized = im if size == im.size else imaging.resize_banded(im, size)
            if resized is not im:
                im.close()  # before encoding: keeps A0 at two full copies at most
            path = imaging.encode(resized, stem, target_dpi, target_q)
            resized.close()
        return replace(page, image_path=path, width_px=size[0], height_px=size[1],
                       dpi=target_dpi, encoded_bytes=path.stat().st_size)


def assemble_component(pages: Sequence[ProcessedPage], out_dir: Path, base_name: str,
                       rules: DigitizationRules, meta: PdfMetadata,
                       cancel: CancelToken | None = None, *,
                       scratch_dir: Path | None = None, ocr: bool = False) -> FitResult:
    """Write ``pages`` as ``out_dir/base_name.pdf``, or as numbered parts
    ``base_name_phan-1-of-3.pdf``… when one file cannot stay under
    ``rules.max_file_bytes`` even at the lowest allowed quality and resolution. Previous
    outputs of the same ``base_name`` are replaced."""
    if not pages:
        raise EmptyComponent("Thành phần hồ sơ chưa có trang nào để tạo tệp PDF.",
                             f"{base_name}: no pages")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base_name = _safe_name(base_name)
    allow_pixels(rules)
    scratch = Path(tempfile.mkdtemp(prefix=".motcua-fit-", dir=scratch_dir or out_dir))
    try:
        result = _Fitter(pages, out_dir, base_name, rules, meta, cancel, scratch).run()
        if ocr:
            add_text_layers(result, pages, rules, cancel)
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def add_text_layers(result: FitResult, pages: Sequence[ProcessedPage],
                    rules: DigitizationRules, cancel: CancelToken | None = None) -> None:
    """Give each written part an invisible Vietnamese text layer (searchable PDF). A part
    the layer would push over the size limit keeps its pages without it: the limit is the
    province's, the text layer a convenience."""
    from desktop_app.scanning.ocr import UNAVAILABLE_VI, add_text_layer, ocr_available

    if not ocr_available():
        result.actions.append(UNAVAILABLE_VI)
        return
    first = 0
    for i, part in enumerate(result.parts):
        images = [p.image_path for p in pages[first:first + part.pages]]
        first += part.pages
        backup = part.path.with_name(part.path.name + ".before-ocr")
        shutil.copyfile(part.path, backup)
        try:
            report = add_text_layer(part.path, images, cancel=cancel)
            size = part.path.stat().st_size
            if size > rules.max_file_bytes:
                os.replace(backup, part.path)
                result.actions.append(
                    f"Tệp {part.path.name}: bỏ lớp chữ nhận dạng vì sẽ vượt giới hạn dung "
                    "lượng.")
                continue
            result.parts[i] = replace(part, bytes=size, sha256=_sha256_of(part.path))
            result.actions.append(f"{part.path.name}: {report.summary_vi}")
        finally:
            backup.unlink(missing_ok=True)


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class _Fitter:
    pages: Sequence[ProcessedPage]
    out_dir: Path
    base: str
    rules: DigitizationRules
    meta: PdfMetadata
    cancel: CancelToken | None
    scratch: Path

    def run(self) -> FitResult:
        variants = _Variants(self.pages, self.scratch, self.cancel)
        jpeg_pages = [p for p in self.pages if variants.quality_of(p) is not None]
        q0 = max((variants.quality_of(p) or 0 for p in jpeg_pages), default=None)
        d0 = max((p.dpi for p in jpeg_pages), default=None)
        ladder = fit_ladder(q0, d0, self.rules)
        budget = self.rules.max_file_bytes
        for _ in range(MAX_REPACK):
            step = self._choose(ladder, variants, budget)
            pages, floored = self._with_floor(variants, ladder, step, budget)
            groups = pack_parts([p.encoded_bytes + PAGE_OVERHEAD for p in pages], budget)
            result = self._write(pages, groups, ladder, step, q0, d0)
            result.actions += self._floored_actions(pages, floored, ladder[-1], result)
            overshoot = max((p.bytes - self.rules.max_file_bytes for p in result.parts
                             if p.pages > 1), default=0)
            if overshoot <= 0:
                return result
            # The size estimate was short (it very rarely is): tighten the budget, redo.
            log.warning("%s: part over the limit by %d bytes; repacking", self.base, overshoot)
            budget -= overshoot + PAGE_OVERHEAD
        return result

    @staticmethod
    def _choose(ladder: list[FitStep], variants: _Variants, budget: int) -> FitStep:
        """The first (best) step whose pages fit one file; when none does, the best step
        that needs no more files than the lowest step does. Binary search: sizes shrink
        along the ladder, so an A0 page is re-encoded about three times, not six."""
        index = _first_true(ladder, lambda s: sum(variants.sizes(s)) + DOC_OVERHEAD <= budget)
        if index is None:
            fewest = len(pack_parts(variants.sizes(ladder[-1]), budget))
            index = _first_true(
                ladder, lambda s: len(pack_parts(variants.sizes(s), budget)) <= fewest)
        return ladder[-1 if index is None else index]

    @staticmethod
    def _with_floor(variants: _Variants, ladder: list[FitStep], step: FitStep,
                    budget: int) -> tuple[list[ProcessedPage], list[int]]:
        """The pages at ``step``, except that a page too big for any file on its own goes
        in at the floor: over the limit, if it must be, by as little as the rules allow."""
        pages = variants.pages_for(step)
        floored = []
        for i, page in enumerate(pages):
            if page.encoded_bytes + PAGE_OVERHEAD + DOC_OVERHEAD > budget:
                floor_page = variants.page(i, ladder[-1])
                if floor_page is not page:
                    pages[i] = floor_page
                    floored.append(i)
        return pages, floored

    def _write(self, pages: list[ProcessedPage], groups: list[list[int]],
               ladder: list[FitStep], step: FitStep, q0: int | None,
               d0: int | None) -> FitResult:
        n = len(groups)
        names = ([f"{self.base}.pdf"] if n == 1
                 else [f"{self.base}_phan-{i}-of-{n}.pdf" for i in range(1, n + 1)])
        parts = []
        for i, (group, name) in enumerate(zip(groups, names, strict=True), start=1):
            _check(self.cancel)
            chosen = [pages[k] for k in group]
            meta = self.meta if n == 1 else replace(
                self.meta, title=f"{self.meta.title} (phần {i}/{n})")
            written = write_pdf(chosen, self.out_dir / name, meta, self.cancel)
            modes = tuple(dict.fromkeys(p.mode for p in chosen))
            parts.append(OutputPart(written.path, len(chosen), written.bytes, i, n,
                                    min(p.dpi for p in chosen), modes, written.sha256))
        self._remove_stale(set(names))
        return self._report(parts, groups, pages, ladder, step, q0, d0)

    def _report(self, parts: list[OutputPart], groups: list[list[int]],
                pages: list[ProcessedPage], ladder: list[FitStep], step: FitStep,
                q0: int | None, d0: int | None) -> FitResult:
        limit = self.rules.max_file_bytes
        limit_vi = format_bytes_vi(limit)
        result = FitResult(parts)
        if step.quality is not None and q0 is not None and step.quality < q0:
            result.jpeg_quality = step.quality
            result.actions.append(f"Giảm chất lượng JPEG từ {q0} xuống {step.quality} để vừa "
                                  f"giới hạn {limit_vi}.")
        if step.dpi is not None and d0 is not None and step.dpi < d0:
            result.dpi = step.dpi
            result.actions.append(f"Giảm độ phân giải từ {d0} xuống {step.dpi} dpi để vừa "
                                  f"giới hạn {limit_vi}.")
        if len(parts) > 1:
            result.actions.append(f"Chia thành {len(parts)} tệp, mỗi tệp không quá {limit_vi}.")
        for part, group in zip(parts, groups, strict=True):
            if part.bytes > limit:
                page_no = group[0] + 1
                result.oversize_pages.append(page_no)
                quality = ladder[-1].quality
                floor = f"{pages[group[0]].dpi} dpi" + (
                    f", chất lượng JPEG {quality}" if quality and pages[group[0]].mode
                    is not ColourMode.BILEVEL else "")
                result.actions.append(
                    f"Trang {page_no} vẫn lớn hơn giới hạn {limit_vi} ngay cả ở mức thấp nhất "
                    f"cho phép ({floor}): đã để riêng trong tệp {part.path.name} "
                    f"({format_bytes_vi(part.bytes)}).")
        return result

    def _floored_actions(self, pages: list[ProcessedPage], floored: list[int],
                         floor: FitStep, result: FitResult) -> list[str]:
        limit_vi = format_bytes_vi(self.rules.max_file_bytes)
        return [f"Trang {i + 1}: giảm thêm tới mức thấp nhất cho phép ({pages[i].dpi} dpi, "
                f"chất lượng JPEG {floor.quality}) để vừa giới hạn {limit_vi}."
                for i in floored if i + 1 not in result.oversize_pages]

    def _remove_stale(self, keep: set[str]) -> None:
        """Earlier outputs of the same component (e.g. 3 parts then, 1 file now) would be
        uploaded by mistake next to the new ones."""
        pattern = re.compile(re.escape(self.base) + r"(_phan-\d+-of-\d+)?\.pdf")
        for path in self.out_dir.iterdir():
            if path.name not in keep and pattern.fullmatch(path.name):
                log.info("removing stale output %s", path)
                with contextlib.suppress(OSError):
                    path.unlink()


def _first_true(ladder: list[FitStep], predicate: Callable[[FitStep], bool]) -> int | None:
    """Index of the first step that satisfies ``predicate`` (sizes shrink along the
    ladder, so a binary search needs only log2(len) re-encodings). The floor, the most
    expensive step to try (a resize), is only tried when everything above it failed."""
    if predicate(ladder[0]):
        return 0
    lo, hi = 1, len(ladder) - 1
    if hi < lo:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if predicate(ladder[mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo if predicate(ladder[lo]) else None


def format_bytes_vi(n: int) -> str:
    """"10 MB", "1,5 MB", "300 KB" (Vietnamese decimal comma)."""
    mb = n / (1024 * 1024)
    if mb >= 1:
        text = f"{mb:.1f}".rstrip("0").rstrip(".")
        return f"{text.replace('.', ',')} MB"
    return f"{math.ceil(n / 1024)} KB"


# --- batches of documents -----------------------------------------------------------------


@dataclass
class DocumentResult:
    """The outcome for one input document. Plain data (picklable for worker processes);
    ``error_vi`` is set when the input was refused, and then ``parts`` is empty."""

    input: Path
    parts: list[OutputPart] = field(default_factory=list)
    pages: int = 0  # pages in the output
    blank_dropped: int = 0
    actions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # per-page notes (deskew, dpi assumed …)
    oversize_pages: list[int] = field(default_factory=list)
    error_vi: str | None = None
    error_detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_vi is None


ProgressFn = Callable[[int, int, str], None]


def default_metadata(path: Path) -> PdfMetadata:
    return PdfMetadata(title=Path(path).stem)


def digitize_document(path: Path, out_dir: Path, profile: ScanProfile, rules: DigitizationRules,
                      meta: PdfMetadata, *, base_name: str | None = None,
                      mode: ColourMode | None = None, cancel: CancelToken | None = None,
                      work_root: Path | None = None) -> DocumentResult:
    """One input document → PDF file(s). Never raises for a bad input (the error is in the
    result); only ``CancelledError`` propagates. A top-level function, so a process pool
    can run it."""
    path = Path(path)
    result = DocumentResult(path)
    work = Path(tempfile.mkdtemp(prefix=".motcua-work-", dir=work_root or out_dir))
    try:
        pages = process_file(path, profile, rules, work, mode=mode, cancel=cancel)
        kept = [p for p in pages if not (profile.drop_blank and p.blank)]
        if not kept:
            kept = pages
            result.actions.append("Mọi trang đều trắng: vẫn giữ lại để cán bộ kiểm tra.")
        elif len(kept) < len(pages):
            result.blank_dropped = len(pages) - len(kept)
            result.actions.append(f"Bỏ {result.blank_dropped} trang trắng.")
        fit = assemble_component(kept, out_dir, base_name or path.stem, rules, meta, cancel,
                                 scratch_dir=work, ocr=profile.ocr)
        result.parts, result.pages = fit.parts, len(kept)
        result.actions += fit.actions
        result.oversize_pages = fit.oversize_pages
        result.notes = [n for p in kept for n in p.notes if n != "Trang trắng."]
    except CancelledError:
        raise
    except DomainError as exc:
        log.info("%s refused: %s", path, exc.detail)
        result.error_vi, result.error_detail = exc.message_vi, exc.detail
    except MemoryError as exc:
        result.error_vi = (f"Không đủ bộ nhớ để xử lý tệp {path.name}. Hãy đóng bớt chương "
                           "trình hoặc quét với độ phân giải thấp hơn.")
        result.error_detail = f"{path}: MemoryError {exc}"
    except Exception as exc:  # one unexpected failure must not stop a whole batch
        log.exception("digitizing %s failed", path)
        result.error_vi = f"Lỗi không mong đợi khi xử lý tệp {path.name}; xem nhật ký."
        result.error_detail = f"{path}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def digitize_files(inputs: Sequence[Path | str], out_dir: Path, profile: ScanProfile,
                   rules: DigitizationRules,
                   meta_for: Callable[[Path], PdfMetadata] = default_metadata,
                   progress: ProgressFn | None = None, cancel: CancelToken | None = None, *,
                   mode: ColourMode | None = None, jobs: int = 1,
                   ) -> list[DocumentResult]:
    """One compliant PDF (or numbered parts) per input document in ``out_dir``, results in
    input order. Refused inputs are reported in their result and do not stop the batch.
    With ``jobs`` > 1 small documents run in worker processes; documents with large pages
    run one at a time in this process meanwhile. ``progress(done, total, message_vi)``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in inputs]
    names = _output_names(paths, out_dir)
    results: dict[int, DocumentResult] = {}
    total = len(paths)

    def finished(i: int, result: DocumentResult) -> None:
        results[i] = result
        if progress is not None:
            state = "xong" if result.ok else "bị từ chối"
            progress(len(results), total, f"{paths[i].name}: {state}")

    def run_here(i: int) -> None:
        _check(cancel)
        finished(i, digitize_document(paths[i], out_dir, profile, rules, meta_for(paths[i]),
                                      base_name=names[i], mode=mode, cancel=cancel))

    pooled = [i for i in range(total) if jobs > 1 and not _has_large_pages(paths[i], profile,
                                                                               rules)]
    if len(pooled) < 2:
        pooled = []
    if not pooled:
        for i in range(total):
            run_here(i)
        return [results[i] for i in range(total)]
    ctx = multiprocessing.get_context("spawn")  # the same behaviour on Windows and Linux
    with ProcessPoolExecutor(max_workers=min(jobs, len(pooled)), mp_context=ctx) as pool:
        futures: dict[Future[DocumentResult], int] = {
            pool.submit(digitize_document, paths[i], out_dir, profile, rules,
                        meta_for(paths[i]), base_name=names[i], mode=mode): i
            for i in pooled}
        try:
            for i in range(total):
                if i not in pooled:
                    run_here(i)  # large documents, one at a time, while the pool works
            for future, i in futures.items():
                _check(cancel)
                finished(i, future.result())
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [results[i] for i in range(total)]


def _has_large_pages(path: Path, profile: ScanProfile, rules: DigitizationRules) -> bool:
    try:
        doc = open_document(path, profile, rules)
    except DomainError:
        return False  # refused cheaply wherever it runs
    return any(is_large(p.width, p.height) for p in doc.pages)


def _output_names(paths: Sequence[Path], out_dir: Path) -> list[str]:
    """One base name per input: its stem, made unique within the batch, and never the
    name of an input PDF in the output directory (that would overwrite the original)."""
    used: set[str] = set()
    inputs = {p.resolve() for p in paths}
    names = []
    for path in paths:
        stem = _safe_name(path.stem)
        name, n = stem, 1
        while name.lower() in used or (out_dir / f"{name}.pdf").resolve() in inputs:
            n += 1
            name = f"{stem}-{n}"
        used.add(name.lower())
        names.append(name)
    return names


_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def _safe_name(name: str) -> str:
    """A file name that is valid on Windows and Linux (Vietnamese letters are kept)."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    return cleaned[:120] or "tai-lieu"


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
