"""Look and feel: large readable text, strong focus rings (keyboard-first), calm colours."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

ACCENT = "#0b5ea8"

STYLESHEET = f"""
QWidget {{ font-size: 11pt; }}
QLabel#pageTitle {{ font-size: 17pt; font-weight: 600; color: {ACCENT}; }}
QLabel#stepTitle {{ font-size: 13pt; font-weight: 600; }}
QLabel#hint {{ color: #555; }}
QLabel#error {{ color: #b00020; font-weight: 600; }}
QLabel#ok {{ color: #1b7a2f; font-weight: 600; }}
QFrame#card {{ background: #f4f7fb; border: 1px solid #d6e0ec; border-radius: 8px; }}
QLabel#cardValue {{ font-size: 26pt; font-weight: 700; color: {ACCENT}; }}
QLabel#cardLabel {{ color: #333; }}
QLabel#banner {{ background: #fff4d6; border: 1px solid #e8c66a; border-radius: 6px;
                 padding: 6px 10px; }}
QLabel#warningBanner {{ background: #fde7e9; border: 1px solid #d9534f; border-radius: 6px;
                        padding: 6px 10px; color: #7a1c1c; font-weight: 600; }}
QLabel#syncIndicator {{ padding: 2px 8px; border-radius: 4px; }}
QLabel#syncIndicator[state="ok"] {{ color: #1b7a2f; }}
QLabel#syncIndicator[state="warn"] {{ color: #8a5a00; }}
QLabel#syncIndicator[state="bad"] {{ color: #b00020; font-weight: 600; }}
QListWidget#nav {{ background: #f0f3f7; border: none; font-size: 12pt; }}
QListWidget#nav::item {{ padding: 10px 12px; }}
QListWidget#nav::item:selected {{ background: {ACCENT}; color: white; }}
QPushButton {{ padding: 6px 14px; }}
QPushButton#primary {{ background: {ACCENT}; color: white; font-weight: 600;
                       border-radius: 4px; padding: 8px 18px; }}
QPushButton#primary:disabled {{ background: #9bb7d3; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDateEdit:focus, QPlainTextEdit:focus,
QListView:focus, QTableView:focus, QTableWidget:focus, QListWidget:focus {{
    border: 2px solid {ACCENT};
}}
QPushButton:focus {{ border: 2px solid #f0a500; }}
"""


def apply_style(app: QApplication) -> None:
    font = QFont("Liberation Sans")
    font.setPointSize(11)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
