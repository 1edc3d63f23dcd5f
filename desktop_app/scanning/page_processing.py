"""One input page (or file) → an encoded page with a preview, as pages arrive from a
scanner or an import: ``process_page`` / ``process_file``.

Memory: a page is decoded once at full resolution and at most two full-resolution copies
exist at any moment; large pages (A2 and up) go through ``LARGE_FORMAT_LOCK`` one at a
time, so an A0 map at 300 dpi stays well under 1.5 GB."""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from desktop_app.domain.errors import DomainError
from desktop_app.scanning import imaging
from desktop_app.scanning.loading import (
    SourcePage,
    allow_pixels,
    check_pixels,
    decide_dpi,
    exif_orientation,
    load_image,
    load_small,
    materialize,
    normalise_mode,
    open_document,
)
from desktop_app.scanning.model import (
    CancelToken,
    ColourMode,
    DigitizationRules,
    ProcessedPage,
    ScanProfile,
    check_cancelled,
)

# About an A2 page at 300 dpi (35 MP); A4/A3 scans stay below and may run in parallel.
LARGE_PIXELS = 30_000_000
# Large pages are processed one at a time across the whole process (studio threads, the
# CLI): two A0 colour pages at once would need ~2.5 GB. Re-entrant, so a caller may hold
# it around several calls that take it again.
LARGE_FORMAT_LOCK = threading.RLock()


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


_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def safe_file_name(name: str) -> str:
    """A file name that is valid on Windows and Linux (Vietnamese letters are kept)."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    return cleaned[:120] or "tai-lieu"


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
    stem = safe_file_name(doc.path.stem)
    out: list[ProcessedPage] = []
    for i, page in enumerate(doc.pages):
        check_cancelled(cancel)
        processed = _process(page, profile, rules, Path(work_dir),
                             f"{stem}-{uuid.uuid4().hex[:8]}-{i + 1:04d}", mode, cancel)
        out.append(processed)
        if on_page is not None:
            on_page(i + 1, len(doc.pages), processed)
    return out


def _memory_page(image: Image.Image, profile: ScanProfile, rules: DigitizationRules,
                 dpi: int | None, label: str) -> tuple[SourcePage, Image.Image]:
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
        check_cancelled(cancel)
        if image is None:
            page = materialize(page, work_dir)
        stem = work_dir / (name or f"{safe_file_name(Path(page.label).stem)}-"
                                   f"{uuid.uuid4().hex[:12]}")
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
        check_cancelled(self.cancel)
        if full is None and self._can_pass_through(analysis):
            return self._pass_through(analysis, shown)
        shown.close()
        if full is None:
            full = self._load_full()
        try:
            full = self._geometry(full, analysis, small.size)
            check_cancelled(self.cancel)
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
