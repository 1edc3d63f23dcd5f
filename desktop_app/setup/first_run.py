"""First run on a counter PC without a provisioning file: what the wizard asks, checked
and applied through the same rules as `motcua provision` (one validator, one writer).

Two situations:
- a new station: agency, station digit, connection to the province, printing and
  retention, the technician's and the first clerk's accounts;
- a new counter joining a shared (LAN PostgreSQL) database whose agency is already set
  up: only its own station digit, token and printer; the accounts already exist.

The wizard can also apply a provisioning file the technician brings (`apply_file`)."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from desktop_app.accounts import AccountError, AccountService, ClerkInfo, Role, check_new_clerk
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.setup.apply import ApplyResult, apply_plan, check_existing
from desktop_app.setup.plan import ProvisionPlan
from desktop_app.setup.plan_file import check_plan, read_plan
from desktop_app.setup.probe import GatewayProbe, probe_plan
from desktop_app.station import DEFAULT_RETENTION_DAYS, StationInfo, StationService
from local_db import repositories as repo
from local_db.models import Station

log = logging.getLogger(__name__)

WIZARD_SOURCE = Path("trình-hướng-dẫn-thiết-lập")


@dataclass(frozen=True)
class SetupAnswers:
    """Everything the wizard's pages collect (the provisioning file's keys)."""

    agency_code: str = ""
    agency_name: str = ""
    parent_name: str = ""
    place_name: str = ""
    station_digit: int = 1
    receipt_page_size: str = "A4"
    tracking_url: str = ""
    gateway_url: str = ""
    ca_file: str = ""  # a PEM file the technician picked; copied into the data directory
    station_token: str = field(default="", repr=False)
    enrolment_code: str = field(default="", repr=False)
    printer: str = ""
    retention_days: int = DEFAULT_RETENTION_DAYS
    upload_limit_mb: int = 10

    def to_raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "agency_code": self.agency_code, "agency_name": self.agency_name,
            "parent_name": self.parent_name, "place_name": self.place_name,
            "station_digit": self.station_digit, "receipt_page_size": self.receipt_page_size,
            "retention_days": self.retention_days, "upload_limit_mb": self.upload_limit_mb,
        }
        optional = {"tracking_url": self.tracking_url, "gateway_url": self.gateway_url,
                    "ca_bundle": self.ca_file, "station_token": self.station_token,
                    "enrolment_code": self.enrolment_code, "printer": self.printer}
        raw.update({k: v.strip() for k, v in optional.items() if v.strip()})
        return raw


@dataclass(frozen=True)
class NewAccount:
    username: str
    full_name: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class TakenDigit:
    digit: int
    hostname: str


@dataclass(frozen=True)
class JoinInfo:
    """A shared database whose agency is set up, seen from a PC without its own digit."""

    station: StationInfo  # the agency's settings (its digit is the first PC's)
    taken: tuple[TakenDigit, ...]

    @property
    def free_digits(self) -> list[int]:
        used = {t.digit for t in self.taken}
        return [d for d in range(1, 10) if d not in used]


@dataclass
class SetupResult:
    applied: ApplyResult
    warnings: list[str]
    notes: list[str]
    accounts_created: list[str] = field(default_factory=list)


def join_info(ctx: AppContext) -> JoinInfo | None:
    """The agency already on this (shared) database, or None for a new station."""
    station = StationService(ctx).agency()
    if station is None:
        return None
    with ctx.db.read() as s:
        seats = s.scalars(select(Station).order_by(Station.station_digit)).all()
        taken = tuple(TakenDigit(r.station_digit, r.hostname) for r in seats
                      if r.install_id != ctx.paths.install_id())
    return JoinInfo(station, taken)


def answers_for_join(join: JoinInfo, digit: int, *, station_token: str = "",
                     enrolment_code: str = "", printer: str = "") -> SetupAnswers:
    s = join.station
    return SetupAnswers(
        agency_code=s.agency_code, agency_name=s.agency_name, parent_name=s.parent_name,
        place_name=s.place_name, station_digit=digit, receipt_page_size=s.receipt_page_size,
        tracking_url=s.tracking_url, gateway_url=s.gateway_url,
        # The CA copy lives in the first PC's data directory; another PC picks its own.
        ca_file=s.ca_bundle if s.ca_bundle and Path(s.ca_bundle).is_file() else "",
        station_token=station_token, enrolment_code=enrolment_code, printer=printer,
        retention_days=s.retention_days, upload_limit_mb=s.upload_limit_mb)


def check_answers(answers: SetupAnswers) -> ProvisionPlan:
    """The provisioning rules; raises `ProvisioningInvalid` listing every problem."""
    return check_plan(answers.to_raw(), WIZARD_SOURCE)


def check_accounts(ctx: AppContext, technician: NewAccount, clerk: NewAccount) -> None:
    """Both accounts valid, distinct and new, before either is created."""
    tech_user, _ = check_new_clerk(technician.username, technician.full_name,
                                   technician.password)
    clerk_user, _ = check_new_clerk(clerk.username, clerk.full_name, clerk.password)
    if tech_user == clerk_user:
        raise AccountError("Hai tài khoản phải có tên đăng nhập khác nhau.", "same username")
    with ctx.db.read() as s:
        for user in (tech_user, clerk_user):
            if repo.clerk_by_username(s, user) is not None:
                raise AccountError(f"Tên đăng nhập “{user}” đã có trên máy này.",
                                   f"username {user} exists")


def check_connection(answers: SetupAnswers) -> GatewayProbe:
    """Reachability, clock, token and station identity, without spending an enrolment
    code (it is single-use; it is exchanged when the wizard finishes)."""
    return probe_plan(check_answers(answers), enrol=False)


def finish(ctx: AppContext, answers: SetupAnswers, technician: NewAccount | None,
           clerk: NewAccount | None) -> SetupResult:
    """Check everything, then write: station settings, CA, token, accounts. Nothing is
    written when a check fails (DomainError with every problem in Vietnamese)."""
    plan = check_answers(answers)
    if technician is not None and clerk is not None:
        check_accounts(ctx, technician, clerk)
    elif not AccountService(ctx).has_clerks():
        raise AccountError("Hãy tạo tài khoản kỹ thuật viên và cán bộ tiếp nhận đầu tiên.",
                           "no accounts")
    return _check_and_apply(ctx, plan, technician, clerk)


def apply_file(ctx: AppContext, path: Path) -> SetupResult:
    """A provisioning file brought on a USB stick, exactly as `motcua provision` does it
    (except a LAN database URL, which must be applied before the app opens its database:
    that one needs the command)."""
    plan = read_plan(path)
    if plan.db_url:
        raise DomainError("Tệp này chuyển máy sang CSDL dùng chung (db_url): hãy chạy "
                          f"“motcua provision {path}” rồi mở lại ứng dụng.",
                          "db_url needs the command")
    return _check_and_apply(ctx, plan, None, None)


def _check_and_apply(ctx: AppContext, plan: ProvisionPlan, technician: NewAccount | None,
                     clerk: NewAccount | None) -> SetupResult:
    """What is on this PC, then the gateway (which spends an enrolment code), then the
    writes; nothing is written when either refuses."""
    errors, warnings = check_existing(ctx, plan)
    if errors:
        raise DomainError(" ".join(errors), "setup refused by existing data")
    probe = probe_plan(plan, enrol=True)
    if probe.errors:
        raise DomainError(" ".join(probe.errors), "setup refused by the gateway")
    result = SetupResult(apply_plan(ctx, plan, token=probe.token),
                         [*plan.warnings, *warnings, *probe.warnings], list(probe.notes))
    if technician is not None and clerk is not None:
        accounts = AccountService(ctx)
        tech: ClerkInfo = accounts.create_clerk(technician.username, technician.full_name,
                                                technician.password, Role.TECHNICIAN)
        accounts.create_clerk(clerk.username, clerk.full_name, clerk.password, Role.CLERK,
                              created_by=tech.id)
        result.accounts_created = [tech.username, clerk.username.strip().lower()]
    log.info("first setup done on %s: agency=%s digit=%d accounts=%d token=%s",
             socket.gethostname(), plan.station.agency_code, plan.station.station_digit,
             len(result.accounts_created), bool(result.applied.token_stored))
    return result

