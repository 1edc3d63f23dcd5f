"""Pull from the gateway: processing status changes (so the return counter knows a result
is ready), the procedure catalog, holiday overrides, clerk accounts and the settings the
province owns.

Each page of changes is applied in the same transaction that advances the stored cursor,
so a crash between the two cannot skip or repeat a change."""

from __future__ import annotations

import logging
from datetime import date, datetime
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from desktop_app.appointments import ChangeKind, change_appointment
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.province_settings import ProvinceSettingsService, SettingsRefused
from desktop_app.station import StationService
from desktop_app.sync import bundle_keys
from desktop_app.sync.client import GatewayClient, Refused, SyncError
from desktop_app.sync.report import SyncReport
from desktop_app.sync.result_fetch import store_result_documents
from local_db import outbox
from local_db import repositories as repo
from local_db.models import CalendarOverrideRow, Clerk
from sync_contract import wire

log = logging.getLogger(__name__)

CURSOR = "changes_cursor"
CATALOG_ETAG = "catalog_etag"
CALENDAR_ETAG = "calendar_etag"
CLERKS_ETAG = "clerks_etag"
SUPPLEMENT_REQUESTED = int(DossierStatus.SUPPLEMENT_REQUESTED)
# Counters sharing one PostgreSQL server pull the same reference data; each replace runs
# under its lock so two pulls at once queue instead of inserting the same keys twice.
CHANGES_LOCK = "motcua.changes"
CALENDAR_LOCK = "motcua.calendar"
CLERKS_LOCK = "motcua.clerks"


