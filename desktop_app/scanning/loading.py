"""Open untrusted input files (imports, hot folders, scanner drivers) safely.

Every file is checked before any pixel is decoded: byte size, format by its magic bytes
(never by its extension), page count, and each page's pixel count from the header. Only
then are pages decoded, one at a time, by the image pipeline. A refused file raises an
``InputRefused`` subclass whose Vietnamese message names the file.

Formats: JPEG, PNG, TIFF (multi-page, including CCITT G4 bilevel), BMP and PDF. A PDF page
that is a single image (what scanners write) is extracted as is (a JPEG keeps its bytes);
any other page is rendered with ``pdftoppm`` at the profile's resolution."""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import pikepdf
from PIL import Image, ImageOps, UnidentifiedImageError

from desktop_app.domain.errors import DomainError
from desktop_app.scanning.model import (
    MM_PER_INCH,
    PAGE_SIZES_MM,
    DigitizationRules,
    ScanProfile,
)

log = logging.getLogger(__name__)

SUPPORTED_VI = "JPEG, PNG, TIFF, BMP hoặc PDF"
MAX_PAGES = 500  # one input document; a real dossier component is far smaller
MIN_PLAUSIBLE_DPI = 50
# A declared dpi that makes the page larger than A0 (plus scanner overscan) is a software
# default (72/96 from cameras and screenshots), not a scanner's measurement.
_A0_LONG_MM, _A0_SHORT_MM = PAGE_SIZES_MM["A0"][1] * 1.15, PAGE_SIZES_MM["A0"][0] * 1.15
PDFTOPPM_TIMEOUT_S = 300

PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF", "bmp": "BMP"}
Kind = Literal["jpeg", "raster", "pdf-image", "pdf-render"]


class InputRefused(DomainError):
    """An input file cannot be digitized; the message names the file."""


class EmptyInputFile(InputRefused):
    pass


class InputFileTooLarge(InputRefused):
    pass


class UnsupportedInput(InputRefused):
    pass


class CorruptInput(InputRefused):
    pass


class TooManyPixels(InputRefused):
    pass


class TooManyPages(InputRefused):
    pass


class EncryptedPdf(InputRefused):
    pass


@dataclass(frozen=True)
class SourcePage:
    """One page of an input, checked but not decoded. Plain data, so it can be handed to a
    worker process. ``kind`` says how to decode it: ``jpeg`` (a JPEG file whose bytes can
    go into the PDF as they are), ``raster`` (frame ``frame`` of an image file),
    ``pdf-image``/``pdf-render`` (page ``frame`` of a PDF, see ``materialize``)."""

    path: Path
    label: str  # for the clerk: "ban-do.pdf" or "ban-do.pdf, trang 3"
    kind: Kind
    frame: int
    width: int
    height: int
    dpi_x: int
    dpi_y: int
    dpi_assumed: bool = False
    rotation: int = 0  # from a PDF page's /Rotate, kept as the output page's /Rotate
    notes: tuple[str, ...] = ()

    @property
    def dpi(self) -> int:
        return min(self.dpi_x, self.dpi_y)

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass
class SourceDocument:
    path: Path
    format: str  # "jpeg", "png", "tiff", "bmp", "pdf"
    pages: list[SourcePage] = field(default_factory=list)


def allow_pixels(rules: DigitizationRules) -> None:
    """Pillow refuses images above 2 × ``MAX_IMAGE_PIXELS`` and warns above it; the
    default (89 MP) warns on every A0 page at 300 dpi. Our own header check against
    ``rules.max_pixels`` runs first, so Pillow's limit is set to that deliberately (never
    ``None``: it stays a second line of defence for code paths that open files directly)."""
    current = Image.MAX_IMAGE_PIXELS
    if current is None or current < rules.max_pixels:
        Image.MAX_IMAGE_PIXELS = rules.max_pixels


