"""Per-page image operations: analysis, deskew, border crop, blank detection, colour mode
choice, bilevel thresholding, encoding and previews.

Every decision is taken on a small analysis copy (about 100 dpi, long side at most
``ANALYSIS_MAX_SIDE``), so an A0 page costs a few megapixels of analysis; only the final
geometry (one rotation, one crop), the colour conversion and the encoder touch the full
resolution. Pages are encoded as JPEG (colour, grey) or CCITT Group 4 TIFF (bilevel):
both go into the PDF without re-encoding. JBIG2 is never used (its lossy symbol matching
can swap digits on land maps)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from desktop_app.scanning.model import MM_PER_INCH, ColourMode

ANALYSIS_DPI = 100
ANALYSIS_MAX_SIDE = 2400
SKEW_MAX_SIDE = 1200
PREVIEW_MAX_SIDE = 1200
MIN_DESKEW_DEGREES = 0.3  # below this a rotation only blurs the page
MAX_SKEW_DEGREES = 5.0  # paper fed more crooked than this is re-scanned, not "fixed"
BLANK_MAX_INK_MM2 = 5.0  # dust and scanner specks stay below; a short text line does not
COLOUR_MIN_MM2 = 10.0  # a red seal or a blue-ink signature is far more than this
PHOTO_MIN_MM2 = 400.0  # about a 2×2 cm continuous-tone area (a portrait photo is 3×4 cm)
BILEVEL_RATIO = 0.78  # ink is darker than 78 % of the local paper brightness
WHITE = 255


@dataclass(frozen=True)
class PageAnalysis:
    """What the analysis copy says about the page. ``content_box`` is in analysis-copy
    pixels, after the deskew rotation."""

    skew_degrees: float
    content_box: tuple[int, int, int, int] | None
    blank: bool
    mode: ColourMode
    ink_mm2: float
    colour_mm2: float
    photo_mm2: float
    background: int
    notes: list[str] = field(default_factory=list)


def analysis_factor(width: int, height: int, dpi: int) -> int:
    """Integer downscale to about ``ANALYSIS_DPI``, capped so the long side stays small."""
    factor = max(1, round(dpi / ANALYSIS_DPI))
    return max(factor, math.ceil(max(width, height) / ANALYSIS_MAX_SIDE))


def reduce_to(im: Image.Image, factor: int) -> Image.Image:
    """Box-average downscale: thin strokes become grey, not lost (unlike nearest)."""
    return im.reduce(factor) if factor > 1 else im.copy()


def to_grey_array(im: Image.Image) -> np.ndarray:
    grey = im if im.mode == "L" else im.convert("L")
    return np.asarray(grey, dtype=np.uint8)


def background_level(grey: np.ndarray) -> int:
    """Paper brightness: the 90th percentile, robust to ink and to a few bright specks."""
    hist = np.bincount(grey.ravel(), minlength=256)
    cdf = np.cumsum(hist)
    return int(np.searchsorted(cdf, 0.9 * cdf[-1]))


def _interior(arr: np.ndarray, margin: float) -> np.ndarray:
    h, w = arr.shape[:2]
    dy, dx = int(h * margin), int(w * margin)
    return arr[dy:h - dy or None, dx:w - dx or None]


def _denoise(mask: np.ndarray) -> np.ndarray:
    """Keep pixels with at least two marked 8-neighbours: strokes survive, isolated noise
    pixels do not."""
    p = np.pad(mask, 1).astype(np.uint8)
    h, w = mask.shape
    neighbours = sum(p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
    return mask & (neighbours >= 2)


# --- deskew ----------------------------------------------------------------------------------


def estimate_skew(grey: np.ndarray, max_degrees: float = MAX_SKEW_DEGREES) -> float:
    """Angle (degrees) to pass to ``Image.rotate`` to straighten the page, found by the
    projection-profile method: project dark pixels along candidate slopes and keep the
    slope whose row histogram is sharpest (text lines and table rules line up). Returns 0
    when the page has too little structure to tell."""
    if max(grey.shape) > SKEW_MAX_SIDE:
        step = math.ceil(max(grey.shape) / SKEW_MAX_SIDE)
        grey = grey[::step, ::step]
    region = _interior(grey, 0.08)  # scanner borders and paper edges would dominate
    if region.size == 0:
        return 0.0
    bg = background_level(region)
    ys, xs = np.nonzero(region < bg * 0.6)
    if ys.size < 200:
        return 0.0
    if ys.size > 150_000:  # plenty for a histogram; keeps the cost flat on dense pages
        pick = np.linspace(0, ys.size - 1, 150_000).astype(np.int64)
        ys, xs = ys[pick], xs[pick]
    ys, xs = ys.astype(np.float64), xs.astype(np.float64) - region.shape[1] / 2

    def sharpness(deg: float) -> float:
        offsets = np.round(ys - xs * math.tan(math.radians(deg))).astype(np.int64)
        counts = np.bincount(offsets - offsets.min())
        return float(np.dot(counts, counts))

    coarse = np.arange(-max_degrees, max_degrees + 1e-9, 0.25)
    scores = [sharpness(a) for a in coarse]
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.25, best + 0.25 + 1e-9, 0.025)
    fine_scores = [sharpness(a) for a in fine]
    best = float(fine[int(np.argmax(fine_scores))])
    # A photo or a blank page has no dominant direction: its best score barely beats the
    # typical one, and any rotation would only blur it.
    if max(fine_scores) < 1.15 * float(np.median(scores)) or abs(best) >= max_degrees:
        return 0.0
    # Image rows grow downwards: text rising to the right has a negative slope here and
    # needs a clockwise turn, which is a negative angle for PIL's counter-clockwise rotate.
    return best if abs(best) >= MIN_DESKEW_DEGREES else 0.0


# --- borders -------------------------------------------------------------------------------


def find_content_box(grey: np.ndarray, max_fraction: float = 0.25,
                     ) -> tuple[int, int, int, int] | None:
    """The paper inside a dark scanner border (lid, ADF background, rotation fill), as
    ``(left, top, right, bottom)``; ``None`` when there is no border to remove. A row or
    column is border when most of it is much darker than the paper."""
    h, w = grey.shape
    bg = background_level(_interior(grey, 0.1))
    dark = grey < max(bg * 0.6, bg - 90)
    row_dark = dark.mean(axis=1) > 0.5
    col_dark = dark.mean(axis=0) > 0.5

    def run(flags: np.ndarray, limit: int) -> int:
        n = 0
        while n < limit and flags[n]:
            n += 1
        return n

    top = run(row_dark, int(h * max_fraction))
    bottom = run(row_dark[::-1], int(h * max_fraction))
    left = run(col_dark, int(w * max_fraction))
    right = run(col_dark[::-1], int(w * max_fraction))
    if max(top, bottom, left, right) == 0:
        return None
    # One more pixel inwards: the shaded paper edge would print as a grey line.
    pad = 1
    box = (left + pad if left else 0, top + pad if top else 0,
           w - right - pad if right else w, h - bottom - pad if bottom else h)
    if box[2] - box[0] < w // 2 or box[3] - box[1] < h // 2:
        return None  # a dark document, not a border: leave it whole
    return box


# --- content measures ------------------------------------------------------------------------


def ink_area_mm2(grey: np.ndarray, dpi: float, bg: int) -> float:
    """Area of real marks (text, lines, stamps) on the page interior in mm², ignoring
    scanner noise and single-pixel specks."""
    region = _interior(grey, 0.04)  # edge shadows, punch holes and staples
    dark = _denoise(region < bg - max(45, 0.25 * bg))
    return float(dark.sum()) * (MM_PER_INCH / dpi) ** 2


def colour_area_mm2(rgb: np.ndarray, dpi: float) -> float:
    """Area of clearly coloured marks in mm² (a red seal, blue ink, a map's colours).
    Cream paper, scanner noise and colour fringes at black text stay below the chroma
    threshold at analysis resolution."""
    region = _interior(rgb, 0.03).astype(np.int16)
    chroma = region.max(axis=2) - region.min(axis=2)
    coloured = _denoise((chroma > 50) & (region.max(axis=2) > 60))
    return float(coloured.sum()) * (MM_PER_INCH / dpi) ** 2


def photo_area_mm2(grey: np.ndarray, dpi: float, bg: int) -> float:
    """Area of continuous-tone regions in mm²: 5 mm tiles where little paper shows and
    most pixels are mid-grey. Text tiles always show paper between strokes."""
    region = _interior(grey, 0.03)
    tile = max(4, round(5 / MM_PER_INCH * dpi))
    h, w = (region.shape[0] // tile) * tile, (region.shape[1] // tile) * tile
    if h == 0 or w == 0:
        return 0.0
    blocks = region[:h, :w].reshape(h // tile, tile, w // tile, tile)
    paper = (blocks >= bg - 30).mean(axis=(1, 3))
    mid = ((blocks > 40) & (blocks < bg - 30)).mean(axis=(1, 3))
    photo_tiles = int(((paper < 0.35) & (mid > 0.4)).sum())
    return photo_tiles * (tile * MM_PER_INCH / dpi) ** 2


def choose_mode(colour_mm2: float, photo_mm2: float) -> ColourMode:
    if colour_mm2 >= COLOUR_MIN_MM2:
        return ColourMode.COLOUR
    if photo_mm2 >= PHOTO_MIN_MM2:
        return ColourMode.GREY
    return ColourMode.BILEVEL


def analyse(small: Image.Image, dpi: float, *, deskew: bool, crop: bool,
            mode: ColourMode) -> tuple[PageAnalysis, Image.Image]:
    """Decide everything about a page from its analysis copy (RGB or L at ``dpi``).
    Returns the analysis and the analysis copy after the same rotation and crop, which is
    what the preview of a passed-through page shows."""
    grey = to_grey_array(small)
    angle = estimate_skew(grey) if deskew else 0.0
    notes: list[str] = []
    if angle:
        # When cropping, fill black so the wedges the rotation uncovers count as border
        # and are cut away with it; otherwise white, as the full page will be filled.
        level = 0 if crop else WHITE
        small = small.rotate(angle, Image.Resampling.BILINEAR,
                             fillcolor=level if small.mode == "L" else (level,) * 3)
        grey = to_grey_array(small)
        notes.append(f"Đã chỉnh nghiêng {_vi_number(abs(angle))}°.")
    box = find_content_box(grey) if crop else None
    if box is not None:
        small = small.crop(box)
        grey = grey[box[1]:box[3], box[0]:box[2]]
        notes.append("Đã cắt viền tối của máy quét.")
    bg = background_level(_interior(grey, 0.05))
    ink = ink_area_mm2(grey, dpi, bg)
    blank = ink < BLANK_MAX_INK_MM2
    colour = colour_area_mm2(np.asarray(small), dpi) if small.mode == "RGB" else 0.0
    photo = photo_area_mm2(grey, dpi, bg)
    if mode is ColourMode.AUTO:
        mode = ColourMode.BILEVEL if blank else choose_mode(colour, photo)
    if blank:
        notes.append("Trang trắng.")
    analysis = PageAnalysis(angle, box, blank, mode, ink, colour, photo, bg, notes)
    return analysis, small


def _vi_number(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


# --- full-resolution operations -------------------------------------------------------------


def rotate_page(im: Image.Image, angle: float) -> Image.Image:
    """Full-resolution deskew; the corners the rotation uncovers become white paper. The
    page keeps its size (the paper did not grow)."""
    fill: int | tuple[int, int, int] = WHITE if im.mode == "L" else (WHITE,) * 3
    return im.rotate(angle, Image.Resampling.BILINEAR, fillcolor=fill)


def resize_banded(im: Image.Image, size: tuple[int, int], band: int = 256) -> Image.Image:
    """Downscale in bands of output rows: Pillow's one-shot resize keeps a full
    intermediate pass (~350 MB more on an A0 page). Filter support at band edges reads the
    neighbouring source rows, so no seams appear."""
    width, height = size
    out = Image.new(im.mode, size)
    sy = im.height / height
    for y in range(0, height, band):
        h = min(band, height - y)
        piece = im.resize((width, h), Image.Resampling.HAMMING,
                          box=(0, y * sy, im.width, (y + h) * sy))
        out.paste(piece, (0, y))
        piece.close()
    return out


def scale_box(box: tuple[int, int, int, int], sx: float, sy: float, width: int,
              height: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return (max(0, math.ceil(left * sx)), max(0, math.ceil(top * sy)),
            min(width, math.floor(right * sx)), min(height, math.floor(bottom * sy)))


def to_bilevel(grey: Image.Image) -> Image.Image:
    """Threshold against the local paper brightness (a background map from a reduced
    copy), so shading, yellowed paper and faint thin lines are handled the same across the
    page. Works in bands of rows to keep the temporary arrays small on A0 pages."""
    if grey.mode != "L":
        raise ValueError("to_bilevel expects an L image")
    w, h = grey.size
    factor = max(1, min(w, h) // 256)
    bg_small = grey.reduce(factor) if factor > 1 else grey.copy()
    bg_small = bg_small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(2))
    bg_full = np.asarray(bg_small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.uint8)
    bg_small.close()
    pixels = np.asarray(grey, dtype=np.uint8)
    out = np.empty((h, w), dtype=bool)
    band = 1024
    for y in range(0, h, band):
        p = pixels[y:y + band].astype(np.uint16) * 100
        b = np.maximum(bg_full[y:y + band], 96).astype(np.uint16) * round(BILEVEL_RATIO * 100)
        out[y:y + band] = p >= b  # True = white paper
    del bg_full, pixels
    return Image.fromarray(out)  # bool array -> mode "1"


def convert_for_mode(im: Image.Image, mode: ColourMode) -> Image.Image:
    """The image in the encoder's mode (may return ``im`` itself; the caller closes the
    superseded copy, so at most two full-resolution images exist at a time)."""
    if mode is ColourMode.COLOUR:
        return im if im.mode == "RGB" else im.convert("RGB")
    if mode is ColourMode.GREY:
        return im if im.mode == "L" else im.convert("L")
    if mode is ColourMode.BILEVEL:
        if im.mode == "L":
            return to_bilevel(im)
        grey = im.convert("L")
        try:
            return to_bilevel(grey)
        finally:
            grey.close()
    raise ValueError("decide the mode before converting")


def encode(im: Image.Image, path_stem: Path, dpi: int, quality: int) -> Path:
    """Write the page in the form the PDF will embed: mode ``1`` as single-strip CCITT G4
    TIFF, ``L``/``RGB`` as baseline JPEG."""
    if im.mode == "1":
        path = path_stem.with_suffix(".tif")
        # PDF holds one CCITT stream per image: the whole page must be a single strip.
        strip = (im.width + 7) // 8 * im.height + 1
        im.save(path, "TIFF", compression="group4", dpi=(dpi, dpi), strip_size=strip)
        return path
    path = path_stem.with_suffix(".jpg")
    # Huffman optimisation buffers the whole image in libjpeg: only for normal pages.
    optimize = im.width * im.height <= 40_000_000
    im.save(path, "JPEG", quality=quality, dpi=(dpi, dpi), optimize=optimize,
            subsampling="4:2:0" if im.mode == "RGB" else 0)
    return path


def write_preview(im: Image.Image, path_stem: Path) -> Path:
    """A small preview for the studio's thumbnails, never more than PREVIEW_MAX_SIDE."""
    factor = math.ceil(max(im.size) / PREVIEW_MAX_SIDE)
    src = im.convert("L") if im.mode == "1" else im
    small = src.reduce(factor) if factor > 1 else src.copy()
    if src is not im:
        src.close()
    if im.mode == "1":
        path = path_stem.with_name(path_stem.name + ".preview.png")
        small.save(path, "PNG", optimize=False)
    else:
        path = path_stem.with_name(path_stem.name + ".preview.jpg")
        small.save(path, "JPEG", quality=80)
    small.close()
    return path


# --- JPEG helpers ---------------------------------------------------------------------------

# ITU-T T.81 Annex K luminance table, the base of the IJG quality scale.
_STD_LUMINANCE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99])


def estimate_jpeg_quality(path: Path) -> int | None:
    """The IJG quality a JPEG was written with, from its luminance quantisation table
    (order-free: only the table's sum is compared). ``None`` when there is no table."""
    with Image.open(path, formats=["JPEG"]) as im:
        tables = getattr(im, "quantization", None) or {}
    if 0 not in tables:
        return None
    scale = float(np.sum(tables[0])) / float(_STD_LUMINANCE.sum()) * 100
    quality = (200 - scale) / 2 if scale <= 100 else 5000 / scale
    return max(1, min(100, round(quality)))


def jpeg_with_density(data: bytes, dpi: int) -> bytes:
    """The same JPEG with its JFIF header saying ``dpi`` (so the PDF page is 100 % scale);
    only header bytes change, never the compressed image data."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    d = dpi.to_bytes(2, "big")
    if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
        return data[:13] + b"\x01" + d + d + data[18:]
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x01" + d + d + b"\x00\x00"
    return data[:2] + app0 + data[2:]
