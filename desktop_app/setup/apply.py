"""Applying a checked provisioning plan to a counter PC, in one go: the provincial CA
bundle (copied into the data directory, so the USB stick can leave), the station settings
(with the retention period, this PC's receipt printer and its QR scanner's prefix and
suffix), the LAN database URL, the station token (OS keyring or a 0600 file; never
printed, never logged), the technician account and the locked scan profiles. Applying
the same plan again gives the same result.

Before that, `check_existing` compares the plan with what is already on this machine (or
on the shared database): a digit another PC holds is an error."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select

from desktop_app.accounts import ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.data_key import DataKeyStore
from desktop_app.digitization import DigitizationService
from desktop_app.domain.errors import DomainError
from desktop_app.files import write_atomically
from desktop_app.key_escrow import escrow_file, make_escrow
from desktop_app.passwords import hash_password
from desktop_app.paths import DB_URL_FILE
from desktop_app.province_settings import ProvinceSettingsService
from desktop_app.setup.plan import ProvisionPlan, TechnicianSpec
from desktop_app.signers import SignerService
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.client import GatewayClient
from desktop_app.sync.service import SyncService
from desktop_app.sync.update_settings import remember_update_settings
from local_db import repositories as repo
from local_db.models import Clerk, DailyCounter, Station

log = logging.getLogger(__name__)

CA_FILE = Path("ca") / "provincial-ca.pem"
_OTP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def check_existing(ctx: AppContext, plan: ProvisionPlan, force: bool = False
                   ) -> tuple[list[str], list[str]]:
    """(errors, warnings) from the settings and dossier codes already in the database."""
    errors: list[str] = []
    warnings: list[str] = []
    station = plan.station
    shared = not ctx.db.is_sqlite
    try:
        current = StationService(ctx).get()
        with ctx.db.read() as s:
            series = set(s.scalars(select(DailyCounter.series).distinct()))
    except Exception as exc:  # a schema behind head: nothing to compare with
        log.info("provisioning: existing settings unreadable: %s", type(exc).__name__)
        return errors, warnings
    if plan.technician is not None:
        with ctx.db.read() as s:
            row = repo.clerk_by_username(s, plan.technician.username)
            role = row.role if row is not None else None
        if role is not None and role != "technician":
            errors.append(f"technician.username: tên đăng nhập “{plan.technician.username}” "
                          "đã là tài khoản của một cán bộ (không phải kỹ thuật viên); hãy chọn "
                          "tên khác.")
    used = sorted({int(name.rsplit("-", 1)[1]) for name in series
                   if re.fullmatch(r"dossier-[1-9]", name)})
    if shared:
        # Several counters on one database: each PC has its own row (its digit); the
        # agency's settings are shared by all of them.
        install = ctx.paths.install_id(create=False)
        with ctx.db.read() as s:
            taken = s.scalar(select(Station.hostname).where(
                Station.station_digit == station.station_digit, Station.install_id != install))
            agency = repo.get_station(s)
            agency_code = agency.agency_code if agency is not None else None
        if taken is not None:
            errors.append(f"station_digit: số hiệu quầy {station.station_digit} đã được máy "
                          f"“{taken}” dùng trên CSDL chung này; mỗi quầy cần một số "
                          "hiệu riêng (1–9) để mã hồ sơ không trùng.")
        if agency_code is not None and agency_code != station.agency_code:
            message = (f"CSDL dùng chung này thuộc cơ quan {agency_code}; ghi đè sẽ đổi cơ quan "
                       f"của mọi quầy dùng chung sang {station.agency_code}.")
            if force:
                warnings.append(message + " (đã ghi đè theo --force)")
            else:
                errors.append("agency_code: " + message + " Dùng --force nếu thật sự muốn.")
    elif current is not None and (current.agency_code, current.station_digit) != (
            station.agency_code, station.station_digit):
        who = f"quầy {current.station_digit} của cơ quan {current.agency_code}"
        warnings.append(f"Máy này trước đây là {who}; các hồ sơ đã tiếp nhận giữ nguyên "
                        "mã cũ.")
    elif not shared:
        others = [d for d in used if d != station.station_digit]
        if others and current is None:
            warnings.append("CSDL trên máy này đã có hồ sơ cấp mã từ quầy "
                            f"{', '.join(map(str, others))}: có thể là bản sao dữ liệu của máy "
                            "khác. Hãy kiểm tra để không hai máy cùng một số hiệu quầy.")
    return errors, warnings


# --- applying ---------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    station: StationInfo
    ca_path: str = ""
    db_url_path: str = ""
    token_stored: str = ""  # "keyring", the file path, or "" (no token)
    technician: str = ""
    technician_action: str = ""  # created | updated | kept
    one_time_password: str = field(default="", repr=False)
    profiles: list[str] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)  # form numbers set
    # The data key's recovery code: shown once to the technician, stored nowhere.
    recovery_code: str = field(default="", repr=False)
    escrow_sent: bool = False  # the wrapped key reached the province


def one_time_password() -> str:
    raw = "".join(secrets.choice(_OTP_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def apply_plan(ctx: AppContext, plan: ProvisionPlan, token: str = "") -> ApplyResult:
    """Write everything the plan holds. ``token`` overrides the plan's (enrolment)."""
    root: Path = ctx.paths.root
    station = plan.station
    result = ApplyResult(station)
    if plan.ca_pem:
        ca_path = root / CA_FILE
        ca_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(ca_path, plan.ca_pem)
        station = replace(station, ca_bundle=str(ca_path))
        result.ca_path = str(ca_path)
    result.station = StationService(ctx).save(station)
    if plan.db_url:
        path = root / DB_URL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, plan.db_url + "\n", mode=0o600)
        result.db_url_path = str(path)
    token = token or plan.token
    if token:
        result.token_stored = SyncService(ctx).set_token(token)
    if token or not escrow_file(root).exists():
        result.recovery_code, result.escrow_sent = escrow_data_key(ctx, result.station, token)

    by: ClerkInfo | None = None
    if plan.technician is not None:
        by, result.technician_action, result.one_time_password = _technician(ctx,
                                                                            plan.technician)
        result.technician = by.username
    if plan.profiles:
        # Saved as a technician; the audit names the technician account when there is one.
        who = by or ClerkInfo(None, "provision", "Cấu hình từ tệp",  # type: ignore[arg-type]
                              Role.TECHNICIAN)
        service = DigitizationService(ctx)
        province = ProvinceSettingsService(ctx).profile_names()
        for profile in plan.profiles:
            if profile.name in province:  # the province's version stands
                log.warning("provisioning: scan profile %s is the province's: not changed",
                            profile.name)
                continue
            service.save_profile(profile, who)
            result.profiles.append(profile.name)
    if plan.release_public_key or plan.update_max_kbps is not None:
        remember_update_settings(ctx, plan.release_public_key, plan.update_max_kbps)
    signers = SignerService(ctx, station.agency_code)
    for kind, block in plan.signers:
        signers.save(kind, block, by=by.username if by else "provision")
        result.signers.append(kind.value)
    now = ctx.clock.now()
    with ctx.db.write() as s:
        repo.add_audit(s, now, by.id if by else None, "station_provisioned", "station", "1", {
            "file": plan.source.name, "file_sha256": plan.source_sha256,
            "token": "keyring" if result.token_stored == "keyring"
            else ("file" if result.token_stored else "none"),
            "ca_bundle": bool(plan.ca_pem), "db_url": bool(plan.db_url),
            "profiles": result.profiles, "technician": result.technician,
            "signers": result.signers, "key_escrow_sent": result.escrow_sent,
            "retention_days": station.retention_days, "printer": station.printer,
            "scanner_prefix": station.scanner_prefix, "scanner_suffix": station.scanner_suffix,
            "release_public_key": plan.release_public_key})
    log.info("station provisioned: agency=%s digit=%d profiles=%d technician=%s token=%s "
             "ca=%s", result.station.agency_code, result.station.station_digit,
             len(result.profiles), result.technician_action or "none",
             "keyring" if result.token_stored == "keyring"
             else ("file" if result.token_stored else "none"), bool(plan.ca_pem))
    return result