SUFFIX_FORMATS = {
    ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".jfif": "jpeg",
    ".png": "png",
    ".tif": "tiff", ".tiff": "tiff",
    ".bmp": "bmp",
    ".pdf": "pdf",
}


def check_input(path: Path, rules: DigitizationRules) -> str:
    """The file's real format (``jpeg``, ``png``, ``tiff``, ``bmp``, ``pdf``), or an
    ``InputRefused`` naming the file."""
    name = path.name
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UnsupportedInput(f"“{name}” không phải là tệp.", f"{path}: not a file")
        with path.open("rb") as f:
            head = f.read(1024)
    except FileNotFoundError as exc:
        raise InputRefused(f"Không tìm thấy tệp {name}.", f"{path}: not found") from exc
    except OSError as exc:
        raise InputRefused(f"Không đọc được tệp {name}: {exc.strerror or exc}.",
                           f"{path}: {exc!r}") from exc
    if size == 0:
        raise EmptyInputFile(f"Tệp {name} rỗng (0 byte): có thể việc quét hoặc sao chép tệp "
                             "chưa xong. Hãy quét hoặc chép lại.", f"{path}: zero bytes")
    if size > rules.max_input_bytes:
        raise InputFileTooLarge(
            f"Tệp {name} quá lớn ({_mb(size)}); chỉ nhận tệp đến {_mb(rules.max_input_bytes)}.",
            f"{path}: {size} bytes > max_input_bytes {rules.max_input_bytes}")
    fmt = sniff_format(head)
    expected = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        if expected is not None:
            raise UnsupportedInput(
                f"Tệp {name} có đuôi “{path.suffix}” nhưng nội dung không phải "
                f"{expected.upper()} (tệp hỏng hoặc bị đổi tên).",
                f"{path}: extension says {expected}, magic bytes {head[:8]!r}")
        raise UnsupportedInput(
            f"Tệp {name} không phải ảnh quét hoặc PDF được hỗ trợ ({SUPPORTED_VI}).",
            f"{path}: unsupported, magic bytes {head[:8]!r}")
    if expected is not None and expected != fmt:
        # A photo renamed .jpg that is really PNG is still a good page; take what it is.
        log.info("%s: extension says %s but content is %s", path, expected, fmt)
    return fmt


def sniff_format(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"BM"):
        return "bmp"
    if b"%PDF-" in head[:1024]:  # the header may follow some junk bytes
        return "pdf"
    return None


def open_document(path: Path, profile: ScanProfile, rules: DigitizationRules) -> SourceDocument:
    """Check ``path`` and list its pages, decoding no pixel data."""
    path = Path(path)
    name = path.name
    fmt = check_input(path, rules)
    allow_pixels(rules)
    doc = SourceDocument(path, fmt)
    if fmt == "pdf":
        doc.pages = _pdf_pages(path, profile, rules)
    else:
        doc.pages = _raster_pages(path, fmt, profile, rules)
    if not doc.pages:
        raise CorruptInput(f"Tệp {name} không có trang nào.", f"{path}: no pages")
    return doc


# --- raster files ---------------------------------------------------------------------------


