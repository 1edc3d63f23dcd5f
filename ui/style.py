"""Look and feel: large readable text, strong focus rings (keyboard-first), calm colours.

Surfaces and text follow the system palette (light, dark and high-contrast Windows themes
alike); only the accent and the status colours are ours, in a light and a dark variant
chosen from the palette, and every coloured background names its own text colour."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QWidget

from ui.fonts import register_bundled_fonts, ui_font

ACCENT = "#0b5ea8"


@dataclass(frozen=True)
class Colours:
    accent: str  # headings, figures, the primary button
    accent_text: str  # text on the accent
    accent_disabled: str
    error: str
    ok: str
    warn: str
    focus: str  # the focus ring of buttons
    banner_bg: str
    banner_border: str
    banner_text: str
    alert_bg: str
    alert_border: str
    alert_text: str
    good_bg: str
    good_border: str
    good_text: str
    training_bg: str = "#f28c28"  # the training mode's bar: orange, never a station's
    training_text: str = "#241000"


LIGHT = Colours(ACCENT, "#ffffff", "#9bb7d3", "#b00020", "#1b7a2f", "#8a5a00", "#f0a500",
                "#fff4d6", "#e8c66a", "#3d2e00", "#fde7e9", "#d9534f", "#7a1c1c",
                "#e6f4ea", "#1b7a2f", "#0f3d19")
DARK = Colours("#5aa9f0", "#0b1a2a", "#40607f", "#ff8a80", "#7fd88f", "#ffcc66", "#ffb300",
               "#4a3b12", "#b8962e", "#ffe9b0", "#5a1f24", "#e57373", "#ffd6d6",
               "#1d3b26", "#4caf50", "#d5f5dc", "#a84f00", "#fff3e0")


def colours(palette: QPalette) -> Colours:
    """Our colours for ``palette``: the dark set when the window background is dark."""
    return DARK if palette.color(QPalette.ColorRole.Window).lightness() < 128 else LIGHT


def stylesheet(c: Colours) -> str:
    return f"""
QWidget {{ font-size: 11pt; }}
QLabel#pageTitle {{ font-size: 17pt; font-weight: 600; color: {c.accent};
                    padding-top: 4px; }}
QLabel#stepTitle {{ font-size: 13pt; font-weight: 600; padding-top: 2px; }}
QLabel#hint {{ color: palette(placeholder-text); }}
QLabel#error {{ color: {c.error}; font-weight: 600; }}
QLabel#ok {{ color: {c.ok}; font-weight: 600; }}
QFrame#card {{ background: palette(alternate-base); border: 1px solid palette(mid);
               border-radius: 8px; }}
QLabel#cardValue {{ font-size: 26pt; font-weight: 700; color: {c.accent}; }}
QLabel#cardLabel {{ color: palette(window-text); }}
QLabel#banner {{ background: {c.banner_bg}; border: 1px solid {c.banner_border};
                 color: {c.banner_text}; border-radius: 6px; padding: 6px 10px; }}
QLabel#banner[state="bad"] {{ background: {c.alert_bg}; border-color: {c.alert_border};
                              color: {c.alert_text}; }}
QLabel#banner[state="good"] {{ background: {c.good_bg}; border-color: {c.good_border};
                               color: {c.good_text}; }}
QLabel#warningBanner {{ background: {c.alert_bg}; border: 1px solid {c.alert_border};
                        border-radius: 6px; padding: 6px 10px; color: {c.alert_text};
                        font-weight: 600; }}
QFrame#trainingBanner {{ background: {c.training_bg}; }}
QFrame#trainingBanner QLabel {{ color: {c.training_text}; font-weight: 700; font-size: 12pt;
                                padding: 4px 6px; }}
QFrame#trainingBanner QPushButton {{ color: {c.training_text}; font-weight: 600;
                                     padding: 3px 8px; }}
QLabel#syncIndicator {{ padding: 2px 8px; border-radius: 4px; }}
QLabel#syncIndicator[state="ok"] {{ color: {c.ok}; }}
QLabel#syncIndicator[state="warn"] {{ color: {c.warn}; }}
QLabel#syncIndicator[state="bad"] {{ color: {c.error}; font-weight: 600; }}
QListWidget#nav {{ background: palette(alternate-base); color: palette(text); border: none;
                   font-size: 12pt; }}
QListWidget#nav::item {{ padding: 10px 12px; }}
QListWidget#nav::item:selected {{ background: palette(highlight);
                                 color: palette(highlighted-text); }}
QPushButton {{ padding: 6px 14px; }}
QPushButton#primary {{ background: {c.accent}; color: {c.accent_text}; font-weight: 600;
                       border: 2px solid {c.accent}; border-radius: 4px;
                       padding: 6px 16px; }}
QPushButton#primary:disabled {{ background: {c.accent_disabled};
                                border-color: {c.accent_disabled}; }}
QPushButton#primary:focus {{ border: 2px solid {c.focus}; }}
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus,
QListView:focus, QTableView:focus, QTableWidget:focus, QListWidget:focus {{
    border: 2px solid {c.accent};
}}
QPushButton:focus {{ border: 2px solid {c.focus}; }}
"""


STYLESHEET = stylesheet(LIGHT)


def apply_style(app: QApplication) -> None:
    register_bundled_fonts(app)
    app.setFont(ui_font())
    app.setStyleSheet(stylesheet(colours(app.palette())))


def set_state(widget: QWidget, state: str) -> None:
    """Colour a banner or indicator by meaning ("good", "bad", "ok", "warn", "" for
    plain) through the stylesheet, so the light, dark and high-contrast palettes apply;
    an inline colour would stay light on a dark theme."""
    widget.setProperty("state", state)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
