"""Settings the province owns — scan profiles, the upload limit, fee schedules, signer
blocks — as they arrive from the gateway's versioned settings document.

A document is checked with the rules of each part (``sync_contract.settings_rules``, the
same ones the gateway checked before publishing it) and applied whole in one transaction,
or refused whole, keeping the settings before it. Who wins where both the province and
the commune's technician set something (README, "Cài đặt do tỉnh quản lý"):

- upload limit: the province's is a ceiling; a local limit above it is dropped (logged,
  and a notice for the technician), a stricter local one is kept;
- fee schedules: the province's lines replace the procedure's lines, whatever a catalog
  file said; fees recorded on dossiers already received never change (``dossier_fees``);
- scan profiles: the province's are locked; a local profile of the same name gives way
  (notice), the technician's other profiles stay; one the province withdraws stays,
  unlocked, as a local one;
- signer blocks: the province's block is the default; a block the commune set (F9,
  provisioning) is kept, since the province cannot know each commune's signer.

No new table: what was applied lives in ``sync_state``, province-written signer rows
carry ``PROVINCE_SIGNER`` as their author, province profiles are named in the stored
document."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from desktop_app.catalog import fee_row
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.scanning.model import ColourMode, ScanProfile
from desktop_app.scanning.profiles import check_profile
from desktop_app.signers import SignerBlock, check_block
from local_db import outbox
from local_db import repositories as repo
from local_db.models import Procedure, ProcedureFee, ScanProfileRow, SignerRow
from sync_contract import settings_rules

log = logging.getLogger(__name__)

ETAG_KEY = "province_settings_etag"
VERSION_KEY = "province_settings_version"
DOC_KEY = "province_settings_doc"
REFUSED_KEY = "province_settings_refused"
NOTICES_KEY = "province_settings_notices"
UPLOAD_KEY = "province_upload_limit"
SETTINGS_LOCK = "motcua.settings"
PROVINCE_SIGNER = "(tỉnh)"  # SignerRow.updated_by of a block the province wrote
MAX_NOTICES = 20
MIB = settings_rules.MIB
_FEE_FIELDS = ("code", "name", "kind", "note", "basis", "amount", "later_from_page",
               "later_amount", "cap_per_copy")


class SettingsRefused(DomainError):
    pass


@dataclass
class Outcome:
    """What one look at the province's settings did."""

    applied: bool = False  # a new version was applied
    version: str = ""
    changed: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # Vietnamese, for the technician


@dataclass(frozen=True)
class SettingsStatus:
    version: str
    published_at: str
    refused: dict[str, Any]  # {"version", "at", "problems"} of a refused document, or {}
    notices: list[dict[str, str]]  # [{"at", "text"}], newest last


def province_upload_limit(s: Session) -> int | None:
    value = outbox.get_state(s, UPLOAD_KEY, "")
    return int(value) if value.isdigit() else None


