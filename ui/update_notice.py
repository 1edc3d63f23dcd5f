"""The update notice: a verified update is offered to a technician or supervisor as soon
as it is there ("Cài đặt ngay / Để cuối ngày"), and again to anybody closing the app
after working hours (or to whoever chose "later"). A refused update (bad signature or
hash) is told to them once. The window owns the questions (``ask``), so closing and the
notice never put two questions at once."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.sync.update_store import READY, UpdateStatus, update_status
from desktop_app.update_install import (
    InstallStep,
    end_of_day,
    offer_during_day,
    ready_update,
    start_install,
)
from ui.workers import Runner

Ask = Callable[[str, str, list[tuple[str, str]], Callable[[str], None], str, str], None]

INSTALL_NOW = "Cài đặt &ngay"
LATER_TODAY = "Để &cuối ngày"
LATER = "Để &lần sau"


def notice_text(version: str) -> str:
    return (f"Có bản cập nhật {version} đã tải và kiểm tra chữ ký — Cài đặt ngay / Để "
            "cuối ngày?\n\nKhi cài, phần mềm sẽ đóng lại và tự mở lại sau khi cài xong "
            "(Windows có thể hỏi quyền quản trị). Hồ sơ đã lưu không bị ảnh hưởng.")


class UpdateNotice(QObject):
    def __init__(self, ctx: AppContext, clerk: ClerkInfo, runner: Runner, *, ask: Ask,
                 say: Callable[[str], None], quit_app: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.clerk, self.runner = ctx, clerk, runner
        self.ask, self.say, self.quit_app = ask, say, quit_app
        self.asked: set[str] = set()  # versions offered in this session
        self.warned: set[str] = set()  # refusals told in this session
        self.deferred = ""  # the version put off until the end of the day
        self.asked_at_close = False
        self.last_step: InstallStep | None = None

    # --- during the day -----------------------------------------------------------------

    def check(self) -> None:
        """Called by the window's status timer: is there something to tell?"""
        if not offer_during_day(self.clerk.role):
            return
        root = self.ctx.paths.root
        self.runner.submit(lambda: update_status(root), self._show, lambda m, d: None)

    def _show(self, status: UpdateStatus) -> None:
        refusal = f"{status.refused_version}:{status.refused_sha256}"
        if status.refused_version and refusal not in self.warned:
            self.warned.add(refusal)
            self.ask(status.refusal_vi, "Bản cập nhật bị từ chối", [("ok", "Đã &hiểu")],
                     lambda _: self.check(), "ok", "ok")  # then what may be ready
        elif status.state == READY and status.version not in self.asked:
            self.asked.add(status.version)
            self.ask(notice_text(status.version), "Cập nhật phần mềm",
                     [("install", INSTALL_NOW), ("later", LATER_TODAY)], self._answer,
                     "install", "later")

    def _answer(self, choice: str) -> None:
        if choice == "install":
            self.install(then_quit=True)
            return
        version = ready_update(self.ctx)
        self.deferred = version.version if version else ""
        self.say("Bản cập nhật sẽ được đề nghị cài lại khi đóng phần mềm cuối ngày.")

    # --- installing ---------------------------------------------------------------------

    def install(self, then_quit: bool) -> None:
        ctx, clerk_id = self.ctx, self.clerk.id
        self.runner.submit(lambda: start_install(ctx, clerk_id),
                           lambda step: self._started(step, then_quit),
                           lambda m, d: self.say(f"Không chạy được bộ cài: {m}"))

    def _started(self, step: InstallStep, then_quit: bool) -> None:
        self.last_step = step
        if step.launched:  # Windows: the setup waits for this app to quit
            self.quit_app()
            return
        # Linux: no root from the app; the technician runs the command.
        self.ask(f"Bản cập nhật {step.version} đã tải và kiểm tra chữ ký. Để cài, mở cửa sổ "
                 f"dòng lệnh và chạy (cần quyền quản trị):\n\n{step.command}\n\nrồi mở lại "
                 "phần mềm.", "Cài bản cập nhật", [("ok", "Đã &hiểu")],
                 lambda _: self.quit_app() if then_quit and self.asked_at_close else None,
                 "ok", "ok")

    # --- at the end of the day ----------------------------------------------------------

    def ask_at_close(self) -> bool:
        """Put the end-of-day offer when closing; True when a question was put (closing
        then waits for the answer)."""
        if self.asked_at_close:
            return False
        status = ready_update(self.ctx)
        if status is None:
            return False
        if not (end_of_day(self.ctx.clock.now()) or self.deferred == status.version):
            return False
        self.asked_at_close = True

        def answer(choice: str) -> None:
            if choice == "install":
                self.install(then_quit=True)
            else:
                self.quit_app()

        self.ask(f"Có bản cập nhật {status.version} đã tải và kiểm tra chữ ký. Cài đặt ngay "
                 "khi đóng phần mềm?", "Cập nhật phần mềm cuối ngày",
                 [("install", INSTALL_NOW), ("later", LATER)], answer, "install", "later")
        return True