def _raster_pages(path: Path, fmt: str, profile: ScanProfile,
                  rules: DigitizationRules) -> list[SourcePage]:
    name = path.name
    pages: list[SourcePage] = []
    try:
        with Image.open(path, formats=[PIL_FORMATS[fmt]]) as im:
            frames = getattr(im, "n_frames", 1)
            if frames > MAX_PAGES:
                raise TooManyPages(f"Tệp {name} có {frames} trang, quá số trang cho phép "
                                   f"({MAX_PAGES}) của một tài liệu. Hãy tách tệp.",
                                   f"{path}: {frames} frames > {MAX_PAGES}")
            for i in range(frames):
                if i:
                    im.seek(i)  # reads the next directory (header) only
                label = name if frames == 1 else f"{name}, trang {i + 1}"
                w, h = im.size
                check_pixels(label, w, h, rules)
                dpi_x, dpi_y, assumed, notes = decide_dpi(label, w, h, _declared_dpi(im),
                                                          profile, rules)
                kind: Kind = "jpeg" if fmt == "jpeg" else "raster"
                pages.append(SourcePage(path, label, kind, i, w, h, dpi_x, dpi_y, assumed,
                                        notes=notes))
    except InputRefused:
        raise
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(f"Ảnh trong tệp {name} quá lớn để xử lý an toàn.",
                            f"{path}: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, EOFError, SyntaxError) as exc:
        raise _corrupt(path, exc) from exc
    return pages


def _declared_dpi(im: Image.Image) -> tuple[float, float] | None:
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    try:
        x, y = (float(v) for v in dpi)
    except (TypeError, ValueError):
        return None
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None


def check_pixels(label: str, width: int, height: int, rules: DigitizationRules) -> None:
    if width <= 0 or height <= 0:
        raise CorruptInput(f"{label}: kích thước ảnh không hợp lệ ({width}×{height}).",
                           f"{label}: invalid size {width}x{height}")
    if width * height > rules.max_pixels:
        mp, limit = width * height / 1e6, rules.max_pixels / 1e6
        raise TooManyPixels(
            f"{label}: ảnh {width}×{height} điểm ({mp:.0f} megapixel) vượt giới hạn an toàn "
            f"{limit:.0f} megapixel (lớn hơn bản đồ A0 quét 400 dpi). Hãy quét lại với độ "
            "phân giải thấp hơn.",
            f"{label}: {width}x{height} = {width * height} px > max_pixels {rules.max_pixels}")


def decide_dpi(label: str, width: int, height: int, declared: tuple[float, float] | None,
               profile: ScanProfile, rules: DigitizationRules,
               ) -> tuple[int, int, bool, tuple[str, ...]]:
    """The real dpi from the file when it is believable, else the profile's (recorded in a
    note so the clerk knows the page size is an assumption)."""
    reason = None
    if declared is None:
        reason = "tệp không ghi độ phân giải"
    else:
        dx, dy = (round(v) for v in declared)
        if min(dx, dy) <= 0:
            reason = "tệp ghi độ phân giải bằng 0"
        elif max(dx, dy) > rules.max_dpi:
            reason = f"độ phân giải ghi trong tệp ({max(dx, dy)} dpi) vượt mức {rules.max_dpi}"
        elif min(dx, dy) < MIN_PLAUSIBLE_DPI or _larger_than_a0(width, height, dx, dy):
            reason = (f"độ phân giải ghi trong tệp ({min(dx, dy)} dpi) là giá trị mặc định "
                      "của phần mềm, không phải của máy quét")
        else:
            notes: tuple[str, ...] = ()
            if min(dx, dy) < rules.min_dpi:
                notes = (f"Ảnh chỉ có {min(dx, dy)} dpi, thấp hơn mức tối thiểu "
                         f"{rules.min_dpi} dpi: nên quét lại.",)
            return dx, dy, False, notes
    log.info("%s: %s; assuming the profile's %d dpi", label, reason, profile.dpi)
    note = f"{label}: {reason}; coi là {profile.dpi} dpi theo hồ sơ quét “{profile.name}”."
    return profile.dpi, profile.dpi, True, (note,)


def _larger_than_a0(width: int, height: int, dpi_x: int, dpi_y: int) -> bool:
    w_mm, h_mm = width / dpi_x * MM_PER_INCH, height / dpi_y * MM_PER_INCH
    return max(w_mm, h_mm) > _A0_LONG_MM or min(w_mm, h_mm) > _A0_SHORT_MM


def _corrupt(path: Path, exc: BaseException) -> CorruptInput:
    return CorruptInput(f"Tệp {path.name} bị hỏng hoặc không đọc được (có thể chưa chép xong). "
                        "Hãy quét hoặc chép lại tệp.", f"{path}: {type(exc).__name__}: {exc}")


# --- PDF --------------------------------------------------------------------------------------


def _open_pdf(path: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise EncryptedPdf(f"Tệp {path.name} được đặt mật khẩu (mã hóa) nên không mở được. "
                           "Hãy xin bản không đặt mật khẩu.", f"{path}: {exc}") from exc
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise _corrupt(path, exc) from exc


def _pdf_pages(path: Path, profile: ScanProfile, rules: DigitizationRules) -> list[SourcePage]:
    with _open_pdf(path) as pdf:
        if pdf.is_encrypted:
            # Opened without a password: only an owner password restricting printing or
            # editing. Reading the pixels does not bypass anything the owner cared about.
            log.info("%s: encrypted with an owner password only", path)
        count = len(pdf.pages)
        if count > MAX_PAGES:
            raise TooManyPages(f"Tệp {path.name} có {count} trang, quá số trang cho phép "
                               f"({MAX_PAGES}) của một tài liệu. Hãy tách tệp.",
                               f"{path}: {count} pages > {MAX_PAGES}")
        pages = []
        for i, page in enumerate(pdf.pages):
            try:
                pages.append(_pdf_page(path, i, count, page, profile, rules))
            except InputRefused:
                raise
            except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise _corrupt(path, exc) from exc
        return pages


def _pdf_page(path: Path, index: int, count: int, page: pikepdf.Page, profile: ScanProfile,
              rules: DigitizationRules) -> SourcePage:
    label = path.name if count == 1 else f"{path.name}, trang {index + 1}"
    rotation = int(page.obj.get("/Rotate", 0)) % 360
    if rotation % 90:
        rotation = 0
    box = [float(v) for v in page.mediabox]
    unit = float(page.obj.get("/UserUnit", 1))
    page_w_in = abs(box[2] - box[0]) * unit / 72
    page_h_in = abs(box[3] - box[1]) * unit / 72
    placed = _single_image(page)
    if placed is not None:
        image, drawn_w_pt, drawn_h_pt = placed
        w, h = int(image.get("/Width", 0)), int(image.get("/Height", 0))
        check_pixels(label, w, h, rules)
        covers = drawn_w_pt * drawn_h_pt * unit * unit >= 0.9 * page_w_in * page_h_in * 72 * 72
        if covers and drawn_w_pt > 0 and drawn_h_pt > 0:
            declared = (w / (drawn_w_pt * unit / 72), h / (drawn_h_pt * unit / 72))
            dx, dy, assumed, notes = decide_dpi(label, w, h, declared, profile, rules)
            return SourcePage(path, label, "pdf-image", index, w, h, dx, dy, assumed,
                              rotation, notes)
    # Text, vector drawings or several images: render the page as the clerk would see it.
    dpi = profile.dpi
    w, h = round(page_w_in * dpi), round(page_h_in * dpi)
    check_pixels(label, w, h, rules)
    note = (f"{label}: trang PDF không phải ảnh quét; đã dựng lại thành ảnh {dpi} dpi.",)
    return SourcePage(path, label, "pdf-render", index, w, h, dpi, dpi, False, rotation, note)


_ALLOWED_OPS = {"q", "Q", "cm", "Do", "gs", "w", "J", "j", "M", "d", "ri", "i"}


def _single_image(page: pikepdf.Page) -> tuple[pikepdf.Stream, float, float] | None:
    """The page's only image and its drawn size in points, when the content stream does
    nothing but place one image (the shape of every scanner's and img2pdf's output)."""
    images = page.get_images(recursive=False)
    if len(images) != 1:
        return None
    (name, image), = images.items()
    if image.get("/ImageMask", False) or "/SMask" in image or "/Mask" in image:
        return None
    ctm = np.eye(3)
    stack: list[np.ndarray] = []
    drawn: tuple[float, float] | None = None
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op not in _ALLOWED_OPS:
            return None
        if op == "q":
            stack.append(ctm.copy())
        elif op == "Q" and stack:
            ctm = stack.pop()
        elif op == "cm":
            a, b, c, d, e, f = (float(Decimal(str(v))) for v in operands)
            ctm = np.array([[a, b, 0], [c, d, 0], [e, f, 1]]) @ ctm
        elif op == "Do":
            if drawn is not None or str(operands[0]) != name:
                return None
            # The unit square is mapped by the CTM: its images are the drawn sides.
            drawn = (float(np.hypot(ctm[0, 0], ctm[0, 1])), float(np.hypot(ctm[1, 0], ctm[1, 1])))
            if abs(ctm[0, 1]) > 1e-6 or abs(ctm[1, 0]) > 1e-6:
                return None  # drawn rotated or sheared: let poppler do it
    if drawn is None:
        return None
    return image, drawn[0], drawn[1]


# --- decoding ----------------------------------------------------------------------------------


def materialize(page: SourcePage, work_dir: Path) -> SourcePage:
    """Turn a PDF page into a file the pipeline can decode: a single-image page's JPEG is
    written with its bytes unchanged (kind ``jpeg``); other single images are decoded; any
    other page is rendered by poppler's ``pdftoppm``. Image files are returned as they are."""
    if page.kind in ("jpeg", "raster"):
        return page
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{_safe_stem(page.path)}-p{page.frame + 1:04d}"
    if page.kind == "pdf-image":
        extracted = _extract_pdf_image(page, work_dir / stem)
        if extracted is not None:
            return extracted
        log.info("%s: embedded image not decodable here, rendering with pdftoppm", page.label)
        page = replace(page, kind="pdf-render", dpi_x=page.dpi, dpi_y=page.dpi)
    return _render_pdf_page(page, work_dir / stem)


def _safe_stem(path: Path) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in path.stem)[:60] or "page"


def _extract_pdf_image(page: SourcePage, target: Path) -> SourcePage | None:
    with _open_pdf(page.path) as pdf:
        image = next(iter(pdf.pages[page.frame].get_images(recursive=False).values()))
        filters = image.get("/Filter")
        filters = [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])
        space = image.get("/ColorSpace")
        plain_space = space in (pikepdf.Name.DeviceRGB, pikepdf.Name.DeviceGray) or (
            isinstance(space, pikepdf.Array) and len(space) == 2 and space[0] == "/ICCBased"
            and int(space[1].get("/N", 0)) in (1, 3))
        if filters == ["/DCTDecode"] and plain_space and "/Decode" not in image:
            jpeg = target.with_suffix(".jpg")
            jpeg.write_bytes(image.read_raw_bytes())
            return replace(page, path=jpeg, kind="jpeg", frame=0)
        try:
            pil = pikepdf.PdfImage(image).as_pil_image()
        except Exception as exc:  # pikepdf raises many types for unusual images
            log.info("%s: %r", page.label, exc)
            return None
    png = target.with_suffix(".png")
    with pil:
        normalise_mode(pil).save(png, "PNG", compress_level=1)
    return replace(page, path=png, kind="raster", frame=0)


