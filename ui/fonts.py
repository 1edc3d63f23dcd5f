"""The bundled Liberation fonts for the screens too, not only for the printed documents.

Liberation Sans is the application font on every platform: it covers Vietnamese (every
precomposed letter with its tone mark), so a counter PC without a good Vietnamese font
does not fall back to whatever system font Qt picks, and the screens measure the same as
the ones the layouts were fitted to at 1024×768 and look like the printed slips. Segoe UI
(Windows 10/11) would render Vietnamese as well, but older or stripped-down images lack
it, and its metrics differ from what the screens were fitted with."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from desktop_app.documents.fonts import fonts_dir

log = logging.getLogger(__name__)

UI_FAMILY = "Liberation Sans"
UI_POINT_SIZE = 11  # readable for older clerks, and what the 1024×768 layouts fit
_DONE = "motcua_fonts_registered"  # QApplication property: register once per application


@dataclass(frozen=True)
class FontSetup:
    registered: tuple[str, ...]  # file names Qt accepted
    failed: tuple[str, ...]  # file names Qt refused (missing or damaged)


def register_bundled_fonts(app: QApplication, folder: Path | None = None) -> FontSetup:
    """Add every bundled TrueType file to Qt's font database, once per application."""
    if app.property(_DONE):
        return FontSetup((), ())
    folder = folder or fonts_dir()
    registered: list[str] = []
    failed: list[str] = []
    for path in sorted(folder.glob("*.ttf")):
        if QFontDatabase.addApplicationFont(str(path)) < 0:
            failed.append(path.name)
            log.warning("Qt could not load the bundled font %s", path)
        else:
            registered.append(path.name)
    if not registered and not failed:
        log.warning("no bundled fonts found in %s", folder)
    log.info("registered %d bundled font file(s) with Qt", len(registered))
    app.setProperty(_DONE, True)
    return FontSetup(tuple(registered), tuple(failed))


def ui_font() -> QFont:
    """Liberation Sans when Qt has it (bundled or installed), else the system UI font at
    our size: a missing file must not leave Qt substituting some unrelated family."""
    if UI_FAMILY in QFontDatabase.families():
        font = QFont(UI_FAMILY)
    else:
        log.warning("%s is not available; keeping the system UI font", UI_FAMILY)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    font.setPointSize(UI_POINT_SIZE)
    return font