class ProvinceSettingsService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def etag(self) -> str:
        with self.ctx.db.read() as s:
            return outbox.get_state(s, ETAG_KEY, "")

    def status(self) -> SettingsStatus:
        with self.ctx.db.read() as s:
            doc = json.loads(outbox.get_state(s, DOC_KEY, "") or "{}")
            refused = json.loads(outbox.get_state(s, REFUSED_KEY, "") or "{}")
            notices = json.loads(outbox.get_state(s, NOTICES_KEY, "") or "[]")
        return SettingsStatus(str(doc.get("version", "")), str(doc.get("published_at", "")),
                              refused, notices)

    def profile_names(self) -> set[str]:
        """Scan profiles the province owns now (changed only by its next version)."""
        with self.ctx.db.read() as s:
            doc = json.loads(outbox.get_state(s, DOC_KEY, "") or "{}")
        return {str(p.get("name")) for p in doc.get("scan_profiles") or []}

    def upload_limit_bytes(self) -> int | None:
        with self.ctx.db.read() as s:
            return province_upload_limit(s)

    # --- receiving ---------------------------------------------------------------------

    def receive(self, doc: dict[str, Any] | None, etag: str, catalog_changed: bool = False
                ) -> Outcome:
        """Apply a document the gateway sent (``None``: unchanged since ``etag``, so only
        what the province owns is checked again). Refuses an invalid one whole."""
        if doc is not None and doc.get("version") == "":
            return Outcome()  # nothing published yet: every part is the commune's
        if doc is not None:
            extra = [k for k in doc if k not in settings_rules.DOCUMENT_KEYS]
            if extra:  # parts a newer gateway knows: the rest still applies
                log.warning("province settings: parts not known here ignored: %s", extra)
                doc = {k: v for k, v in doc.items() if k in settings_rules.DOCUMENT_KEYS}
            problems = settings_rules.document_problems(doc)
            if problems:
                self._refuse(doc, etag, problems)
        now = self.ctx.clock.now()
        if doc is None and not self._drifted(now, catalog_changed):
            return Outcome()  # the usual case: nothing to write, no write transaction
        with self.ctx.db.write(lock=SETTINGS_LOCK) as s:
            previous = json.loads(outbox.get_state(s, DOC_KEY, "") or "{}")
            if doc is None:
                if not previous.get("version"):
                    return Outcome()
                doc, new = previous, False
            else:
                new = doc != previous
            out = Outcome(applied=new, version=str(doc["version"]))
            _Apply(s, now, doc, previous, new, catalog_changed, out).run()
            if new:
                outbox.set_state(s, VERSION_KEY, out.version, now)
                outbox.set_state(s, DOC_KEY, json.dumps(doc, ensure_ascii=False,
                                                        sort_keys=True), now)
                outbox.set_state(s, REFUSED_KEY, "", now)
            if etag:
                outbox.set_state(s, ETAG_KEY, etag, now)
            if out.notices:
                kept = json.loads(outbox.get_state(s, NOTICES_KEY, "") or "[]")
                kept += [{"at": now.isoformat(timespec="seconds"), "text": t}
                         for t in out.notices]
                outbox.set_state(s, NOTICES_KEY, json.dumps(kept[-MAX_NOTICES:],
                                                            ensure_ascii=False), now)
            if new or out.changed:
                action = "province_settings_applied" if new else "province_settings_enforced"
                repo.add_audit(s, now, None, action, "province_settings", out.version, {
                    "version": out.version, "published_at": doc.get("published_at", ""),
                    "previous": previous.get("version", ""), "changed": out.changed,
                    "notices": len(out.notices)})
        if new:
            log.info("province settings %s applied: %s", out.version,
                     {k: v for k, v in out.changed.items() if v})
        elif out.changed:
            log.warning("province settings %s enforced again: %s", out.version, out.changed)
        return out

    def _drifted(self, now: datetime, catalog_changed: bool) -> bool:
        """Whether anything the applied document owns differs on this station now."""
        with self.ctx.db.read() as s:
            applied = json.loads(outbox.get_state(s, DOC_KEY, "") or "{}")
            if not applied.get("version"):
                return False
            probe = Outcome()
            _Apply(s, now, applied, applied, False, catalog_changed, probe, dry=True).run()
            return bool(probe.changed)

    def _refuse(self, doc: dict[str, Any], etag: str, problems: list[str]) -> None:
        """Keep what applies now; remember the refusal (and the ETag, so the same broken
        document is not fetched and refused on every run), for the technician."""
        version = str(doc.get("version", ""))[:40]
        now = self.ctx.clock.now()
        with self.ctx.db.write(lock=SETTINGS_LOCK) as s:
            outbox.set_state(s, REFUSED_KEY, json.dumps(
                {"version": version, "at": now.isoformat(timespec="seconds"),
                 "problems": problems[:8]}, ensure_ascii=False), now)
            if etag:
                outbox.set_state(s, ETAG_KEY, etag, now)
            repo.add_audit(s, now, None, "province_settings_refused", "province_settings",
                           version, {"version": version, "problems": len(problems)})
        log.warning("province settings %r refused: %d problem(s), first: %s", version,
                    len(problems), problems[0])
        raise SettingsRefused(
            f"Cài đặt do tỉnh gửi (phiên bản {version or '?'}) không hợp lệ nên chưa áp dụng; "
            f"máy vẫn dùng cài đặt trước đó. Hãy báo tỉnh: {problems[0]}"
            + (f" (và {len(problems) - 1} lỗi khác)." if len(problems) > 1 else "."),
            f"province settings {version!r} refused: {len(problems)} problem(s)")