def escrow_data_key(ctx: AppContext, station: StationInfo, token: str) -> tuple[str, bool]:
    """A new recovery code, the data key wrapped under it beside the data and, with a
    token, at the province. An unreachable gateway leaves the local copy only (the
    technician still gets the code; provisioning again sends it)."""
    escrow = make_escrow(ctx.paths.root, DataKeyStore(ctx.paths.root).get_or_create())
    if not (token and station.gateway_url):
        return escrow.code, False
    client = GatewayClient(station.gateway_url, token, station.ca_bundle)
    try:
        client.put_key_escrow(escrow.envelope)
    except DomainError as exc:
        log.warning("key escrow not sent to the gateway: %s", exc.detail)
        return escrow.code, False
    finally:
        client.close()
    return escrow.code, True


def _technician(ctx: AppContext, spec: TechnicianSpec) -> tuple[ClerkInfo, str, str]:
    now = ctx.clock.now()
    password = ""
    with ctx.db.write() as s:
        row = repo.clerk_by_username(s, spec.username)
        if row is None:
            if not spec.password_hash:
                password = one_time_password()
            row = Clerk(username=spec.username, full_name=spec.full_name,
                        role=Role.TECHNICIAN.value,
                        password_hash=spec.password_hash or hash_password(password),
                        active=True, must_change_password=bool(password), created_at=now)
            s.add(row)
            s.flush()
            action = "created"
        elif spec.password_hash:
            row.password_hash = spec.password_hash
            row.full_name, row.role, row.active = spec.full_name, Role.TECHNICIAN.value, True
            action = "updated"
        else:
            row.full_name, row.role, row.active = spec.full_name, Role.TECHNICIAN.value, True
            action = "kept"  # its password stays: re-provisioning does not lock anyone out
        repo.add_audit(s, now, None, f"technician_{action}", "clerk", str(row.id),
                       {"username": spec.username, "one_time_password": bool(password)})
        info = ClerkInfo(row.id, row.username, row.full_name, Role.TECHNICIAN)
    return info, action, password
