"""Training mode's dialogs: the scenarios with the trainer's checklist, and the schedule
by which the simulated province moves the dossiers it receives."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.errors import DomainError
from desktop_app.training.checklist import SCENARIOS, Checklist, accounts_text
from desktop_app.training.schedule import (
    Schedule,
    default_schedule,
    parse_schedule,
    save_schedule,
)
from desktop_app.training.session import TrainingSession
from ui.screen_fit import fit, scrolling


class ChecklistDialog(QDialog):
    """Each scenario with its steps and a tick; the accounts and the province's schedule
    beneath. Ticks are saved as they are set."""

    def __init__(self, session: TrainingSession, parent: QWidget | None = None, *,
                 print_cards: Callable[[], None] | None = None,
                 edit_schedule: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Kịch bản tập huấn — danh sách kiểm tra")
        self.checklist = Checklist(session.paths.checklist)
        ticks = self.checklist.ticks()
        body = QWidget()
        layout = QVBoxLayout(body)
        title = QLabel("Kịch bản tập huấn")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        accounts = QLabel("Tài khoản tập huấn (tên / mật khẩu): " + " · ".join(accounts_text()))
        accounts.setWordWrap(True)
        accounts.setObjectName("banner")
        layout.addWidget(accounts)
        self.boxes: dict[str, QCheckBox] = {}
        for n, scenario in enumerate(SCENARIOS, 1):
            box = QCheckBox(f"&{n}. {scenario.title}")
            box.setChecked(ticks.get(scenario.key, False))
            box.toggled.connect(lambda on, key=scenario.key: self.checklist.set(key, on))
            self.boxes[scenario.key] = box
            steps = QLabel("\n".join(f"   • {s}" for s in scenario.steps))
            steps.setWordWrap(True)
            layout.addWidget(box)
            layout.addWidget(steps)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(rule)
        sched = session.scheduler.schedule
        layout.addWidget(QLabel(f"Cổng tỉnh giả lập ({session.province.url}) — {sched.title}:"))
        plan = QLabel("\n".join(f"   • {line}" for line in sched.describe()))
        plan.setWordWrap(True)
        layout.addWidget(plan)
        progress = session.scheduler.progress()
        if progress:
            done = QLabel("\n".join(f"   {key}: {name} — đã qua {d}/{n} bước"
                                    for key, name, d, n in progress))
            done.setObjectName("hint")
            layout.addWidget(done)
        layout.addStretch(1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Đóng")
        buttons.rejected.connect(self.reject)
        if print_cards is not None:
            cards = QPushButton("In &thẻ căn cước giả lập…")
            cards.setAutoDefault(False)
            cards.clicked.connect(print_cards)
            buttons.addButton(cards, QDialogButtonBox.ButtonRole.ActionRole)
        if edit_schedule is not None:
            edit = QPushButton("Sửa &lịch của tỉnh…")
            edit.setAutoDefault(False)
            edit.clicked.connect(edit_schedule)
            buttons.addButton(edit, QDialogButtonBox.ButtonRole.ActionRole)
        outer = QVBoxLayout(self)
        outer.addWidget(scrolling(body), 1)
        outer.addWidget(buttons)
        fit(self, 820, 700)


class ScheduleDialog(QDialog):
    """The schedule as JSON, checked before it is saved; it applies from the next tick
    (steps already taken stay taken)."""

    def __init__(self, session: TrainingSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Lịch xử lý của cổng tỉnh giả lập")
        hint = QLabel("Mỗi kịch bản (plans) là các bước “sau N phút kể từ khi tỉnh nhận hồ sơ "
                      "→ trạng thái”: 4 đang xử lý, 5 yêu cầu bổ sung, 6 nghĩa vụ tài chính, "
                      "8 dừng xử lý, 9 có kết quả. Hồ sơ lần lượt nhận kịch bản 1, 2, 3, … "
                      "seeded_plan dành cho hồ sơ trễ hạn có sẵn.")
        hint.setWordWrap(True)
        self.editor = QPlainTextEdit(session.scheduler.schedule.to_json())
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Lưu lịch")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Hủy")
        default = QPushButton("Lịch &mặc định")
        default.setAutoDefault(False)
        default.clicked.connect(
            lambda: self.editor.setPlainText(default_schedule().to_json()))
        buttons.addButton(default, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.saved: Schedule | None = None
        fit(self, 760, 620)

    def save(self) -> None:
        try:
            schedule = parse_schedule(self.editor.toPlainText())
            save_schedule(self.session.paths.schedule, schedule)
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return
        except OSError as exc:
            self.error.setText(f"Không ghi được tệp lịch: {exc.strerror or exc}")
            return
        self.session.scheduler.schedule = schedule
        self.saved = schedule
        self.accept()