class _Apply:
    """One application of a checked document inside the caller's transaction; fills
    ``out.changed`` with names only (profiles, procedure codes, form numbers). ``dry``
    only finds what would change, in a read transaction."""

    def __init__(self, s: Session, now: datetime, doc: dict[str, Any],
                 previous: dict[str, Any], new: bool, catalog_changed: bool,
                 out: Outcome, dry: bool = False) -> None:
        self.s, self.now, self.doc, self.previous, self.new = s, now, doc, previous, new
        self.catalog_changed, self.out, self.dry = catalog_changed, out, dry

    def run(self) -> None:
        self.upload_limit()
        self.profiles()
        self.fees()
        self.signers()
        self.out.changed = {k: v for k, v in self.out.changed.items() if v}

    def note(self, text: str, detail: str) -> None:
        if not self.dry:
            self.out.notices.append(text)
            log.warning("province settings: %s", detail)

    def upload_limit(self) -> None:
        limit = self.doc.get("upload_limit_bytes")
        before = province_upload_limit(self.s)
        if limit != before:
            if not self.dry:
                outbox.set_state(self.s, UPLOAD_KEY, "" if limit is None else str(limit),
                                 self.now)
            self.out.changed["upload_limit"] = True
        station = repo.get_station(self.s)
        if limit is None or station is None:
            return
        ceiling_mb = math.ceil(limit / MIB)
        if station.upload_limit_mb > ceiling_mb:
            self.note(f"Giới hạn dung lượng mỗi tệp đặt trên máy này ({station.upload_limit_mb}"
                      f" MB) vượt mức của tỉnh ({limit / MIB:g} MB); đã dùng mức của tỉnh.",
                      f"local upload limit {station.upload_limit_mb} MB above the "
                      f"province's {limit} bytes: dropped")
            if not self.dry:
                station.upload_limit_mb = ceiling_mb
            self.out.changed["upload_limit_local_dropped"] = True

    def profiles(self) -> None:
        wanted = self.doc.get("scan_profiles") or []
        before = {p["name"] for p in self.previous.get("scan_profiles") or []}
        changed: list[str] = []
        for values in wanted:
            profile = _profile(values)
            row = self.s.get(ScanProfileRow, profile.name)
            stored = asdict(profile) | {"mode": profile.mode.value}
            if row is not None and all(getattr(row, k) == v for k, v in stored.items()):
                continue
            changed.append(profile.name)
            if self.dry:
                continue
            if row is None:
                self.s.add(ScanProfileRow(**stored, updated_at=self.now))
                continue
            if profile.name not in before:
                self.note(f"Hồ sơ quét “{profile.name}” của máy này trùng tên với hồ sơ quét "
                          "của tỉnh; đã thay bằng hồ sơ của tỉnh (khóa).",
                          f"local scan profile {profile.name} replaced by the province's")
            elif not self.new:
                self.note(f"Hồ sơ quét “{profile.name}” do tỉnh quản lý đã bị sửa trên máy "
                          "này; đã đặt lại theo tỉnh.",
                          f"province scan profile {profile.name} edited locally: restored")
            for key, value in stored.items():
                setattr(row, key, value)
            row.updated_at = self.now
        names = {str(v["name"]) for v in wanted}
        withdrawn = sorted(before - names)
        for name in withdrawn:
            # Withdrawn by the province: kept, unlocked, as this station's own profile
            # (a clerk's unfinished work may name it).
            row = self.s.get(ScanProfileRow, name)
            if row is not None and not self.dry:
                row.locked = False
        self.out.changed["scan_profiles"] = changed
        self.out.changed["scan_profiles_withdrawn"] = withdrawn

    def fees(self) -> None:
        schedules = self.doc.get("fee_schedules") or {}
        before = set(self.previous.get("fee_schedules") or {})
        changed: list[str] = []
        waiting: list[str] = []
        procedures = {p.code: p for p in self.s.scalars(
            select(Procedure).where(Procedure.code.in_(list(schedules)))
            .options(selectinload(Procedure.fees)))} if schedules else {}
        for code, lines in schedules.items():
            proc = procedures.get(code)
            if proc is None:  # applied once the catalog brings it (checked at every pull)
                waiting.append(code)
                continue
            rows = [fee_row(line, pos) for pos, line in enumerate(lines)]
            if [_fee_key(f) for f in proc.fees] == [_fee_key(f) for f in rows]:
                continue
            if not self.new and code in before and not self.catalog_changed:
                self.note(f"Biểu phí của thủ tục {code} trên máy này khác biểu phí của tỉnh; "
                          "đã dùng biểu phí của tỉnh.",
                          f"fees of {code} differed from the province's: replaced")
            changed.append(code)
            if self.dry:
                continue
            # The procedure's schedule only: fees recorded on received dossiers are their
            # own rows (dossier_fees) and stay as they were assessed.
            proc.fees.clear()
            self.s.flush()
            proc.fees.extend(rows)
        self.out.changed["fee_schedules"] = changed
        self.out.changed["fee_schedules_waiting_for_catalog"] = waiting if self.new else []

    def signers(self) -> None:
        blocks = self.doc.get("signers") or {}
        station = repo.get_station(self.s)
        if not blocks or station is None:
            return
        changed: list[str] = []
        kept: list[str] = []
        for form, raw in sorted(blocks.items()):
            block = check_block(SignerBlock(**{k: raw.get(k, "") for k in
                                               settings_rules.SIGNER_KEYS}),
                                require_name=False)
            row = self.s.get(SignerRow, (station.agency_code, form))
            if row is not None and row.updated_by != PROVINCE_SIGNER:
                kept.append(form)  # the commune's own signer: the province cannot know it
                continue
            values = (block.authority, block.delegation, block.title, block.name)
            if row is not None and (row.authority, row.delegation, row.title,
                                    row.name) == values:
                continue
            changed.append(form)
            if self.dry:
                continue
            if row is None:
                row = SignerRow(agency_code=station.agency_code, kind=form)
                self.s.add(row)
            row.authority, row.delegation, row.title, row.name = values
            row.updated_at, row.updated_by = self.now, PROVINCE_SIGNER
        if kept and self.new and not self.dry:
            log.info("province settings: signer blocks of forms %s kept (set on this station)",
                     kept)
        self.out.changed["signers"] = changed
        self.out.changed["signers_kept_local"] = kept if self.new else []


def _profile(values: dict[str, Any]) -> ScanProfile:
    """A province profile as stored here: checked, always locked."""
    known = {k: values[k] for k in settings_rules.PROFILE_KEYS if k in values}
    if "mode" in known:
        known["mode"] = ColourMode(known["mode"])
    return check_profile(ScanProfile(**{**known, "locked": True}))


def _fee_key(f: ProcedureFee) -> tuple[Any, ...]:
    return tuple(getattr(f, k) or (0 if k in settings_rules.FEE_NUMBERS else "")
                 for k in _FEE_FIELDS)
