"""Pages → the PDF file(s) of one dossier component under the province's per-file size
limit: ``assemble_component`` lowers JPEG quality and resolution step by step (never
below the legal floors), and splits into numbered parts only when that is not enough."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from desktop_app.domain.errors import DomainError
from desktop_app.files import sha256_file
from desktop_app.scanning import imaging
from desktop_app.scanning.loading import allow_pixels
from desktop_app.scanning.model import (
    CancelToken,
    ColourMode,
    DigitizationRules,
    OutputPart,
    PdfMetadata,
    ProcessedPage,
    check_cancelled,
)
from desktop_app.scanning.ocr import UNAVAILABLE_VI, add_text_layer, ocr_available
from desktop_app.scanning.page_processing import large_format_guard, safe_file_name
from desktop_app.scanning.pdf_assembly import write_pdf

log = logging.getLogger(__name__)

DOC_OVERHEAD = 16 * 1024  # catalogue, XMP, document info, cross-reference table
PAGE_OVERHEAD = 1024  # page dictionary, content stream, image dictionary, TIFF header
QUALITY_STEPS = (75, 65)
DPI_STEPS = (400, 300, 250)
MAX_REPACK = 3


class EmptyComponent(DomainError):
    pass


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
        check_cancelled(self.cancel)
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
    base_name = safe_file_name(base_name)
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
            result.parts[i] = replace(part, bytes=size, sha256=sha256_file(part.path))
            result.actions.append(f"{part.path.name}: {report.summary_vi}")
        finally:
            backup.unlink(missing_ok=True)


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
            check_cancelled(self.cancel)
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

