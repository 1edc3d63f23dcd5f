"""Optional Vietnamese OCR text layer for digitized PDFs (Tesseract, when installed).

Each page image is read by the ``tesseract`` command line program, which writes a
*text-only* PDF page (invisible glyphs, render mode 3, no image). That page becomes a form
XObject drawn over the matching page of the component PDF, scaled from its MediaBox onto
the target MediaBox: the page image fills its MediaBox at 100 % scale (pdf_assembly), so
the words land exactly over their pixels and search/copy work in any reader. The image
streams are never decoded or re-encoded; only a content stream and a form are added.

The engine is optional: ``ocr_available`` says whether a usable ``tesseract`` with the
language is present, and ``add_text_layer`` returns a report saying "unavailable" without
touching the file when it is not. A page that fails or times out keeps its image page as
it was; the file is rewritten atomically (temporary file, fsync, rename) or not at all.

Debian/Ubuntu: ``apt-get install tesseract-ocr tesseract-ocr-vie``. Windows: the
UB Mannheim installer with the Vietnamese language ticked (found in its default folder),
or ``MOTCUA_TESSERACT`` pointing at ``tesseract.exe``."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from PIL import Image

from desktop_app.domain.errors import DomainError
from desktop_app.files import replacing
from desktop_app.scanning.model import CancelledError, CancelToken, check_cancelled

log = logging.getLogger(__name__)

ENV_BINARY = "MOTCUA_TESSERACT"
WINDOWS_CANDIDATES = (
    Path(r"C:\Program Files\Tesseract-OCR\tesseract.exe"),
    Path(r"C:\Program Files (x86)\Tesseract-OCR\tesseract.exe"),
)
# Resource names of our text layer; a page that already has one is not OCRed twice.
LAYER_PREFIX = "MotcuaOcr"
# Tesseract reads best at 300 dpi; finer scans only cost time. Beyond ~40 MP (an A2 page
# at 300 dpi) it needs minutes and > 1 GB, so maps are read at a lower resolution.
OCR_DPI = 300
MAX_NATIVE_DPI = 400
MAX_OCR_PIXELS = 40_000_000
# An image whose proportions differ from its page's by more than this is the wrong image.
ASPECT_TOLERANCE = 0.01
PROBE_TIMEOUT_S = 15.0
POLL_S = 0.2  # how often a running tesseract checks the cancel flag
STDERR_TAIL = 600  # characters of tesseract's complaints kept in the log
# Formats leptonica reads reliably. Anything else is refused before tesseract sees it:
# tesseract takes a file it cannot decode as a *list of image paths* and opens those.
ACCEPTED_FORMATS = ("JPEG", "TIFF", "PNG")


class OcrError(DomainError):
    pass


@dataclass(frozen=True)
class OcrEngine:
    binary: Path
    version: str
    languages: frozenset[str]


@dataclass
class OcrReport:
    """What ``add_text_layer`` did. ``errors`` maps 1-based page numbers to the reason, in
    Vietnamese, that page kept no text layer."""

    available: bool
    lang: str
    pages_done: int = 0
    pages_failed: int = 0
    pages_skipped: int = 0  # already had a text layer from an earlier run
    seconds: float = 0.0
    errors: dict[int, str] = field(default_factory=dict)

    @property
    def summary_vi(self) -> str:
        if not self.available:
            return UNAVAILABLE_VI
        total = self.pages_done + self.pages_failed + self.pages_skipped
        text = f"Đã thêm lớp chữ nhận dạng cho {self.pages_done}/{total} trang"
        if self.pages_skipped:
            text += f", {self.pages_skipped} trang đã có lớp chữ từ trước"
        if self.pages_failed:
            text += f"; {self.pages_failed} trang không nhận dạng được (giữ nguyên ảnh)"
        return text + "."


UNAVAILABLE_VI = ("Máy này chưa cài phần mềm nhận dạng chữ Tesseract (kèm gói tiếng Việt); "
                  "tệp PDF giữ nguyên, chưa có lớp chữ để tìm kiếm.")


# --- finding the engine ------------------------------------------------------------------------


def _candidates() -> list[Path]:
    found: list[Path] = []
    configured = os.environ.get(ENV_BINARY, "").strip()
    if configured:
        path = Path(configured)
        if path.is_file():
            found.append(path)
        else:
            log.warning("%s=%s: no such file; looking for tesseract on PATH instead",
                        ENV_BINARY, configured)
    on_path = shutil.which("tesseract")
    if on_path:
        found.append(Path(on_path))
    if os.name == "nt":
        local = os.environ.get("LOCALAPPDATA")
        extra = [*WINDOWS_CANDIDATES,
                 *([Path(local) / "Programs" / "Tesseract-OCR" / "tesseract.exe"]
                   if local else [])]
        found.extend(p for p in extra if p.is_file())
    return list(dict.fromkeys(found))


def _popen_flags() -> int:
    # No console window flashing up over the studio for every page on Windows.
    return getattr(subprocess, "CREATE_NO_WINDOW", 0) if os.name == "nt" else 0


def _probe(binary: Path) -> OcrEngine | None:
    try:
        ver = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             errors="replace", timeout=PROBE_TIMEOUT_S, check=False,
                             stdin=subprocess.DEVNULL, creationflags=_popen_flags())
        langs = subprocess.run([str(binary), "--list-langs"], capture_output=True, text=True,
                               errors="replace", timeout=PROBE_TIMEOUT_S, check=False,
                               stdin=subprocess.DEVNULL, creationflags=_popen_flags())
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("tesseract at %s cannot be run: %s: %s", binary, type(exc).__name__, exc)
        return None
    # 3.x printed these on stderr, 4.x and later on stdout.
    version_text = (ver.stdout + ver.stderr).strip()
    match = re.search(r"tesseract\s+v?(\d+)\.(\d+)\S*", version_text)
    if langs.returncode != 0 or match is None:
        log.warning("tesseract at %s does not answer as expected (--version rc=%s: %r; "
                    "--list-langs rc=%s)", binary, ver.returncode, version_text[:120],
                    langs.returncode)
        return None
    if int(match.group(1)) < 4:
        # 3.x ignores textonly_pdf and would embed a second copy of every page image.
        log.warning("tesseract at %s is %s; version 4 or later is needed for a text-only "
                    "layer", binary, match.group(0))
        return None
    listed = (langs.stdout + "\n" + langs.stderr).splitlines()
    languages = frozenset(line.strip() for line in listed
                          if re.fullmatch(r"[A-Za-z0-9_\-]+", line.strip()))
    return OcrEngine(binary, match.group(0), languages)


@functools.cache
def find_engine() -> OcrEngine | None:
    """The first working ``tesseract`` (``MOTCUA_TESSERACT``, PATH, the Windows install
    folders), probed once per process: probing costs two process starts."""
    for binary in _candidates():
        engine = _probe(binary)
        if engine is not None:
            log.info("OCR engine: %s (%s), languages: %s", engine.binary, engine.version,
                     ", ".join(sorted(engine.languages)) or "none")
            return engine
    log.info("OCR engine: tesseract not found (%s, PATH%s); PDFs get no text layer",
             ENV_BINARY, ", Program Files" if os.name == "nt" else "")
    return None


def clear_cache() -> None:
    """Forget the probed engine (after installing it, changing PATH, and in tests)."""
    find_engine.cache_clear()


def ocr_available(lang: str = "vie") -> bool:
    """True when a usable tesseract is installed with every language of ``lang``
    (tesseract syntax, e.g. ``"vie"`` or ``"vie+eng"``)."""
    engine = find_engine()
    return engine is not None and all(code in engine.languages for code in lang.split("+"))


# --- adding the layer --------------------------------------------------------------------------


class _PageFailure(Exception):
    def __init__(self, message_vi: str, detail: str) -> None:
        super().__init__(detail)
        self.message_vi = message_vi
        self.detail = detail


@dataclass(frozen=True)
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def of(cls, array: pikepdf.Array) -> _Box:
        a, b, c, d = (float(v) for v in array)
        return cls(min(a, c), min(b, d), max(a, c), max(b, d))

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class _PageJob:
    number: int  # 1-based, for messages
    image: Path | bytes
    dpi: float | None
    box: _Box


def default_workers() -> int:
    # Each tesseract runs single-threaded (OMP_THREAD_LIMIT=1); half the cores leaves the
    # studio responsive while several pages are read at once.
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def add_text_layer(pdf_path: Path, page_images: Sequence[Path | bytes], *, lang: str = "vie",
                   dpi_of: Sequence[float] | None = None, cancel: CancelToken | None = None,
                   timeout_s: float = 120, workers: int | None = None) -> OcrReport:
    """Add an invisible OCR text layer to every page of ``pdf_path`` from the matching
    entry of ``page_images`` (the encoded page image as embedded, as a path or bytes).
    ``dpi_of`` gives each image's resolution; by default it is derived from the page size.
    ``timeout_s`` bounds each page. Raises ``CancelledError`` (file untouched) when
    cancelled, ``OcrError`` when the PDF cannot be read or written."""
    started = time.monotonic()
    pdf_path = Path(pdf_path)
    report = OcrReport(available=ocr_available(lang), lang=lang)
    engine = find_engine()
    if not report.available or engine is None:
        log.info("OCR skipped for %s: tesseract with language %r not available", pdf_path,
                 lang)
        return report
    if dpi_of is not None and len(dpi_of) != len(page_images):
        raise ValueError(f"{len(dpi_of)} dpi values for {len(page_images)} page images")
    check_cancelled(cancel)
    try:
        with pikepdf.open(pdf_path) as pdf:
            if len(pdf.pages) != len(page_images):
                raise OcrError("Số ảnh trang không khớp với số trang của tệp PDF; "
                               "không thêm lớp chữ.",
                               f"{pdf_path}: {len(pdf.pages)} PDF pages, "
                               f"{len(page_images)} page images")
            jobs: list[_PageJob] = []
            for i, page in enumerate(pdf.pages):
                if _has_layer(page):
                    report.pages_skipped += 1
                    continue
                jobs.append(_PageJob(i + 1, page_images[i],
                                     None if dpi_of is None else float(dpi_of[i]),
                                     _Box.of(page.mediabox)))
            log.info("OCR %s: %d page(s) with %s (%s), lang=%s, %d already done",
                     pdf_path, len(jobs), engine.binary, engine.version, lang,
                     report.pages_skipped)
            layers = _recognise_all(engine, jobs, lang, cancel, timeout_s,
                                    workers or default_workers(), report, pdf_path)
            with contextlib.ExitStack() as stack:
                for job in jobs:
                    if job.number not in layers:
                        continue
                    try:
                        # Kept open until saved: qpdf copies foreign stream data lazily.
                        text_pdf = stack.enter_context(
                            pikepdf.open(io.BytesIO(layers[job.number])))
                        _overlay(pdf, pdf.pages[job.number - 1], text_pdf, job)
                        report.pages_done += 1
                    except _PageFailure as exc:
                        _fail(report, job.number, exc.message_vi,
                              f"{pdf_path} page {job.number}: {exc.detail}")
                    except pikepdf.PdfError as exc:
                        _fail(report, job.number,
                              f"Trang {job.number}: kết quả nhận dạng chữ bị hỏng; "
                              "trang ảnh giữ nguyên.",
                              f"{pdf_path} page {job.number}: text-only PDF unusable: {exc}")
                if report.pages_done:
                    check_cancelled(cancel)
                    _save_atomically(pdf, pdf_path, cancel)
    except (OSError, pikepdf.PdfError) as exc:
        raise OcrError(f"Không thêm được lớp chữ vào tệp {pdf_path.name}: {exc}.",
                       f"{pdf_path}: {type(exc).__name__}: {exc}") from exc
    report.seconds = time.monotonic() - started
    log.info("OCR %s: %d page(s) done, %d failed, %d skipped in %.1f s", pdf_path,
             report.pages_done, report.pages_failed, report.pages_skipped, report.seconds)
    return report


def _fail(report: OcrReport, number: int, message_vi: str, detail: str) -> None:
    log.warning("OCR failed: %s", detail)
    report.pages_failed += 1
    report.errors[number] = message_vi


def _has_layer(page: pikepdf.Page) -> bool:
    xobjects = page.obj.get("/Resources", pikepdf.Dictionary()).get("/XObject")
    return isinstance(xobjects, pikepdf.Dictionary) and any(
        str(key).startswith(f"/{LAYER_PREFIX}") for key in xobjects)


def _recognise_all(engine: OcrEngine, jobs: list[_PageJob], lang: str,
                   cancel: CancelToken | None, timeout_s: float, workers: int,
                   report: OcrReport, pdf_path: Path) -> dict[int, bytes]:
    """Run tesseract on every job; page number → text-only PDF bytes for the pages read.
    A cancel stops every running tesseract before ``CancelledError`` propagates."""
    layers: dict[int, bytes] = {}
    if not jobs:
        return layers
    # A private stop flag: a cancel from the clerk, or any other failure of this call,
    # must stop the other workers' tesseract processes too.
    stop = CancelToken()
    with tempfile.TemporaryDirectory(prefix="motcua-ocr-") as scratch, \
            ThreadPoolExecutor(max_workers=min(workers, len(jobs)),
                               thread_name_prefix="ocr") as pool:
        futures: list[tuple[_PageJob, Future[bytes]]] = [
            (job, pool.submit(_recognise, engine, job, lang, Path(scratch), timeout_s,
                              cancel, stop)) for job in jobs]
        try:
            for job, future in futures:
                try:
                    layers[job.number] = future.result()
                except _PageFailure as exc:
                    _fail(report, job.number, exc.message_vi,
                          f"{pdf_path} page {job.number}: {exc.detail}")
        except BaseException:
            stop.cancel()
            for _job, future in futures:
                future.cancel()
            raise
    return layers


def _recognise(engine: OcrEngine, job: _PageJob, lang: str, scratch: Path, timeout_s: float,
               cancel: CancelToken | None, stop: CancelToken) -> bytes:
    check_cancelled(cancel)
    check_cancelled(stop)
    started = time.monotonic()
    n = job.number
    source = job.image
    if isinstance(source, bytes | bytearray):
        path = scratch / f"page-{n:04d}.img"
        path.write_bytes(source)
    else:
        path = Path(source)
    image, dpi = _prepare_image(path, job, scratch)
    # The image goes in on stdin and the PDF comes back on stdout: tesseract opens no
    # path. On Windows it cannot open one outside the ANSI code page (tesseract-ocr/
    # tesseract#3709), and the data folder and %TEMP% sit under C:\Users\Nguyễn… there.
    command = [str(engine.binary), "stdin", "stdout", "-l", lang,
               "--dpi", str(max(1, round(dpi))), "-c", "textonly_pdf=1", "pdf"]
    # One thread per tesseract: with OpenMP each would grab every core and several
    # pages in parallel would thrash.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        with image.open("rb") as stdin:  # the child holds its own handle once started
            proc = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env,
                                    creationflags=_popen_flags())
    except OSError as exc:
        raise _PageFailure(f"Trang {n}: không chạy được phần mềm nhận dạng chữ; trang ảnh "
                           "giữ nguyên.", f"cannot start {engine.binary}: {exc}") from exc
    deadline = started + timeout_s
    while True:
        try:
            data, err = proc.communicate(timeout=max(0.01, min(POLL_S,
                                                              deadline - time.monotonic())))
            break
        except subprocess.TimeoutExpired:
            if (cancel is not None and cancel.cancelled) or stop.cancelled:
                _kill(proc)
                raise CancelledError("cancelled") from None
            if time.monotonic() >= deadline:
                _kill(proc)
                raise _PageFailure(
                    f"Trang {n}: nhận dạng chữ quá {timeout_s:g} giây nên đã bỏ qua; trang "
                    "ảnh giữ nguyên.", f"tesseract timed out after {timeout_s:g} s on "
                    f"{image} ({_describe(job.image)})") from None
    stderr = err.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not data.startswith(b"%PDF"):
        raise _PageFailure(f"Trang {n}: phần mềm nhận dạng chữ báo lỗi; trang ảnh giữ "
                           "nguyên.", f"tesseract rc={proc.returncode}, {len(data)} bytes "
                           f"of PDF, on {image} ({_describe(job.image)}): "
                           f"{stderr[-STDERR_TAIL:]!r}")
    log.debug("OCR page %d: %.2f s at %.0f dpi (%s)%s", n, time.monotonic() - started, dpi,
              _describe(job.image), f"; tesseract said: {stderr[-STDERR_TAIL:]!r}"
              if stderr else "")
    return data


def _prepare_image(path: Path, job: _PageJob, scratch: Path) -> tuple[Path, float]:
    """The image tesseract will read and its resolution: the page image itself, or a
    greyscale copy at ``OCR_DPI`` (or fewer pixels) when it is finer or larger than that."""
    n = job.number
    try:
        with Image.open(path, formats=ACCEPTED_FORMATS) as im:
            width, height = im.size
            fmt = im.format
            declared = im.info.get("dpi")
            aspect_image = width / height
            aspect_page = job.box.width / job.box.height
            if abs(aspect_image / aspect_page - 1) > ASPECT_TOLERANCE:
                raise _PageFailure(
                    f"Trang {n}: ảnh trang không khớp khổ trang PDF; không thêm lớp chữ.",
                    f"image {width}x{height} px vs page {job.box.width:.1f}x"
                    f"{job.box.height:.1f} pt ({_describe(job.image)})")
            # The page size at 100 % scale is the truth; metadata may be absent or 72.
            dpi = job.dpi or width * 72 / job.box.width
            if not dpi or dpi <= 0:
                dpi = float(declared[0]) if declared else OCR_DPI
            scale = min(1.0, OCR_DPI / dpi if dpi > MAX_NATIVE_DPI else 1.0,
                        math.sqrt(MAX_OCR_PIXELS / (width * height)))
            if scale >= 1.0:
                return path, dpi
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            if fmt == "JPEG":
                im.draft("L", size)  # DCT scaling: never decode an A0 map at full size
            small = im.convert("L").resize(size, Image.Resampling.BOX)
    except _PageFailure:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, ZeroDivisionError) as exc:
        raise _PageFailure(f"Trang {n}: không đọc được ảnh trang để nhận dạng chữ; trang ảnh "
                           "giữ nguyên.", f"unreadable image ({_describe(job.image)}): "
                           f"{type(exc).__name__}: {exc}") from exc
    copy = scratch / f"page-{n:04d}.ocr.png"
    with small:
        small.save(copy, "PNG", compress_level=1)  # read once, right away: speed over size
    log.debug("OCR page %d: %dx%d px at %.0f dpi reduced to %dx%d for tesseract", n, width,
              height, dpi, *size)
    return copy, dpi * size[0] / width


def _describe(image: Path | bytes) -> str:
    return f"{len(image)} bytes in memory" if isinstance(image, bytes | bytearray) else str(image)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        proc.communicate(timeout=10)


def _overlay(pdf: pikepdf.Pdf, page: pikepdf.Page, text_pdf: pikepdf.Pdf, job: _PageJob) -> None:
    """Draw the text-only page over ``page``, scaled from its MediaBox to the page's."""
    if len(text_pdf.pages) != 1:
        raise _PageFailure(f"Trang {job.number}: kết quả nhận dạng chữ bị hỏng; trang ảnh "
                           "giữ nguyên.", f"text-only PDF has {len(text_pdf.pages)} pages")
    text_page = text_pdf.pages[0]
    resources = text_page.obj.get("/Resources", pikepdf.Dictionary())
    if "/XObject" in resources:
        # An image here means textonly_pdf was ignored: a second copy of the page image.
        raise _PageFailure(f"Trang {job.number}: phần mềm nhận dạng chữ không tạo được lớp "
                           "chữ riêng; trang ảnh giữ nguyên.",
                           "text-only PDF carries images (textonly_pdf ignored?)")
    src = _Box.of(text_page.mediabox)
    dst = job.box
    if src.width <= 0 or src.height <= 0:
        raise _PageFailure(f"Trang {job.number}: kết quả nhận dạng chữ bị hỏng; trang ảnh "
                           "giữ nguyên.", f"text-only PDF MediaBox {src}")
    sx, sy = dst.width / src.width, dst.height / src.height
    tx, ty = dst.x0 - src.x0 * sx, dst.y0 - src.y0 * sy
    form = pdf.copy_foreign(text_page.as_form_xobject())
    name = page.add_resource(form, pikepdf.Name.XObject, prefix=LAYER_PREFIX)
    # The page's own content is bracketed so a graphics state it leaves behind cannot
    # shift the text; /Rotate applies to both, so the text turns with the image.
    page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    page.contents_add(pdf.make_stream(
        f"\nQ\nq {sx:.6f} 0 0 {sy:.6f} {tx:.4f} {ty:.4f} cm {name} Do Q\n".encode("ascii")))


def _save_atomically(pdf: pikepdf.Pdf, target: Path, cancel: CancelToken | None) -> None:
    with replacing(target, suffix=".ocr.pdf.tmp", mode=target.stat().st_mode & 0o777) as tmp:
        # Image streams pass through as they are (no decode, no recompression).
        pdf.save(tmp, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate, recompress_flate=False)
        check_cancelled(cancel)
        # The source is closed by the caller's with-block only after this; on Windows
        # os.replace onto an open file fails, so release qpdf's handle first.
        pdf.close()