def parse_national(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S") if value else None
    except ValueError:
        return None


class Puller:
    def __init__(self, ctx: AppContext, client: GatewayClient) -> None:
        self.ctx = ctx
        self.client = client

    def _state(self, key: str, default: str = "") -> str:
        with self.ctx.db.read() as s:
            return outbox.get_state(s, key, default)

    def pull(self, report: SyncReport) -> None:
        report.changes_pulled += self.pull_changes()
        report.catalog_updated = self.pull_catalog()
        report.calendar_updated = self.pull_calendar()
        report.clerks_updated = self.pull_clerks()
        report.settings_updated = self.pull_settings(report)
        self.register_bundle_key()

    def register_bundle_key(self) -> None:
        """Once per counter: the USB bundle signing key to the gateway, and the province's
        recipient back. A gateway without the endpoint only delays USB export."""
        try:
            bundle_keys.ensure_registered(self.ctx, self.client.register_bundle_key)
        except SyncError as exc:
            log.warning("bundle signing key not registered: %s", exc.detail)

    def pull_changes(self) -> int:
        cursor = int(self._state(CURSOR, "0") or 0)
        applied = 0
        while True:
            body = self.client.changes(cursor)
            now = self.ctx.clock.now()
            with self.ctx.db.write(lock=CHANGES_LOCK) as s:
                stored = int(outbox.get_state(s, CURSOR, "0") or 0)
                if stored != cursor:
                    # Another counter on this server applied the feed meanwhile: applying
                    # this page too would record each appointment change twice.
                    log.info("change feed moved on (cursor %d -> %d): page not applied",
                             cursor, stored)
                    cursor = stored
                    continue
                for change in body.changes:
                    applied += self._apply(s, change, now)
                outbox.set_state(s, CURSOR, str(body.cursor), now)
            cursor = body.cursor
            if not body.more or not body.changes:
                return applied

    @staticmethod
    def _apply(s: Session, change: wire.Change, now: datetime) -> int:
        dossier = repo.dossier_by_uuid(s, change.ClientId)
        if dossier is None:
            log.info("change %d for a dossier not on this station (%d result documents "
                     "ignored)", change.seq, len(change.DanhSachGiayToKetQua))
            return 0
        store_result_documents(s, dossier, change, now)
        before = dossier.status
        new_date = parse_national(change.NgayHenTraMoi)
        if before == change.TrangThaiHoSo and new_date is None:
            # e.g. the gateway's own record of receiving it: keep the note, no event.
            dossier.remote_note = change.NoiDungXuLy
            return 0
        dossier.status = change.TrangThaiHoSo
        at = parse_national(change.ThoiDiem) or now
        dossier.remote_status_at = at
        dossier.remote_note = change.NoiDungXuLy
        if new_date is not None and new_date != dossier.current_appointment_at:
            # A new receipt after the supplement the province asked for restarts the
            # clock; any other date (an extension) leaves the legal deadline where it is.
            kind = (ChangeKind.SUPPLEMENT if before == SUPPLEMENT_REQUESTED
                    and change.TrangThaiHoSo != SUPPLEMENT_REQUESTED else ChangeKind.PROVINCE)
            change_appointment(dossier, kind, new_date, at,
                               change.NoiDungXuLy, None, change.NguoiXuLy)
        dossier.updated_at = now
        repo.add_audit(s, now, None, "status_pulled", "dossier", dossier.uuid,
                       {"seq": change.seq, "from": before, "to": change.TrangThaiHoSo,
                        "note": change.NoiDungXuLy, "by": change.NguoiXuLy,
                        "at": change.ThoiDiem, "new_appointment": change.NgayHenTraMoi,
                        "result_ready_at": change.NgayCoKetQua})
        return 1

    def pull_catalog(self) -> bool:
        fetched = self.client.fetch(wire.CATALOG, wire.Catalog, self._state(CATALOG_ETAG))
        if fetched.body is None:
            return False
        CatalogService(self.ctx).import_data(fetched.body.model_dump())
        with self.ctx.db.write() as s:
            outbox.set_state(s, CATALOG_ETAG, fetched.etag, self.ctx.clock.now())
        return True

    def pull_calendar(self) -> bool:
        fetched = self.client.fetch(wire.CALENDAR, wire.CalendarBody,
                                    self._state(CALENDAR_ETAG))
        if fetched.body is None:
            return False
        assert isinstance(fetched.body, wire.CalendarBody)
        now = self.ctx.clock.now()
        with self.ctx.db.write(lock=CALENDAR_LOCK) as s:
            repo.delete_all_calendar_overrides(s)
            for o in fetched.body.overrides:
                s.add(CalendarOverrideRow(day=date.fromisoformat(o.day), kind=o.kind,
                                          note=o.note))
            outbox.set_state(s, CALENDAR_ETAG, fetched.etag, now)
            repo.add_audit(s, now, None, "calendar_pulled", "calendar",
                           fetched.body.version, {"overrides": len(fetched.body.overrides)})
        self.ctx.invalidate_calendar()
        return True

    def pull_clerks(self) -> int:
        """The agency's accounts as offline login needs them (an inactive one comes
        without its hash, and the one stored here is dropped with it)."""
        agency = StationService(self.ctx).agency()
        # The gateway answers only for the token's own agency (403 for another one).
        path = (f"{wire.CLERKS}?{urlencode({'agency': agency.agency_code})}"
                if agency is not None else wire.CLERKS)
        fetched = self.client.fetch(path, wire.ClerksBody, self._state(CLERKS_ETAG))
        if fetched.body is None:
            return 0
        assert isinstance(fetched.body, wire.ClerksBody)
        now = self.ctx.clock.now()
        changed = 0
        with self.ctx.db.write(lock=CLERKS_LOCK) as s:
            for account in fetched.body.clerks:
                row = repo.clerk_by_username(s, account.username)
                if row is None:
                    s.add(Clerk(username=account.username, full_name=account.full_name,
                                role=account.role, password_hash=account.password_hash,
                                active=account.active, from_province=True, created_at=now))
                    changed += 1
                elif (row.full_name, row.role, row.password_hash, row.active,
                      row.from_province) != (account.full_name, account.role,
                                             account.password_hash, account.active, True):
                    row.full_name, row.role = account.full_name, account.role
                    row.password_hash, row.active = account.password_hash, account.active
                    # The province owns this account from now on (and its password).
                    row.from_province, row.must_change_password = True, False
                    changed += 1
            outbox.set_state(s, CLERKS_ETAG, fetched.etag, now)
            if changed:
                repo.add_audit(s, now, None, "clerks_pulled", "clerk", fetched.body.version,
                               {"changed": changed})
        return changed

    def pull_settings(self, report: SyncReport) -> bool:
        """The settings the province owns (scan profiles, upload limit, fee schedules,
        signer blocks): a new version is checked and applied whole, an invalid one
        refused whole; on 304 what the province owns is checked again, so a catalog
        refresh or a local edit is set back (``desktop_app.province_settings``)."""
        service = ProvinceSettingsService(self.ctx)
        try:
            fetched = self.client.fetch(wire.PROVINCE_SETTINGS, wire.ProvinceSettings,
                                        service.etag())
        except Refused as exc:
            if exc.status != 404:
                raise
            log.info("gateway serves no province settings (older gateway)")
            return False
        body = fetched.body.model_dump() if fetched.body is not None else None
        try:
            outcome = service.receive(body, fetched.etag, report.catalog_updated)
        except SettingsRefused as exc:
            report.errors.append(exc.message_vi)
            return False
        report.notices += outcome.notices
        return outcome.applied
