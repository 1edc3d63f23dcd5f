"""QR reading with zbar in binary mode, and QR images for tests and separator sheets.

zbar by default guesses the text encoding of QR data and "converts" it, which mangles
Vietnamese UTF-8 (the ID-card QR, our separator sheets): without an ECI header it may
take the bytes for Shift-JIS. With ZBAR_CFG_BINARY it returns the raw bytes and we decode
them as UTF-8 ourselves. pyzbar 0.1.9's ``decode`` does not expose that setting, so the
scan is set up here with pyzbar's own ctypes bindings (``pyzbar.wrapper``)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from ctypes import c_void_p, cast
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError
from pyzbar import pyzbar
from pyzbar.wrapper import ZBarConfig, ZBarSymbol, zbar_image_scanner_set_config
from reportlab.graphics.barcode import qrencoder

from desktop_app.domain.errors import DomainError

log = logging.getLogger(__name__)

ZBAR_CFG_BINARY = 4  # zbar.h (0.23+): ENABLE, ADD_CHECK, EMIT_CHECK, ASCII, BINARY
# Above an A0 page at 300 dpi (139 MP). Pillow's own decompression-bomb limit (about
# 179 MP by default) also applies when reading files; both give the same message.
MAX_PIXELS = 200_000_000
DETECT_MAX_SIDE = 2400  # barcodes are first looked for on a copy downscaled to this
MAX_FRAMES = 50  # multi-page TIFF/GIF: pages read at most

Rect = tuple[int, int, int, int]  # left, top, width, height in the caller's pixels


class BarcodeError(DomainError):
    """An image could not be read for barcodes (message for the clerk)."""


@dataclass(frozen=True)
class DecodedCode:
    data: bytes
    text: str | None  # None when the bytes are not UTF-8
    rect: Rect


_binary_warned = False


def _scan(gray: Image.Image, scale: float = 1.0) -> list[DecodedCode]:
    """One zbar pass over an 8-bit grey image; rects are multiplied by ``scale``."""
    global _binary_warned
    pixels, width, height = pyzbar._pixel_data(gray)
    out: list[DecodedCode] = []
    with pyzbar._image_scanner() as scanner:
        # Symbology 0 (ZBAR_NONE) addresses all symbologies at once.
        zbar_image_scanner_set_config(scanner, ZBarSymbol.NONE, ZBarConfig.CFG_ENABLE, 0)
        zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, ZBarConfig.CFG_ENABLE, 1)
        if zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1) \
                and not _binary_warned:
            _binary_warned = True
            log.warning("libzbar does not support ZBAR_CFG_BINARY (zbar < 0.23?): "
                        "non-ASCII QR text may be mangled")
        with pyzbar._image() as img:
            pyzbar.zbar_image_set_format(img, pyzbar._FOURCC["L800"])
            pyzbar.zbar_image_set_size(img, width, height)
            pyzbar.zbar_image_set_data(img, cast(pixels, c_void_p), len(pixels), None)
            if pyzbar.zbar_scan_image(scanner, img) < 0:
                raise BarcodeError("Không đọc được ảnh để tìm mã QR.", "zbar_scan_image < 0")
            for d in pyzbar._decode_symbols(pyzbar._symbols_for_image(img)):
                try:
                    text: str | None = d.data.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                left, top, w, h = d.rect
                rect = (round(left * scale), round(top * scale), round(w * scale),
                        round(h * scale))
                out.append(DecodedCode(d.data, text, rect))
    return out


def _gray(image: Image.Image) -> Image.Image:
    """8-bit grey, transparent areas white (QR PNGs are often exported transparent)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return ImageOps.autocontrast(image.convert("F").convert("L"))
    return image.convert("L")


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise BarcodeError(
            f"Ảnh quá lớn để đọc mã QR ({width}×{height} điểm ảnh, tối đa "
            f"{MAX_PIXELS // 1_000_000} triệu).",
            f"{width}x{height} exceeds {MAX_PIXELS} pixels",
        )


