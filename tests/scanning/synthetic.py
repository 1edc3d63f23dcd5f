"""Scanner-like test pages: off-white paper with sensor noise, a slight skew, the grey or
dark border of the scanner lid, dust, text in Liberation fonts (Vietnamese), coloured
seals and greyscale photos. Deterministic for a given seed."""

from __future__ import annotations

import io
from pathlib import Path

import img2pdf
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from desktop_app.scanning.model import page_pixels

FONTS = Path(__file__).resolve().parents[2] / "resources" / "fonts"
PAPER = 242
INK = 25
LINES = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "GIẤY XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ",
    "Họ và tên: Nguyễn Thị Hồng Nhung    Ngày sinh: 12/03/1987",
    "Số định danh cá nhân: 019187004321   Nơi thường trú: Thôn Nà Lẹng",
    "Xã Nà Phặc, tỉnh Thái Nguyên. Thửa đất số 128, tờ bản đồ số 36,",
    "diện tích 245,6 m², mục đích sử dụng: đất ở tại nông thôn (ONT).",
]


def font(px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"
    return ImageFont.truetype(str(FONTS / name), px)


def _pt(points: float, dpi: int) -> int:
    return max(6, round(points / 72 * dpi))


def blank_paper(size: str = "A4", dpi: int = 200, mode: str = "L") -> Image.Image:
    w, h = page_pixels(size, dpi)
    return Image.new(mode, (w, h), PAPER if mode == "L" else (PAPER, PAPER - 2, PAPER - 6))


def draw_text_block(im: Image.Image, dpi: int, lines: int = 28, top_mm: float = 25) -> None:
    d = ImageDraw.Draw(im)
    fill = INK if im.mode == "L" else (INK, INK, INK + 5)
    f = font(_pt(11, dpi))
    margin = round(20 / 25.4 * dpi)
    y = round(top_mm / 25.4 * dpi)
    step = round(_pt(11, dpi) * 1.6)
    for i in range(lines):
        if y > im.height - margin - step:
            break
        d.text((margin, y), LINES[i % len(LINES)], font=f, fill=fill)
        y += step
    # A table rule and a thin line: both must survive bilevel thresholding.
    d.line((margin, y + step, im.width - margin, y + step), fill=fill, width=max(1, dpi // 100))


def text_page(size: str = "A4", dpi: int = 200, *, skew: float = 0.0, border_px: int = 0,
              border_level: int = 70, noise: float = 5.0, seed: int = 0,
              lines: int = 28) -> Image.Image:
    """A typed document as an ADF delivers it: text, ``skew`` degrees off, the lid's
    ``border_level`` grey showing around the paper, sensor noise."""
    im = blank_paper(size, dpi)
    draw_text_block(im, dpi, lines)
    return scanner_effects(im, skew=skew, border_px=border_px, border_level=border_level,
                           noise=noise, seed=seed)


def scanner_effects(im: Image.Image, *, skew: float = 0.0, border_px: int = 0,
                    border_level: int = 70, noise: float = 5.0, seed: int = 0,
                    dust: int = 0) -> Image.Image:
    fill: int | tuple[int, ...] = border_level if im.mode == "L" else (border_level,) * 3
    if skew:
        im = im.rotate(skew, Image.Resampling.BICUBIC, fillcolor=fill)
    if border_px:
        framed = Image.new(im.mode, (im.width + 2 * border_px, im.height + 2 * border_px), fill)
        framed.paste(im, (border_px, border_px))
        im = framed.crop((0, 0, im.width + border_px, im.height + 2 * border_px))
    rng = np.random.default_rng(seed)
    arr = np.asarray(im, dtype=np.int16)
    if dust:
        arr = arr.copy()
        for _ in range(dust):
            y, x = rng.integers(50, arr.shape[0] - 50), rng.integers(50, arr.shape[1] - 50)
            r = int(rng.integers(1, 3))
            arr[y - r:y + r, x - r:x + r] = 60
    if noise:
        arr = arr + rng.normal(0, noise, arr.shape).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), im.mode)


def blank_page(size: str = "A4", dpi: int = 200, *, noise: float = 6.0, dust: int = 6,
               seed: int = 1, mode: str = "L") -> Image.Image:
    return scanner_effects(blank_paper(size, dpi, mode), noise=noise, dust=dust, seed=seed)


def one_line_page(size: str = "A4", dpi: int = 200, *, seed: int = 2) -> Image.Image:
    """A back side with nothing but "Trang 2/2" in 10 pt: not blank."""
    im = blank_paper(size, dpi)
    ImageDraw.Draw(im).text((im.width // 2 - dpi // 2, im.height - round(dpi * 1.2)),
                            "Trang 2/2", font=font(_pt(10, dpi)), fill=INK)
    return scanner_effects(im, noise=6.0, dust=3, seed=seed)


def stamp_page(size: str = "A4", dpi: int = 200, *, seed: int = 3) -> Image.Image:
    """Black text with a red round seal (con dấu) and a blue signature."""
    im = blank_paper(size, dpi, "RGB")
    draw_text_block(im, dpi, lines=16)
    d = ImageDraw.Draw(im)
    r = round(18 / 25.4 * dpi)
    cx, cy = im.width - round(60 / 25.4 * dpi), im.height - round(70 / 25.4 * dpi)
    red = (200, 30, 40)
    for k in range(3):
        d.ellipse((cx - r + k * 3, cy - r + k * 3, cx + r - k * 3, cy + r - k * 3),
                  outline=red, width=max(2, dpi // 60))
    d.text((cx - r // 2, cy - dpi // 20), "UBND XÃ", font=font(_pt(9, dpi), True), fill=red)
    d.line([(cx - 2 * r, cy + r), (cx - r, cy + r - dpi // 8), (cx, cy + r + dpi // 10)],
           fill=(20, 40, 170), width=max(2, dpi // 80))
    return scanner_effects(im, noise=4.0, seed=seed)


def photo_page(size: str = "A4", dpi: int = 200, *, seed: int = 4) -> Image.Image:
    """A greyscale page: a caption and a 10×8 cm continuous-tone photograph."""
    im = blank_paper(size, dpi)
    draw_text_block(im, dpi, lines=4)
    w, h = round(100 / 25.4 * dpi), round(80 / 25.4 * dpi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    photo = 120 + 70 * np.sin(xx / (w / 5)) * np.cos(yy / (h / 3)) - 40 * (yy / h)
    im.paste(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8), "L"),
             (round(30 / 25.4 * dpi), round(70 / 25.4 * dpi)))
    return scanner_effects(im, noise=5.0, seed=seed)


def map_tile(side: int = 1024, seed: int = 5) -> Image.Image:
    """A colourful land-map pattern (parcels, roads, a river, labels) with noise."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (side, side), (236, 232, 214))
    d = ImageDraw.Draw(im)
    colours = [(250, 220, 160), (200, 235, 190), (255, 190, 190), (190, 210, 250)]
    for _ in range(24):
        x, y = rng.integers(0, side - 200, 2)
        w, h = rng.integers(60, 220, 2)
        d.rectangle((int(x), int(y), int(x + w), int(y + h)),
                    fill=colours[int(rng.integers(0, 4))], outline=(90, 60, 40), width=2)
    d.line([(0, side // 3), (side, side // 2)], fill=(60, 120, 220), width=14)
    for k in range(10):
        d.text((40 + 90 * k, 40 + 70 * k), f"{100 + k}", font=font(26), fill=(30, 30, 30))
    arr = np.asarray(im, dtype=np.int16) + rng.normal(0, 5, (side, side, 3)).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def a0_colour_page(dpi: int = 300, border_px: int = 0) -> Image.Image:
    """An A0 colour map at ``dpi`` (9933×14043 at 300 dpi), tiled from one small tile so
    generating it costs little more than the memory itself; ``border_px`` of dark scanner
    background around it."""
    w, h = page_pixels("A0", dpi)
    tile = map_tile()
    im = Image.new("RGB", (w + 2 * border_px, h + 2 * border_px), (35, 35, 35))
    for y in range(0, h, tile.height):
        for x in range(0, w, tile.width):
            piece = tile.crop((0, 0, min(tile.width, w - x), min(tile.height, h - y)))
            im.paste(piece, (border_px + x, border_px + y))
    return im


# --- files -----------------------------------------------------------------------------------


def save_jpeg(im: Image.Image, path: Path, dpi: int | None = 200, quality: int = 85) -> Path:
    kwargs: dict[str, object] = {"quality": quality}
    if dpi is not None:
        kwargs["dpi"] = (dpi, dpi)
    im.save(path, "JPEG", **kwargs)
    return path


def save_png(im: Image.Image, path: Path, dpi: int | None = 200) -> Path:
    im.save(path, "PNG", **({"dpi": (dpi, dpi)} if dpi else {}))
    return path


def save_multipage_tiff(pages: list[Image.Image], path: Path, dpi: int = 200,
                        compression: str = "tiff_lzw") -> Path:
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi),
                  compression=compression)
    return path


def bilevel(im: Image.Image) -> Image.Image:
    return im.convert("L").point(lambda v: 255 if v > 140 else 0).convert("1")


def scanner_pdf(pages: list[Image.Image], path: Path, dpi: int = 200, quality: int = 85) -> Path:
    """A PDF as scanners write it: one JPEG per page, drawn over the whole page."""
    blobs = []
    for im in pages:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
        blobs.append(buf.getvalue())
    path.write_bytes(img2pdf.convert(blobs))
    return path


def text_pdf(path: Path, text: str = "Tờ khai đăng ký thường trú") -> Path:
    """A born-digital PDF (vector text): must be rendered, not extracted."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("LiberationSans", str(FONTS / "LiberationSans-Regular.ttf")))
    c = canvas.Canvas(str(path), pagesize=A4, initialFontName="LiberationSans")
    c.setFont("LiberationSans", 14)
    c.drawString(72, 760, text)
    c.line(72, 740, 520, 740)
    c.showPage()
    c.save()
    return path
