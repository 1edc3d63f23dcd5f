"""What the province's gateway says about a provisioning plan, in the technician's words:
`sync.link` asks (health, clock, token, whose token, enrolment), this module turns the
answer into errors (the plan must not be applied), warnings and notes.

An unreachable gateway is a warning, not an error: communes provision offline."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.setup.plan import ProvisionPlan
from desktop_app.sync.client import Timeout
from desktop_app.sync.link import PROBE_TIMEOUT, Enrolment, EnrolState, LinkCheck, check_link


@dataclass
class GatewayProbe:
    link: LinkCheck | None = None  # None: the plan names no gateway
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        return self.link is not None

    @property
    def reachable(self) -> bool:
        return self.link is not None and self.link.reachable

    @property
    def token_ok(self) -> bool | None:
        return self.link.token_accepted if self.link is not None else None

    @property
    def identity_checked(self) -> bool:
        return self.link is not None and self.link.identity_said is True

    @property
    def clock_skew_s(self) -> float | None:
        return self.link.skew_s if self.link is not None else None

    @property
    def token(self) -> str:
        """The token obtained from an enrolment code (the caller must keep it: the code
        is spent)."""
        link = self.link
        return link.token if link is not None and link.enrol == EnrolState.EXCHANGED else ""


def probe_plan(plan: ProvisionPlan, *, enrol: bool = True,
               timeout: Timeout = PROBE_TIMEOUT) -> GatewayProbe:
    """Ask the plan's gateway, with the plan's CA (inline or from its file) in a temporary
    file, so nothing is written to the data directory before the plan is applied. An
    enrolment code is single-use: it is exchanged only with ``enrol`` (not in a dry run
    or a connection test)."""
    station = plan.station
    if not station.gateway_url:
        return GatewayProbe()
    enrolment = (Enrolment(station.agency_code, station.station_digit, plan.enrolment_code)
                 if plan.enrolment_code and not plan.token else None)
    with tempfile.TemporaryDirectory(prefix="motcua-provision-") as tmp:
        ca_file = ""
        if plan.ca_pem:
            ca_file = str(Path(tmp) / "ca.pem")
            Path(ca_file).write_text(plan.ca_pem, encoding="ascii")
        link = check_link(station.gateway_url, plan.token, ca_file, enrolment=enrolment,
                          spend_enrolment=enrol, timeout=timeout)
    return _words(plan, link)


def _words(plan: ProvisionPlan, link: LinkCheck) -> GatewayProbe:
    probe = GatewayProbe(link)
    station = plan.station
    if not link.reachable:
        probe.warnings.append(
            ("Không xác thực được chứng chỉ của hệ thống tỉnh (kiểm tra chứng chỉ CA và "
             "đồng hồ máy)" if link.tls_error else "Không kết nối được hệ thống một cửa của tỉnh")
            + f" ({station.gateway_url}). Cấu hình vẫn dùng được; quầy sẽ đồng bộ khi "
              "có mạng. Chạy “motcua doctor” để kiểm tra lại.")
        return probe
    if link.clock_off and link.skew_s is not None:
        probe.warnings.append(
            f"Đồng hồ máy này lệch {abs(link.skew_s) / 60:.0f} phút so với hệ "
            "thống tỉnh; hãy chỉnh giờ (giờ tiếp nhận và ngày hẹn in trên phiếu dùng "
            "đồng hồ máy).")
    if link.enrol == EnrolState.DEFERRED:
        probe.notes.append("Mã đăng ký chỉ dùng được một lần nên chưa đổi khi chạy "
                           "thử; sẽ đổi lấy mã xác thực khi áp dụng.")
    elif link.enrol == EnrolState.FAILED:
        probe.warnings.append("Chưa đổi được mã đăng ký lấy mã xác thực (mất kết nối); hãy "
                              "chạy lại lệnh provision khi có mạng.")
    elif link.enrol == EnrolState.UNSUPPORTED:
        probe.warnings.append("Hệ thống tỉnh chưa hỗ trợ mã đăng ký (enrolment_code); hãy xin "
                              "tỉnh mã xác thực của quầy (station_token). Quầy chưa đồng bộ "
                              "được.")
    elif link.enrol == EnrolState.REFUSED:
        probe.errors.append(f"enrolment_code: hệ thống tỉnh từ chối mã đăng ký "
                            f"({link.enrol_detail}); mã sai, hết hạn hoặc đã dùng.")
    if not link.token:
        return probe
    if link.token_accepted is False:
        probe.errors.append("station_token: hệ thống tỉnh không chấp nhận mã xác thực này "
                            "(sai mã hoặc đã bị thu hồi); hãy xin tỉnh cấp lại.")
    elif link.token_accepted is None:
        probe.warnings.append("Hệ thống tỉnh chưa kiểm tra được mã xác thực "
                              f"({link.token_error_vi}); sẽ kiểm tra khi đồng bộ.")
    elif link.identity_said is False:
        probe.notes.append("Hệ thống tỉnh không cho biết mã xác thực thuộc quầy nào; chưa "
                           "kiểm tra được số hiệu quầy có trùng với máy khác không.")
    elif link.issued_to is not None and not link.token_is_for(station.agency_code,
                                                                station.station_digit):
        agency, digit = link.issued_to
        probe.errors.append(
            f"station_digit: mã xác thực này tỉnh cấp cho quầy {digit} của cơ quan {agency}, "
            f"không phải quầy {station.station_digit} của {station.agency_code}. Mỗi máy cần "
            "số hiệu quầy và mã xác thực riêng; hai máy cùng số hiệu sẽ cấp trùng mã hồ sơ.")
    return probe