def decode_qr(image: Image.Image) -> list[DecodedCode]:
    """All QR codes in the image, rects in the image's own pixels (after EXIF rotation).

    Large images are searched on a downscaled copy first; a faint photo gets a
    contrast-stretched pass and a negative (white-on-black) code an inverted one."""
    _check_size(image.width, image.height)
    gray = _gray(image)
    scale = max(gray.size) / DETECT_MAX_SIDE
    if scale > 1:
        factor = int(scale)
        small = gray.reduce(factor) if factor >= 2 else gray.resize(
            (max(1, round(gray.width / scale)), max(1, round(gray.height / scale))),
            Image.Resampling.BOX)
        found = _scan(small, gray.width / small.width)
        if found:
            return found
    for attempt in (
        lambda: gray,
        lambda: ImageOps.autocontrast(gray, cutoff=2),
        lambda: ImageOps.invert(gray),
    ):
        found = _scan(attempt())
        if found:
            return found
    return []


def _frames(im: Image.Image) -> Iterator[Image.Image]:
    if getattr(im, "n_frames", 1) <= 1:
        yield im
        return
    for index, frame in enumerate(ImageSequence.Iterator(im)):
        if index >= MAX_FRAMES:
            log.warning("only the first %d pages are read for QR codes", MAX_FRAMES)
            return
        yield frame


