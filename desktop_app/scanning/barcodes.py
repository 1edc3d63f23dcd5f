"""QR reading with zbar in binary mode, and QR images for tests and separator sheets.

zbar by default guesses the text encoding of QR data and "converts" it, which mangles
Vietnamese UTF-8 (the ID-card QR, our separator sheets). With ZBAR_CFG_BINARY it returns
the raw bytes and we decode them as UTF-8 ourselves. pyzbar's ``decode`` does not expose
that setting, so the scan is set up here with pyzbar's own ctypes bindings."""

from __future__ import annotations

import logging
from ctypes import c_void_p, cast
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from pyzbar import pyzbar
from pyzbar.wrapper import ZBarConfig, ZBarSymbol, zbar_image_scanner_set_config
from reportlab.graphics.barcode.qr import QrCodeWidget

from desktop_app.domain.errors import DomainError

log = logging.getLogger(__name__)

ZBAR_CFG_BINARY = 4  # zbar.h (0.23+): ENABLE, ADD_CHECK, EMIT_CHECK, ASCII, BINARY
MAX_PIXELS = 200_000_000  # above an A0 page at 300 dpi; anything bigger is refused
DETECT_MAX_SIDE = 2400  # barcodes are found on a downscaled copy


class BarcodeError(DomainError):
    pass


@dataclass(frozen=True)
class DecodedCode:
    data: bytes
    text: str | None  # None when the bytes are not UTF-8
    rect: tuple[int, int, int, int]


def _scan(gray: Image.Image) -> list[DecodedCode]:
    pixels, width, height = pyzbar._pixel_data(gray)
    out: list[DecodedCode] = []
    with pyzbar._image_scanner() as scanner:
        for symbol in set(ZBarSymbol).difference({ZBarSymbol.QRCODE}):
            zbar_image_scanner_set_config(scanner, symbol, ZBarConfig.CFG_ENABLE, 0)
        zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, ZBarConfig.CFG_ENABLE, 1)
        zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1)
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
                out.append(DecodedCode(d.data, text, tuple(d.rect)))  # type: ignore[arg-type]
    return out


def decode_qr(image: Image.Image) -> list[DecodedCode]:
    """All QR codes in the image. Large images are read on a downscaled grey copy first."""
    if image.width * image.height > MAX_PIXELS:
        raise BarcodeError(
            "Ảnh quá lớn để đọc mã QR.", f"{image.width}x{image.height} exceeds {MAX_PIXELS}"
        )
    gray = ImageOps.exif_transpose(image).convert("L")
    scale = max(gray.size) / DETECT_MAX_SIDE
    if scale > 1:
        small = gray.reduce(int(scale) + 1) if scale >= 2 else gray.resize(
            (round(gray.width / scale), round(gray.height / scale)))
        found = _scan(small)
        if found:
            return found
    found = _scan(gray)
    if not found:
        # Photos of cards are often low-contrast; a stretched copy helps zbar.
        found = _scan(ImageOps.autocontrast(gray, cutoff=2))
    return found


def decode_qr_file(path: Path) -> list[DecodedCode]:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as im:
            im.load()
            return decode_qr(im)
    except FileNotFoundError as exc:
        raise BarcodeError(f"Không tìm thấy tệp {path.name}.", f"{path}: {exc!r}") from exc
    except UnidentifiedImageError as exc:
        raise BarcodeError(f"Tệp {path.name} không phải ảnh hoặc định dạng không hỗ trợ.",
                           f"{path}: {exc!r}") from exc
    except Image.DecompressionBombError as exc:
        raise BarcodeError(f"Ảnh {path.name} quá lớn (nghi ngờ tệp độc hại).",
                           f"{path}: {exc!r}") from exc
    except OSError as exc:  # truncated or corrupt data
        raise BarcodeError(f"Tệp ảnh {path.name} bị hỏng hoặc không đầy đủ.",
                           f"{path}: {exc!r}") from exc


def make_qr_image(text: str, box_size: int = 6, border: int = 4) -> Image.Image:
    """A black-on-white QR of ``text`` (UTF-8, error correction M) as a Pillow image."""
    widget = QrCodeWidget(text, barLevel="M")
    widget.qr.make()
    modules = widget.qr.modules
    n = len(modules)
    side = (n + 2 * border) * box_size
    img = Image.new("L", (side, side), 255)
    px = img.load()
    assert px is not None
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                x0, y0 = (c + border) * box_size, (r + border) * box_size
                for y in range(y0, y0 + box_size):
                    for x in range(x0, x0 + box_size):
                        px[x, y] = 0
    return img
