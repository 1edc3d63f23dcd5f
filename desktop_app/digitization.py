"""Digitized files in the local store: scan profiles, the per-file rules of this station,
storing finished PDFs in the blob store and linking them to dossier components.

Linking is one transaction (component files + audit + outbox); a file that is re-digitized
is superseded, never deleted, so nothing disappears behind the clerk's back."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from desktop_app.accounts import ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.province_settings import ProvinceSettingsService
from desktop_app.scanning.model import (
    MAX_DPI,
    MIN_DPI,
    MIN_JPEG_QUALITY,
    ColourMode,
    DigitizationRules,
    OutputPart,
    ScanProfile,
)
from desktop_app.scanning.profiles import BUILTIN_PROFILES, UnknownProfile, check_profile
from desktop_app.scanning.sources.registry import configured_hot_folders
from desktop_app.station import StationService
from desktop_app.sync.national import dossier_document
from local_db import repositories as repo
from local_db.models import ComponentFile, ComponentReuse, DossierComponent, ScanProfileRow

log = logging.getLogger(__name__)

PDF = "application/pdf"


class ProfileLocked(DomainError):
    pass


class ComponentNotFound(DomainError):
    pass


@dataclass(frozen=True)
class DigitizedFile:
    """A finished PDF (or one part of it) already in the blob store, not yet or already
    linked to a component."""

    sha256: str
    file_name: str
    part: int
    parts: int
    pages: int
    size: int
    dpi: int
    modes: tuple[str, ...]
    profile: str = ""
    # A reused earlier copy (desktop_app.intake.reuse): the original component file at
    # this station and its dossier code (MaKetQuaThayThe); None / "" for a new scan.
    reused_from: int | None = None
    source_code: str = ""
    # "province": a copy the province holds (no file at this station to point at).
    source_kind: str = "component"

    @property
    def is_reuse(self) -> bool:
        return bool(self.source_code) and (self.reused_from is not None
                                          or self.source_kind == "province")

    @property
    def label_vi(self) -> str:
        part = f", phần {self.part}/{self.parts}" if self.parts > 1 else ""
        return f"{self.pages} trang, {self.dpi} dpi, {self.size / 1_048_576:.1f} MB{part}"


@dataclass(frozen=True)
class ComponentFileInfo:
    id: int
    component_position: int
    component_name: str
    file: DigitizedFile
    clerk_name: str
    created_at_iso: str
    superseded: bool


def _profile_from_row(row: ScanProfileRow) -> ScanProfile:
    # Earlier versions let provisioning store 50 dpi and quality 10: such a row is read
    # at the legal floors, never below them.
    dpi = min(max(row.dpi, MIN_DPI), MAX_DPI)
    quality = min(max(row.jpeg_quality, MIN_JPEG_QUALITY), 100)
    if (dpi, quality) != (row.dpi, row.jpeg_quality):
        log.warning("scan profile %s: dpi %d, quality %d read as %d, %d", row.name, row.dpi,
                    row.jpeg_quality, dpi, quality)
    return ScanProfile(row.name, row.label_vi, dpi=dpi, mode=ColourMode(row.mode),
                       duplex=row.duplex, page_size=row.page_size, drop_blank=row.drop_blank,
                       deskew=row.deskew, crop_borders=row.crop_borders,
                       jpeg_quality=quality, locked=row.locked,
                       paper=row.paper or "auto", ocr=row.ocr)


class DigitizationService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # --- settings --------------------------------------------------------------------

    def rules(self) -> DigitizationRules:
        """The per-file limit: the station's (provisioning, F9), never above the one the
        province publishes in its settings."""
        station = StationService(self.ctx).get()
        limit = (station.upload_limit_mb if station else 10) * 1024 * 1024
        province = ProvinceSettingsService(self.ctx).upload_limit_bytes()
        return DigitizationRules(max_file_bytes=min(limit, province) if province else limit)

    def hot_folders(self) -> list[Path]:
        """The station's hot folders, then any from ``MOTCUA_HOT_FOLDERS``."""
        station = StationService(self.ctx).get()
        folders = [Path(f) for f in (station.hot_folders if station else ())]
        return folders + [f for f in configured_hot_folders() if f not in folders]

    def hot_folder_station(self) -> dict[str, str]:
        """How this counter signs its claims in a shared hot folder: the PC's install id,
        and its station digit for a technician reading the folder."""
        station = StationService(self.ctx).get()
        return {"station_id": self.ctx.paths.install_id(),
                "station_label": f"quay-{station.station_digit}" if station else ""}

    def work_dir(self) -> Path:
        path = self.ctx.paths.scan_work
        path.mkdir(parents=True, exist_ok=True)
        return path

    def profiles(self) -> list[ScanProfile]:
        """Built-in profiles, each overridden by the station's own row of the same name,
        then the station's extra profiles."""
        with self.ctx.db.read() as s:
            rows = {r.name: _profile_from_row(r) for r in s.query(ScanProfileRow).all()}
        out = [rows.pop(p.name, p) for p in BUILTIN_PROFILES]
        return out + sorted(rows.values(), key=lambda p: p.name)

    def profile(self, name: str) -> ScanProfile:
        for p in self.profiles():
            if p.name == name:
                return p
        raise UnknownProfile(f"Không có hồ sơ quét “{name}”.", f"unknown scan profile {name!r}")

    def save_profile(self, profile: ScanProfile, by: ClerkInfo) -> ScanProfile:
        profile = check_profile(profile)
        current = next((p for p in self.profiles() if p.name == profile.name), None)
        if profile.name in ProvinceSettingsService(self.ctx).profile_names():
            # Not even a technician: the next sync would set it back (README, "Cài đặt do
            # tỉnh quản lý"); a profile of another name is the station's to add.
            raise ProfileLocked(
                f"Hồ sơ quét “{profile.name}” do tỉnh quản lý; máy này dùng được nhưng không "
                "sửa được. Hãy tạo hồ sơ quét mới với tên khác nếu cần.",
                f"{by.username} tried to change province profile {profile.name}")
        technician = by.role is Role.TECHNICIAN
        if not technician and ((current is not None and current.locked) or profile.locked):
            raise ProfileLocked(
                f"Hồ sơ quét “{profile.label_vi}” do kỹ thuật viên khóa; chỉ kỹ thuật viên "
                "được thay đổi.", f"clerk {by.username} tried to change locked {profile.name}")
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            row = s.get(ScanProfileRow, profile.name)
            values = asdict(profile)
            values["mode"] = profile.mode.value
            if row is None:
                s.add(ScanProfileRow(**values, updated_at=now))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = now
            repo.add_audit(s, now, by.id, "scan_profile_saved", "scan_profile", profile.name,
                           values)
        return replace(profile)

    # --- files -----------------------------------------------------------------------

    def store(self, parts: Sequence[OutputPart], profile: str = "") -> list[DigitizedFile]:
        """Put finished PDFs into the blob store (idempotent: same bytes, same blob)."""
        now = self.ctx.clock.now()
        out: list[DigitizedFile] = []
        for part in parts:
            sha, size = self.ctx.blobs.put_file(part.path)
            out.append(DigitizedFile(sha, part.path.name, part.part, part.parts, part.pages,
                                     size, part.dpi, tuple(m.value for m in part.modes),
                                     profile))
        with self.ctx.db.write() as s:
            for f in out:
                repo.ensure_blob(s, f.sha256, f.size, PDF, now)
        return out

    def attach(self, dossier_id: int, position: int, files: Sequence[DigitizedFile],
               clerk: ClerkInfo, *, replace_existing: bool = False) -> None:
        """Link stored files to one component of a received dossier, with its audit entry
        and the outbox entries that upload them, in one transaction."""
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            dossier = repo.dossier_by_id(s, dossier_id)
            comp = None if dossier is None else next(
                (c for c in dossier.components if c.position == position), None)
            if dossier is None or comp is None:
                raise ComponentNotFound("Không tìm thấy thành phần hồ sơ để gắn tệp.",
                                        f"dossier {dossier_id} position {position}")
            if replace_existing:
                for old in comp.files:
                    if old.superseded_at is None:
                        old.superseded_at = now
            link_files(comp, files, clerk.id, now)
            for f in files:
                repo.add_outbox(s, "file", f.sha256, "upload",
                                {"dossier": dossier.uuid, "component": comp.component_code,
                                 "position": position, "file_name": f.file_name,
                                 "size": f.size, "part": f.part, "parts": f.parts}, now)
            if dossier.code:
                # The province gets the new file list as the dossier's next revision.
                station = repo.get_station(s)
                assert station is not None  # a received dossier implies a configured station
                dossier.revision = (dossier.revision or 1) + 1
                dossier.updated_at = now
                s.flush()
                s.refresh(comp)
                repo.add_outbox(s, "dossier", dossier.uuid, "revised",
                                dossier_document(dossier, station.agency_code), now)
            repo.add_audit(s, now, clerk.id, "component_digitized", "dossier", dossier.uuid,
                           {"component": comp.name, "position": position,
                            "files": [f.sha256 for f in files],
                            "replaced": replace_existing})
        log.info("dossier %s component %d: %d file(s) attached by clerk %s", dossier_id,
                 position, len(files), clerk.id)

    def files_of(self, dossier_id: int, include_superseded: bool = False
                 ) -> list[ComponentFileInfo]:
        with self.ctx.db.read() as s:
            dossier = repo.dossier_by_id(s, dossier_id)
            if dossier is None:
                return []
            names = {c.id: c.full_name for c in repo.list_clerks(s)}
            out = []
            for comp in dossier.components:
                for f in comp.files:
                    if f.superseded_at is not None and not include_superseded:
                        continue
                    out.append(ComponentFileInfo(
                        f.id, comp.position, comp.name,
                        DigitizedFile(f.blob_sha256, f.file_name, f.part, f.parts, f.pages,
                                      f.size, f.dpi, tuple(filter(None,
                                                                  f.colour_modes.split(","))),
                                      f.profile),
                        names.get(f.clerk_id or -1, ""), f.created_at.isoformat(),
                        f.superseded_at is not None))
            return out

    def export(self, file: DigitizedFile, target: Path) -> Path:
        """Copy a stored PDF out (to print, to hand over on a USB stick)."""
        with self.ctx.blobs.open_blob(file.sha256) as src, target.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        return target


def link_files(comp: DossierComponent, files: Sequence[DigitizedFile], clerk_id: int | None,
               now: datetime) -> None:
    """Insert the component-file rows (used by attach and by Receive in the wizard). A
    reused file is a new row on the same blob (state 2, DOMAIN.md) with its source."""
    for f in files:
        reused = f.is_reuse
        comp.files.append(ComponentFile(
            blob_sha256=f.sha256, file_name=f.file_name[:200], part=f.part, parts=f.parts,
            pages=f.pages, size=f.size, dpi=f.dpi, colour_modes=",".join(f.modes),
            digitization_state=2 if reused else 1, profile=f.profile, clerk_id=clerk_id,
            created_at=now,
            reuse=ComponentReuse(source_file_id=f.reused_from, source_code=f.source_code[:60],
                                 source_kind=f.source_kind, clerk_id=clerk_id,
                                 reused_at=now) if reused else None))
    if files:
        comp.provided = True
