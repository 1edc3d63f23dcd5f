"""The digitization pipeline for whole documents, used by ``motcua digitize`` and by
benches: ``digitize_files`` turns a batch of input documents into one compliant PDF (or
numbered parts) each, a refused input never stopping the others.

Each document goes page by page through ``page_processing`` and is then fitted under the
size limit by ``fitting``; the Qt studio calls those two directly, component by
component."""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import tempfile
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.domain.errors import DomainError
from desktop_app.scanning.fitting import assemble_component
from desktop_app.scanning.loading import open_document
from desktop_app.scanning.model import (
    CancelledError,
    CancelToken,
    ColourMode,
    DigitizationRules,
    OutputPart,
    PdfMetadata,
    ScanProfile,
    check_cancelled,
)
from desktop_app.scanning.page_processing import is_large, process_file, safe_file_name

log = logging.getLogger(__name__)


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
        check_cancelled(cancel)
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
                check_cancelled(cancel)
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
        stem = safe_file_name(path.stem)
        name, n = stem, 1
        while name.lower() in used or (out_dir / f"{name}.pdf").resolve() in inputs:
            n += 1
            name = f"{stem}-{n}"
        used.add(name.lower())
        names.append(name)
    return names
