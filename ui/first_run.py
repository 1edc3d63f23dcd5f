"""First run on a counter PC: a technician's wizard, or a provisioning file.

The pages only collect answers; `desktop_app.setup.first_run` checks them with the
provisioning rules and writes them. Anything that touches the network or the disk
runs on a worker thread with the wizard's buttons disabled meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop_app.accounts import AccountService
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.printers import available_printers
from desktop_app.setup.first_run import (
    JoinInfo,
    NewAccount,
    SetupAnswers,
    SetupResult,
    answers_for_join,
    apply_file,
    check_accounts,
    check_answers,
    check_connection,
    finish,
    join_info,
)
from desktop_app.setup.plan import ProvisioningInvalid
from desktop_app.setup.probe import GatewayProbe
from desktop_app.station import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS
from ui.screen_fit import fit
from ui.workers import Runner

P_INTRO, P_STATION, P_CONNECTION, P_PRINTING, P_ACCOUNTS, P_DONE = range(6)

STATION_KEYS = {"agency_code", "agency_name", "parent_name", "place_name", "station_digit",
                "tracking_url", ""}
CONNECTION_KEYS = {"gateway_url", "ca_bundle", "station_token", "enrolment_code"}
PRINTING_KEYS = {"printer", "retention_days", "upload_limit_mb", "receipt_page_size"}
DEFAULT_PRINTER = "(máy in mặc định của hệ điều hành)"
AUTH_ENROL, AUTH_TOKEN = 0, 1


def _password() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def _label(text: str = "", name: str = "hint") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class _Page(QWizardPage):
    """A page whose validation and next page the wizard decides."""

    def __init__(self, wizard: FirstRunWizard, which: int, title: str,
                 subtitle: str = "") -> None:
        super().__init__()
        self._wizard = wizard
        self.which = which
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)

    def validatePage(self) -> bool:
        return self._wizard.validate_page(self)

    def nextId(self) -> int:
        return self._wizard.next_page(self.which)


class FirstRunWizard(QWizard):
    """New station (agency, connection, printing, accounts) or a new counter joining a
    shared database (its own digit, token and printer only)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 printers: list[str] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = Runner(self)
        self.join: JoinInfo | None = join_info(ctx)
        self.needs_accounts = self.join is None and not AccountService(ctx).has_clerks()
        self.result_: SetupResult | None = None
        self._busy = False
        self._printers = printers if printers is not None else (available_printers() or [])
        self.setWindowTitle("Thiết lập lần đầu — Một Cửa Offline")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage)
        fit(self, 820, 640)
        for which, text in ((QWizard.WizardButton.BackButton, "< &Quay lại"),
                            (QWizard.WizardButton.NextButton, "&Tiếp >"),
                            (QWizard.WizardButton.FinishButton, "&Bắt đầu làm việc"),
                            (QWizard.WizardButton.CancelButton, "Thoát")):
            self.setButtonText(which, text)
        self.setPage(P_INTRO, self._intro_page())
        self.setPage(P_STATION, self._station_page())
        self.setPage(P_CONNECTION, self._connection_page())
        self.setPage(P_PRINTING, self._printing_page())
        self.setPage(P_ACCOUNTS, self._accounts_page())
        self.setPage(P_DONE, self._done_page())
        self.setStartId(P_INTRO)
        # A problem shown on a page goes away as soon as the field is put right.
        for which, label, check in (
                (P_STATION, self.station_error, lambda: self._problems(STATION_KEYS)),
                (P_CONNECTION, self.connection_error,
                 lambda: self._problems(CONNECTION_KEYS)),
                (P_PRINTING, self.printing_error, lambda: self._problems(PRINTING_KEYS)),
                (P_ACCOUNTS, self.accounts_error, self._account_problems)):
            self._recheck_on_edit(self.page(which), label, check)

    # --- pages ----------------------------------------------------------------------------

    def _intro_page(self) -> QWizardPage:
        page = _Page(self, P_INTRO, "Thiết lập máy quầy",
                     "Kỹ thuật viên thiết lập một lần; sau đó cán bộ đăng nhập và làm việc.")
        if self.join is not None:
            s = self.join.station
            taken = ", ".join(f"{t.digit} ({t.hostname})" for t in self.join.taken) or "không"
            text = (f"Máy này dùng chung cơ sở dữ liệu với {s.agency_name} ({s.agency_code}). "
                    f"Các quầy đã có: {taken}. Máy này cần số hiệu quầy riêng, mã xác thực "
                    "riêng của tỉnh và máy in của nó; tài khoản cán bộ dùng chung.")
        else:
            text = ("Máy quầy này chưa được thiết lập. Nếu tỉnh đã cấp tệp cấu hình (.json "
                    "hoặc .toml), hãy nạp tệp; nếu chưa, nhập từng bước: cơ quan và quầy, "
                    "kết nối với hệ thống tỉnh, máy in, tài khoản.")
        self.manual = QRadioButton("&Nhập từng bước")
        self.from_file = QRadioButton("Nạp &tệp cấu hình do tỉnh cấp:")
        self.manual.setChecked(True)
        group = QButtonGroup(page)
        group.addButton(self.manual)
        group.addButton(self.from_file)
        self.file_path = QLineEdit()
        self.file_path.setPlaceholderText("ví dụ E:\\cau-hinh-quay-2.json")
        self.file_path.textEdited.connect(lambda _t: self.from_file.setChecked(True))
        browse = QPushButton("Chọn &tệp…")
        browse.setToolTip("Chọn tệp cấu hình máy quầy (.json hoặc .toml) kỹ thuật viên mang đến")
        browse.clicked.connect(self._browse_file)
        row = QHBoxLayout()
        row.addWidget(self.file_path, 1)
        row.addWidget(browse)
        self.intro_error = _label(name="error")
        layout = QVBoxLayout(page)
        layout.addWidget(_label(text))
        layout.addSpacing(12)
        layout.addWidget(self.manual)
        layout.addWidget(self.from_file)
        layout.addLayout(row)
        layout.addWidget(self.intro_error)
        layout.addStretch()
        if self.join is not None:
            self.from_file.setEnabled(False)
            self.file_path.setEnabled(False)
            browse.setEnabled(False)
        return page

    def _station_page(self) -> QWizardPage:
        page = _Page(self, P_STATION, "Cơ quan và quầy",
                     "Thông tin in trên phiếu tiếp nhận; mỗi quầy của cùng cơ quan một số "
                     "hiệu khác nhau (1–9).")
        self.agency_code = QLineEdit()
        self.agency_code.setPlaceholderText("ví dụ 000.00.12.H12")
        self.agency_name = QLineEdit()
        self.agency_name.setPlaceholderText("ví dụ UBND XÃ NÀ PHẶC")
        self.parent_name = QLineEdit()
        self.parent_name.setPlaceholderText("ví dụ UBND TỈNH THÁI NGUYÊN")
        self.place_name = QLineEdit()
        self.place_name.setPlaceholderText("ví dụ Nà Phặc")
        self.station_digit = QComboBox()
        digits = self.join.free_digits if self.join is not None else list(range(1, 10))
        for d in digits:
            self.station_digit.addItem(str(d), d)
        self.tracking_url = QLineEdit()
        self.tracking_url.setPlaceholderText("địa chỉ tra cứu hồ sơ của tỉnh (không bắt buộc)")
        form = QFormLayout()
        form.addRow("&Mã cơ quan (mã định danh):", self.agency_code)
        form.addRow("&Tên cơ quan:", self.agency_name)
        form.addRow("Cơ quan &cấp trên:", self.parent_name)
        form.addRow("Đị&a danh:", self.place_name)
        form.addRow("&Số hiệu quầy:", self.station_digit)
        form.addRow("Trang tra cứ&u:", self.tracking_url)
        self.station_error = _label(name="error")
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(self.station_error)
        layout.addStretch()
        if self.join is not None:
            s = self.join.station
            for edit, value in ((self.agency_code, s.agency_code),
                                (self.agency_name, s.agency_name),
                                (self.parent_name, s.parent_name),
                                (self.place_name, s.place_name),
                                (self.tracking_url, s.tracking_url)):
                edit.setText(value)
                edit.setEnabled(False)  # shared by every counter of the agency
            self.station_error.setText("")
            layout.insertWidget(1, _label("Thông tin cơ quan dùng chung cho mọi quầy; chỉ chọn "
                                          "số hiệu quầy của máy này."))
            if not digits:
                self.station_error.setText("Đã dùng hết 9 số hiệu quầy trên CSDL chung này; "
                                           "hãy thu hồi số hiệu của một máy không còn dùng.")
        return page

    def _connection_page(self) -> QWizardPage:
        page = _Page(self, P_CONNECTION, "Kết nối với hệ thống một cửa của tỉnh",
                     "Có thể bỏ trống khi chưa có: hồ sơ vẫn tiếp nhận được và sẽ đồng bộ "
                     "khi kỹ thuật viên nhập sau (motcua provision hoặc motcua sync).")
        self.gateway_url = QLineEdit()
        self.gateway_url.setPlaceholderText("ví dụ https://motcua.thainguyen.gov.vn")
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText("tệp chứng chỉ CA của tỉnh (.pem), nếu tỉnh cấp")
        ca_browse = QPushButton("Chọn tệ&p…")
        ca_browse.setToolTip("Chọn tệp chứng chỉ CA của tỉnh (.pem)")
        ca_browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(ca_browse)
        self.auth_kind = QComboBox()
        self.auth_kind.addItem("Mã đăng ký một lần (tỉnh đọc qua điện thoại)", AUTH_ENROL)
        self.auth_kind.addItem("Mã xác thực của quầy (token)", AUTH_TOKEN)
        self.secret = QLineEdit()
        self.secret.setPlaceholderText("ví dụ ABCDE-FGHJK-MNPQR")
        self.auth_kind.currentIndexChanged.connect(self._auth_kind_changed)
        self.test_btn = QPushButton("&Kiểm tra kết nối")
        self.test_btn.setToolTip(
            "Hỏi hệ thống tỉnh: kết nối, đồng hồ máy, mã xác thực (mã đăng ký chưa bị dùng)")
        self.test_btn.clicked.connect(self._test_connection)
        self.connection_status = _label()
        form = QFormLayout()
        form.addRow("Địa chỉ &hệ thống tỉnh:", self.gateway_url)
        form.addRow("Chứng chỉ CA:", ca_row)
        form.addRow("&Xác thực quầy bằng:", self.auth_kind)
        form.addRow("&Mã:", self.secret)
        self.connection_error = _label(name="error")
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.test_btn)
        row.addStretch()
        layout.addLayout(row)
        layout.addWidget(self.connection_status)
        layout.addWidget(self.connection_error)
        layout.addStretch()
        if self.join is not None:
            self.gateway_url.setText(self.join.station.gateway_url)
            self.gateway_url.setEnabled(False)  # the agency's, shared
            defaults = answers_for_join(self.join, 1)
            self.ca_file.setText(defaults.ca_file)
        return page

    def _printing_page(self) -> QWizardPage:
        page = _Page(self, P_PRINTING, "In phiếu và lưu trữ",
                     "Máy in riêng của máy quầy này; thời hạn giữ tệp và dung lượng tệp dùng "
                     "chung cho cả cơ quan.")
        self.printer = QComboBox()
        self.printer.addItem(DEFAULT_PRINTER, "")
        for name in self._printers:
            self.printer.addItem(name, name)
        self.page_size = QComboBox()
        self.page_size.addItems(["A4", "A5"])
        self.retention = QSpinBox()
        self.retention.setRange(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS)
        self.retention.setValue(DEFAULT_RETENTION_DAYS)
        self.retention.setSuffix(" ngày")
        self.upload_limit = QSpinBox()
        self.upload_limit.setRange(1, 512)
        self.upload_limit.setValue(10)
        self.upload_limit.setSuffix(" MB")
        form = QFormLayout()
        form.addRow("&Máy in biên nhận:", self.printer)
        form.addRow("&Khổ giấy biên nhận:", self.page_size)
        form.addRow("&Giữ tệp trên máy sau khi hồ sơ kết thúc:", self.retention)
        form.addRow("Dung lượng &tối đa mỗi tệp gửi tỉnh:", self.upload_limit)
        note = _label("Tệp quét chỉ bị xoá khỏi máy sau thời hạn trên và khi tỉnh đã xác nhận "
                      "đã nhận; hồ sơ trong sổ theo dõi giữ nguyên.")
        self.printing_error = _label(name="error")
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.printing_error)
        layout.addStretch()
        if self.join is not None:
            s = self.join.station
            self.page_size.setCurrentText(s.receipt_page_size)
            self.retention.setValue(s.retention_days)
            self.upload_limit.setValue(s.upload_limit_mb)
            for w in (self.page_size, self.retention, self.upload_limit):
                w.setEnabled(False)  # agency-wide: changed on the first counter
        return page

    def _accounts_page(self) -> QWizardPage:
        page = _Page(self, P_ACCOUNTS, "Tài khoản",
                     "Tài khoản kỹ thuật viên (thiết lập, hồ sơ quét) và tài khoản cán bộ "
                     "tiếp nhận đầu tiên; mật khẩu ít nhất 8 ký tự.")
        self.tech_user = QLineEdit("kythuat")
        self.tech_name = QLineEdit()
        self.tech_pass = _password()
        self.tech_pass2 = _password()
        self.clerk_user = QLineEdit()
        self.clerk_name = QLineEdit()
        self.clerk_pass = _password()
        self.clerk_pass2 = _password()
        form = QFormLayout()
        form.addRow(_label("Kỹ thuật viên", "sectionTitle"))
        form.addRow("Tên đăng nhập:", self.tech_user)
        form.addRow("Họ và tên:", self.tech_name)
        form.addRow("Mật khẩu:", self.tech_pass)
        form.addRow("Nhập lại mật khẩu:", self.tech_pass2)
        form.addRow(_label("Cán bộ tiếp nhận đầu tiên", "sectionTitle"))
        form.addRow("Tên đăng nhập:", self.clerk_user)
        form.addRow("Họ và tên:", self.clerk_name)
        form.addRow("Mật khẩu:", self.clerk_pass)
        form.addRow("Nhập lại mật khẩu:", self.clerk_pass2)
        self.accounts_error = _label(name="error")
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(self.accounts_error)
        layout.addStretch()
        return page

    def _done_page(self) -> QWizardPage:
        page = _Page(self, P_DONE, "Đã thiết lập xong",
                     "Bấm “Bắt đầu làm việc” để đăng nhập.")
        self.done_text = _label(name="")
        layout = QVBoxLayout(page)
        layout.addWidget(self.done_text)
        layout.addStretch()
        page.setFinalPage(True)
        return page

    # --- answers ----------------------------------------------------------------------------

    def answers(self) -> SetupAnswers:
        secret = self.secret.text().strip()
        enrol = self.auth_kind.currentData() == AUTH_ENROL
        return SetupAnswers(
            agency_code=self.agency_code.text(), agency_name=self.agency_name.text(),
            parent_name=self.parent_name.text(), place_name=self.place_name.text(),
            station_digit=int(self.station_digit.currentData() or 0),
            receipt_page_size=self.page_size.currentText(),
            tracking_url=self.tracking_url.text(), gateway_url=self.gateway_url.text(),
            ca_file=self.ca_file.text().strip(),
            station_token="" if enrol else secret, enrolment_code=secret if enrol else "",
            printer=str(self.printer.currentData() or ""),
            retention_days=self.retention.value(), upload_limit_mb=self.upload_limit.value())

    def accounts(self) -> tuple[NewAccount, NewAccount] | None:
        if not self.needs_accounts:
            return None
        return (NewAccount(self.tech_user.text(), self.tech_name.text(), self.tech_pass.text()),
                NewAccount(self.clerk_user.text(), self.clerk_name.text(),
                           self.clerk_pass.text()))

    def _problems(self, keys: set[str]) -> list[str]:
        try:
            check_answers(self.answers())
        except ProvisioningInvalid as exc:
            return [p.message_vi for p in exc.problems if p.key.split(".")[0] in keys]
        return []

    # --- navigation -----------------------------------------------------------------------

    def next_page(self, which: int) -> int:
        if which == P_INTRO:
            return P_DONE if self.from_file.isChecked() else P_STATION
        if which == P_PRINTING:
            return P_ACCOUNTS if self.needs_accounts else P_DONE
        if which == P_DONE:
            return -1
        return which + 1

    def validate_page(self, page: _Page) -> bool:
        if self._busy:
            return False
        if self.result_ is not None:  # written: only the summary page is left
            return True
        which = self.currentId()
        if which == P_INTRO:
            if not self.from_file.isChecked():
                return True
            return self._run_final(self._apply_file, self.intro_error)
        if which == P_STATION:
            return self._show(self.station_error, self._problems(STATION_KEYS))
        if which == P_CONNECTION:
            return self._show(self.connection_error, self._problems(CONNECTION_KEYS))
        if which == P_PRINTING:
            if not self._show(self.printing_error, self._problems(PRINTING_KEYS)):
                return False
            return True if self.needs_accounts else self._run_final(self._finish,
                                                                    self.printing_error)
        if which == P_ACCOUNTS:
            if not self._show(self.accounts_error, self._account_problems()):
                return False
            return self._run_final(self._finish, self.accounts_error)
        return True

    def _account_problems(self) -> list[str]:
        problems = [f"Mật khẩu nhập lại của {who} không khớp." for who, first, again in (
            ("kỹ thuật viên", self.tech_pass, self.tech_pass2),
            ("cán bộ tiếp nhận", self.clerk_pass, self.clerk_pass2))
            if first.text() != again.text()]
        pair = self.accounts()
        try:
            if pair is not None:
                check_accounts(self.ctx, *pair)
        except DomainError as exc:
            problems.insert(0, exc.message_vi)
        return problems

    @staticmethod
    def _show(label: QLabel, problems: list[str]) -> bool:
        label.setText("\n".join(f"• {p}" for p in problems))
        return not problems

    def _recheck_on_edit(self, page: QWidget, label: QLabel,
                         problems: Callable[[], list[str]]) -> None:
        def recheck() -> None:
            if label.text().startswith("• "):  # only a list of problems, not a progress line
                self._show(label, problems())

        for edit in page.findChildren(QLineEdit):
            edit.textChanged.connect(recheck)
        for box in page.findChildren(QComboBox):
            box.currentIndexChanged.connect(recheck)
        for spin in page.findChildren(QSpinBox):
            spin.valueChanged.connect(recheck)

    def _run_final(self, job: Callable[[], SetupResult], error_label: QLabel) -> bool:
        """The last step writes: on a worker; the page advances when it is done."""
        if self.result_ is not None:
            return True
        error_label.setText("Đang áp dụng cấu hình…")
        self._set_busy(True)

        def done(result: SetupResult) -> None:
            self._set_busy(False)
            error_label.setText("")
            self.result_ = result
            self._describe(result)
            self.next()

        def failed(message: str, _detail: str) -> None:
            self._set_busy(False)
            error_label.setText(message)

        self.runner.submit(job, done, failed)
        return False

    def _finish(self) -> SetupResult:
        pair = self.accounts()
        return finish(self.ctx, self.answers(), *(pair if pair else (None, None)))

    def _apply_file(self) -> SetupResult:
        path = Path(self.file_path.text().strip())
        if not path.is_file():
            raise DomainError(f"Không tìm thấy tệp cấu hình “{path}”.", f"no file {path}")
        return apply_file(self.ctx, path)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.BackButton,
                      QWizard.WizardButton.FinishButton):
            self.button(which).setEnabled(not busy)
        self.test_btn.setEnabled(not busy)
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)

    def _describe(self, result: SetupResult) -> None:
        station = result.applied.station
        lines = [f"{station.agency_name} ({station.agency_code}) — quầy số "
                 f"{station.station_digit}."]
        if station.gateway_url:
            token = result.applied.token_stored
            lines.append(f"Hệ thống tỉnh: {station.gateway_url}; mã xác thực "
                         + ("đã lưu vào kho khóa của hệ điều hành." if token == "keyring"
                            else "đã lưu (chỉ tài khoản này đọc được)." if token
                            else "chưa có: quầy chưa đồng bộ được."))
        else:
            lines.append("Chưa kết nối hệ thống tỉnh: hồ sơ chỉ lưu trên máy này.")
        lines.append(f"In biên nhận ra: {station.printer or DEFAULT_PRINTER}; giữ tệp "
                     f"{station.retention_days} ngày sau khi hồ sơ kết thúc.")
        if result.accounts_created:
            lines.append("Tài khoản đã tạo: " + ", ".join(result.accounts_created) + ".")
        if result.applied.one_time_password:
            lines.append(f"Mật khẩu dùng một lần của “{result.applied.technician}”: "
                         f"{result.applied.one_time_password} (chỉ hiện lần này; lần đăng "
                         "nhập đầu tiên sẽ phải đặt mật khẩu mới).")
        if result.applied.recovery_code:
            lines.append(f"MÃ KHÔI PHỤC DỮ LIỆU: {result.applied.recovery_code} — chỉ hiện "
                         "lần này; hãy ghi ra giấy và cất nơi an toàn. Khi cài lại hoặc đổi "
                         "máy, lệnh “motcua recover-key” cần mã này để mở lại dữ liệu đã mã "
                         "hóa" + ("; bản khóa dự phòng đã gửi lên tỉnh." if
                                  result.applied.escrow_sent else
                                  "; bản khóa dự phòng mới chỉ lưu trên máy này."))
        lines += [f"Cảnh báo: {w}" for w in result.warnings]
        lines += [f"Ghi chú: {n}" for n in result.notes]
        lines.append("Kiểm tra lại máy bất cứ lúc nào bằng lệnh: motcua doctor")
        self.done_text.setText("\n\n".join(lines))

    # --- actions ----------------------------------------------------------------------------

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Tệp cấu hình máy quầy", "",
                                              "Tệp cấu hình (*.json *.toml)")
        if path:
            self.file_path.setText(path)
            self.from_file.setChecked(True)

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Chứng chỉ CA của tỉnh", "",
                                              "Chứng chỉ (*.pem *.crt *.cer)")
        if path:
            self.ca_file.setText(path)

    def _auth_kind_changed(self) -> None:
        enrol = self.auth_kind.currentData() == AUTH_ENROL
        self.secret.setEchoMode(QLineEdit.EchoMode.Normal if enrol
                                else QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("ví dụ ABCDE-FGHJK-MNPQR" if enrol
                                       else "dán nguyên văn mã tỉnh cấp")

    def _test_connection(self) -> None:
        problems = self._problems(STATION_KEYS | CONNECTION_KEYS)
        if not self._show(self.connection_error, problems):
            return
        if not self.gateway_url.text().strip():
            self.connection_status.setText("Chưa nhập địa chỉ hệ thống tỉnh.")
            return
        self.connection_status.setText("Đang kiểm tra…")
        self.test_btn.setEnabled(False)
        answers = self.answers()

        def done(probe: GatewayProbe) -> None:
            self.test_btn.setEnabled(True)
            self.connection_status.setText(describe_probe(probe))

        def failed(message: str, _detail: str) -> None:
            self.test_btn.setEnabled(True)
            self.connection_status.setText(message)

        self.runner.submit(lambda: check_connection(answers), done, failed)


def describe_probe(probe: GatewayProbe) -> str:
    if not probe.reachable:
        return "✗ " + " ".join(probe.errors + probe.warnings or ["Chưa kết nối được."])
    parts = ["✓ Kết nối được hệ thống tỉnh."]
    if probe.clock_skew_s is not None:
        parts.append(f"Đồng hồ lệch {abs(probe.clock_skew_s):.0f} giây.")
    if probe.token_ok:
        parts.append("✓ Mã xác thực được chấp nhận"
                     + (" và đúng quầy này." if probe.identity_checked else "."))
    parts += [f"✗ {e}" for e in probe.errors]
    parts += probe.warnings + probe.notes
    return " ".join(parts)


def run_first_setup(ctx: AppContext, parent: QWidget | None = None) -> bool:
    """Show the wizard; True when the station is set up."""
    wizard = FirstRunWizard(ctx, parent)
    wizard.exec()
    # Esc on the last page closes the wizard, but the station is set up all the same.
    return wizard.result_ is not None
