"""Bundled Liberation fonts (SIL OFL 1.1) registered with reportlab.

Bundled rather than taken from the system so every counter PC prints the same glyphs
and metrics (Liberation Serif is metric-compatible with Times New Roman, the font of
official documents)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from desktop_app.domain.errors import DomainError

SERIF = "MotCuaSerif"
SERIF_BOLD = "MotCuaSerif-Bold"
SERIF_ITALIC = "MotCuaSerif-Italic"
SERIF_BOLD_ITALIC = "MotCuaSerif-BoldItalic"
SANS = "MotCuaSans"
SANS_BOLD = "MotCuaSans-Bold"

_FILES = {
    SERIF: "LiberationSerif-Regular.ttf",
    SERIF_BOLD: "LiberationSerif-Bold.ttf",
    SERIF_ITALIC: "LiberationSerif-Italic.ttf",
    SERIF_BOLD_ITALIC: "LiberationSerif-BoldItalic.ttf",
    SANS: "LiberationSans-Regular.ttf",
    SANS_BOLD: "LiberationSans-Bold.ttf",
}

_registered = False


def fonts_dir() -> Path:
    return Path(str(resources.files("resources") / "fonts"))


def register_fonts() -> None:
    global _registered
    if _registered:
        return
    folder = fonts_dir()
    for name, filename in _FILES.items():
        path = folder / filename
        try:
            pdfmetrics.registerFont(TTFont(name, str(path)))
        except Exception as exc:  # reportlab raises TTFError or OSError subclasses
            raise DomainError(
                "Thiếu hoặc hỏng tệp phông chữ để in phiếu. Hãy cài lại phần mềm.",
                f"font {path}: {exc!r}",
            ) from exc
    addMapping(SERIF, 0, 0, SERIF)
    addMapping(SERIF, 1, 0, SERIF_BOLD)
    addMapping(SERIF, 0, 1, SERIF_ITALIC)
    addMapping(SERIF, 1, 1, SERIF_BOLD_ITALIC)
    addMapping(SANS, 0, 0, SANS)
    addMapping(SANS, 1, 0, SANS_BOLD)
    addMapping(SANS, 0, 1, SANS)
    addMapping(SANS, 1, 1, SANS_BOLD)
    _registered = True
