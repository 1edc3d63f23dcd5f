"""The question asked when an ID card is scanned while the dossier already has an owner:
is this card the new owner (chủ hồ sơ), or the person filing for them (người nộp thay)?

A small dialog of its own: Vietnamese buttons, each with an Alt mnemonic, and "Hủy" as the
focused and default button, so an Enter typed by habit changes nothing. It never receives
a dossier: it only says what the card is for."""

from __future__ import annotations

from enum import IntEnum
from html import escape

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.domain.citizen_qr import CitizenCard


class CardUse(IntEnum):
    CANCEL = 0  # = QDialog.Rejected
    OWNER = 2
    SUBMITTER = 3


class ScannedCardQuestion(QDialog):
    """``finished`` carries a ``CardUse``; ``card`` is the card that was scanned."""

    def __init__(self, card: CitizenCard, owner_name: str, owner_id: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card = card
        self.setWindowTitle("Thẻ căn cước vừa quét")
        self.setObjectName("scannedCardQuestion")
        current = owner_name or "(chưa có họ tên)"
        if owner_id:
            current += f", số {owner_id}"
        text = QLabel(
            f"Hồ sơ đang nhập đã có chủ hồ sơ: <b>{escape(current)}</b>.<br>"
            f"Thẻ vừa quét: <b>{escape(card.full_name)}</b>, số {card.id_number}.<br><br>"
            "Dùng thẻ này để làm gì?")
        text.setWordWrap(True)
        self.owner_btn = QPushButton("Thay &chủ hồ sơ bằng người này")
        self.submitter_btn = QPushButton("Điền &người nộp thay (chủ hồ sơ giữ nguyên)")
        self.cancel_btn = QPushButton("&Hủy, không dùng thẻ này")
        self.owner_btn.setToolTip("Người trên thẻ vừa quét trở thành chủ hồ sơ; số điện "
                                  "thoại và thư điện tử của chủ hồ sơ cũ được xoá")
        self.submitter_btn.setToolTip("Chủ hồ sơ giữ nguyên; người trên thẻ vừa quét là người "
                                      "nộp thay")
        self.cancel_btn.setToolTip("Không dùng thẻ vừa quét; hồ sơ giữ nguyên (Esc)")
        self.owner_btn.clicked.connect(lambda: self.done(CardUse.OWNER))
        self.submitter_btn.clicked.connect(lambda: self.done(CardUse.SUBMITTER))
        self.cancel_btn.clicked.connect(self.reject)
        for b in (self.owner_btn, self.submitter_btn):
            b.setAutoDefault(False)
        self.cancel_btn.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.owner_btn)
        buttons.addWidget(self.submitter_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)
        self.cancel_btn.setFocus()
