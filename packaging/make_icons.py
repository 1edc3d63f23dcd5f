"""Draw the application icon with Pillow (the repository has no artwork of its own).

Writes packaging/linux/motcua.png (256x256, for the .desktop entry and hicolor theme) and
packaging/windows/motcua.ico (16-256 px, for the .exe and the NSIS installer). Run again
only to change the design; the build scripts call it when a file is missing.

    python packaging/make_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RED = (200, 16, 46, 255)      # the red of the national flag
YELLOW = (255, 205, 0, 255)
WHITE = (255, 255, 255, 255)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    ttf = ROOT / "resources" / "fonts" / "LiberationSans-Bold.ttf"
    try:
        return ImageFont.truetype(str(ttf), size)
    except OSError:
        return ImageFont.load_default()


def draw(size: int = 256) -> Image.Image:
    """A red rounded square with a white document, a yellow band and "1" (một cửa)."""
    s = size / 256
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((8 * s, 8 * s, 248 * s, 248 * s), radius=44 * s, fill=RED)
    # the dossier sheet
    d.rounded_rectangle((60 * s, 40 * s, 196 * s, 216 * s), radius=12 * s, fill=WHITE)
    d.rectangle((60 * s, 40 * s, 196 * s, 84 * s), fill=YELLOW)
    for y in (150, 172, 194):
        d.rounded_rectangle((80 * s, y * s, 176 * s, (y + 8) * s), radius=4 * s,
                            fill=(120, 120, 120, 255))
    font = _font(int(84 * s))
    text = "1"
    box = d.textbbox((0, 0), text, font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    d.text((128 * s - w / 2 - box[0], 112 * s - h / 2 - box[1]), text, font=font, fill=RED)
    return img


def main() -> int:
    png = HERE / "linux" / "motcua.png"
    ico = HERE / "windows" / "motcua.ico"
    png.parent.mkdir(parents=True, exist_ok=True)
    ico.parent.mkdir(parents=True, exist_ok=True)
    big = draw(256)
    big.save(png, optimize=True)
    big.save(ico, sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128),
                         (256, 256)])
    print(f"{png}\n{ico}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