def _render_pdf_page(page: SourcePage, prefix: Path) -> SourcePage:
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise UnsupportedInput(
            f"{page.label}: trang PDF không phải ảnh quét và máy này chưa cài poppler-utils "
            "(pdftoppm) để chuyển thành ảnh.", "pdftoppm not found on PATH")
    cmd = [exe, "-r", str(page.dpi), "-f", str(page.frame + 1), "-l", str(page.frame + 1),
           "-singlefile", str(page.path), str(prefix)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=PDFTOPPM_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise CorruptInput(f"{page.label}: dựng trang PDF quá lâu, đã dừng.",
                           f"{cmd}: timeout") from exc
    except subprocess.CalledProcessError as exc:
        raise CorruptInput(f"{page.label}: không dựng được trang PDF (tệp có thể bị hỏng).",
                           f"{cmd}: {exc.stderr.decode(errors='replace')[-500:]}") from exc
    out = prefix.with_suffix(".ppm")
    if not out.exists():
        out = prefix.with_suffix(".pgm")
    with Image.open(out, formats=["PPM"]) as im:
        width, height = im.size  # poppler rounds the page size its own way
    return replace(page, path=out, kind="raster", frame=0, width=width, height=height)


def load_image(page: SourcePage) -> Image.Image:
    """Decode the page at full resolution as ``RGB`` or ``L`` (bilevel input becomes ``L``
    with values 0/255, so every later step works on one of two modes)."""
    if page.kind not in ("jpeg", "raster"):
        raise ValueError("materialize() the PDF page first")
    try:
        with Image.open(page.path) as im:
            if page.frame:
                im.seek(page.frame)
            _check_same_size(page, im)
            im.load()
            if page.kind == "jpeg" and exif_orientation(im) != 1:
                return normalise_mode(ImageOps.exif_transpose(im))
            return normalise_mode(im)
    except InputRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, EOFError, SyntaxError,
            Image.DecompressionBombError) as exc:
        raise _corrupt_label(page, exc) from exc