def _read(path: Path) -> list[DecodedCode]:
    with warnings.catch_warnings():
        # Our own MAX_PIXELS check applies; Pillow's warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as im:
            _check_size(im.width, im.height)
            if im.format == "JPEG" and max(im.size) > 2 * DETECT_MAX_SIDE:
                # Let libjpeg decode at 1/2–1/8 scale: fast, and enough to find a QR.
                full = im.size
                im.draft("L", (full[0] * DETECT_MAX_SIDE // max(full),
                               full[1] * DETECT_MAX_SIDE // max(full)))
                im.load()
                if im.size != full:
                    ratio = full[0] / im.width
                    found = [
                        DecodedCode(c.data, c.text, tuple(  # type: ignore[arg-type]
                            round(v * ratio) for v in c.rect))
                        for c in decode_qr(im)
                    ]
                    if found:
                        return found
                    return _read_full(path)
            found = []
            for frame in _frames(im):
                frame.load()
                found += decode_qr(frame)
            return found


def _read_full(path: Path) -> list[DecodedCode]:
    with Image.open(path) as im:
        im.load()
        return decode_qr(im)


def decode_qr_file(path: str | Path) -> list[DecodedCode]:
    """All QR codes in an image file (every page of a multi-page TIFF).

    Raises BarcodeError with a Vietnamese message for a missing, unreadable, corrupt,
    truncated, unsupported or oversized file."""
    path = Path(path)
    name = path.name or str(path)
    try:
        return _read(path)
    except BarcodeError:
        raise
    except FileNotFoundError as exc:
        raise BarcodeError(f"Không tìm thấy tệp {name}.", f"{path}: {exc!r}") from exc
    except IsADirectoryError as exc:
        raise BarcodeError(f"{name} là một thư mục, không phải tệp ảnh.",
                           f"{path}: {exc!r}") from exc
    except PermissionError as exc:
        raise BarcodeError(f"Không có quyền đọc tệp {name}.", f"{path}: {exc!r}") from exc
    except UnidentifiedImageError as exc:
        raise BarcodeError(
            f"Tệp {name} không phải ảnh hoặc định dạng không hỗ trợ (hãy dùng PNG, JPEG "
            "hoặc TIFF).", f"{path}: {exc!r}") from exc
    except Image.DecompressionBombError as exc:
        raise BarcodeError(f"Ảnh {name} quá lớn để đọc mã QR (nghi ngờ tệp độc hại).",
                           f"{path}: {exc!r}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated or corrupt
        raise BarcodeError(f"Tệp ảnh {name} bị hỏng hoặc không đầy đủ.",
                           f"{path}: {exc!r}") from exc


def make_qr_image(payload: str | bytes, box_size: int = 6, border: int = 4,
                  level: str = "M") -> Image.Image:
    """A black-on-white QR as an 8-bit grey Pillow image: ``box_size`` pixels per
    module, ``border`` modules of quiet zone, error correction ``level`` (L/M/Q/H).

    Text is stored as UTF-8 in byte mode (no ECI header, like the ID card); bytes are
    stored as they are (for testing undecodable payloads)."""
    if box_size < 1 or border < 0:
        raise ValueError("box_size must be ≥ 1 and border ≥ 0")
    qr = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    qr.addData(qrencoder.QR8bitByte(data))
    try:
        qr.make()
    except Exception as exc:  # reportlab raises a bare Exception on overflow
        raise BarcodeError("Nội dung quá dài để tạo mã QR.",
                           f"QR overflow for {len(data)} bytes: {exc}") from exc
    modules = qr.modules
    n = len(modules)
    side = n + 2 * border
    small = Image.new("L", (side, side), 255)
    small.putdata([
        0 if 0 <= r - border < n and 0 <= c - border < n and modules[r - border][c - border]
        else 255
        for r in range(side) for c in range(side)
    ])
    return small.resize((side * box_size, side * box_size), Image.Resampling.NEAREST)


# --- quick reading of batch pages (separator sheets) ---------------------------------------

# An A4 page at ~100 dpi: a separator's QR module is still ~5 px. Smaller is not only
# faster (zbar's time grows with the pixel count): the box averaging of the reduction also
# cleans noise and JPEG blocking, and on blurred, noisy 300 dpi scans zbar read more
# separators at this size than at 145 dpi (bench/bench_separators.py).
QUICK_MAX_SIDE = 1200


def downscaled_gray(image: Image.Image, max_side: int = QUICK_MAX_SIDE
                    ) -> tuple[Image.Image, float]:
    """An 8-bit grey copy whose longest side is about ``max_side`` (never upscaled), and
    the factor that maps its pixels back to the image's own.

    Integer ``reduce`` (box average) does most of the work: it is several times faster
    than a resampling filter on a 300 dpi page and its averaging smooths scanner noise.
    Only the remainder above ~1.3 × ``max_side`` is resampled."""
    _check_size(image.width, image.height)
    gray = _gray(image)
    longest = max(gray.size)
    factor = longest // max_side
    if factor >= 2:
        gray = gray.reduce(factor)
    if max(gray.size) > max_side * 1.3:
        ratio = max_side / max(gray.size)
        gray = gray.resize((max(1, round(gray.width * ratio)), max(1, round(gray.height * ratio))),
                           Image.Resampling.BOX)
    return gray, image.width / gray.width


def scan_qr_once(gray: Image.Image, scale: float = 1.0) -> list[DecodedCode]:
    """One zbar pass (binary mode) over an 8-bit grey image, with no retries: the cheap
    first look when every page of a long batch has to be checked."""
    if gray.mode != "L":
        gray = _gray(gray)
    return _scan(gray, scale)


def scan_qr_zxing(gray: Image.Image, scale: float = 1.0) -> list[DecodedCode]:
    """QR codes found by zxing-cpp, the second decoder: its local-average binariser reads
    faint, blurred or unevenly lit symbols that zbar's global threshold loses. Bytes are
    taken raw (zxing's text transcoding is not used) and decoded as UTF-8 here, as for zbar."""
    import zxingcpp  # imported on first use: the wheel loads a sizeable native library

    if gray.mode != "L":
        gray = _gray(gray)
    out: list[DecodedCode] = []
    for found in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode,
                                        try_rotate=False, try_downscale=True, try_invert=False):
        if not found.valid:
            continue
        data = bytes(found.bytes)
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        pos = found.position
        xs = [p.x for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)]
        ys = [p.y for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)]
        rect = (round(min(xs) * scale), round(min(ys) * scale),
                round((max(xs) - min(xs)) * scale), round((max(ys) - min(ys)) * scale))
        out.append(DecodedCode(data, text, rect))
    return out