def load_small(page: SourcePage, factor: int) -> Image.Image:
    """A JPEG page decoded at about 1/``factor`` scale through libjpeg's DCT scaling
    (``draft``), which never holds the full-resolution pixels: A0 analysis stays cheap.
    Decoding still reads every byte, so a truncated file is detected here."""
    try:
        with Image.open(page.path, formats=["JPEG"]) as im:
            _check_same_size(page, im)
            scale = 1
            while scale * 2 <= min(factor, 8):
                scale *= 2
            target = (max(1, im.width // scale), max(1, im.height // scale))
            im.draft("RGB" if im.mode in ("RGB", "YCbCr", "CMYK") else "L", target)
            im.load()
            small = normalise_mode(im)
    except (UnidentifiedImageError, OSError, ValueError, EOFError, SyntaxError,
            Image.DecompressionBombError) as exc:
        raise _corrupt_label(page, exc) from exc
    rest = max(1, round(factor / (page.width / small.width)))
    return small.reduce(rest) if rest > 1 else small


def exif_orientation(im: Image.Image) -> int:
    """EXIF orientation of a camera photo (1 = upright); scanners do not write it."""
    try:
        return int(im.getexif().get(0x0112, 1))
    except (ValueError, TypeError, SyntaxError, OSError):
        return 1


def _check_same_size(page: SourcePage, im: Image.Image) -> None:
    if im.size != (page.width, page.height):
        raise CorruptInput(f"{page.label}: tệp đã bị thay đổi trong lúc xử lý.",
                           f"{page.path}: size {im.size} != {(page.width, page.height)}")


def _corrupt_label(page: SourcePage, exc: BaseException) -> CorruptInput:
    return CorruptInput(f"{page.label}: ảnh bị hỏng hoặc bị cắt cụt (có thể tệp chưa chép "
                        "xong). Hãy quét hoặc chép lại.",
                        f"{page.path} frame {page.frame}: {type(exc).__name__}: {exc}")


def normalise_mode(im: Image.Image) -> Image.Image:
    """RGB for colour, L for everything else; transparency is flattened onto white paper."""
    if im.mode in ("RGB", "L"):
        return im
    if im.mode == "1":
        return im.convert("L")
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        top = 65535.0 if im.mode.startswith("I;16") or arr.max() > 255 else 255.0
        return Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if im.mode in ("LA", "RGBA", "PA", "La", "RGBa") or (im.mode == "P"
                                                          and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(white, rgba).convert("RGB")
        return flat if im.mode not in ("LA", "La") else flat.convert("L")
    return im.convert("RGB")


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 10 * 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def describe(page: SourcePage) -> str:
    return (f"{page.label}: {page.width}×{page.height} điểm, {page.dpi} dpi"
            + (" (giả định)" if page.dpi_assumed else ""))
