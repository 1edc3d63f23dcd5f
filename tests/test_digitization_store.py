"""Digitized PDFs in the store: blobs, links made at Receive or later, profiles."""

from __future__ import annotations

import io
from pathlib import Path

import img2pdf
import pytest
from PIL import Image
from sqlalchemy import select

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService, ProfileLocked
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.model import ColourMode, OutputPart
from desktop_app.station import StationInfo, StationService
from local_db.models import ComponentFile, OutboxEntry

from .test_intake import complete_draft, intake  # noqa: F401  (fixture)


def _pdf(tmp_path: Path, name: str, shade: int) -> OutputPart:
    buf = io.BytesIO()
    Image.new("L", (400, 560), shade).save(buf, "JPEG", dpi=(200, 200))
    path = tmp_path / name
    path.write_bytes(img2pdf.convert(buf.getvalue()))
    return OutputPart(path, 1, path.stat().st_size, 1, 1, 200, (ColourMode.GREY,), "")


def test_receive_links_digitized_files_and_queues_them_before_the_dossier(
    tmp_path: Path, ctx: AppContext, intake: IntakeService, clerk: ClerkInfo  # noqa: F811
) -> None:
    svc = DigitizationService(ctx)
    files = svc.store([_pdf(tmp_path, "don.pdf", 200)], "a4-auto")
    assert ctx.blobs.read_bytes(files[0].sha256) == (tmp_path / "don.pdf").read_bytes()
    draft = complete_draft(intake)
    draft.components[0].files = files
    out = intake.receive(draft, clerk)
    with ctx.db.read() as s:
        rows = s.scalars(select(ComponentFile)).all()
        assert [(r.blob_sha256, r.pages, r.dpi, r.colour_modes) for r in rows] == [
            (files[0].sha256, 1, 200, "grey")]
        outbox = s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all()
        assert [(o.entity_type, o.operation) for o in outbox] == [("file", "upload"),
                                                                 ("dossier", "received")]
        assert outbox[0].payload["dossier"] == out.dossier_uuid
    assert [f.file.sha256 for f in svc.files_of(out.dossier_id)] == [files[0].sha256]


def test_redigitizing_supersedes_and_keeps_the_old_file(
    tmp_path: Path, ctx: AppContext, intake: IntakeService, clerk: ClerkInfo  # noqa: F811
) -> None:
    svc = DigitizationService(ctx)
    out = intake.receive(complete_draft(intake), clerk)
    first = svc.store([_pdf(tmp_path, "a.pdf", 100)])
    svc.attach(out.dossier_id, 0, first, clerk)
    second = svc.store([_pdf(tmp_path, "b.pdf", 50)])
    svc.attach(out.dossier_id, 0, second, clerk, replace_existing=True)
    current = svc.files_of(out.dossier_id)
    assert [f.file.sha256 for f in current] == [second[0].sha256]
    everything = svc.files_of(out.dossier_id, include_superseded=True)
    assert [f.superseded for f in everything] == [True, False]
    assert ctx.blobs.read_bytes(first[0].sha256)  # still there, intact
    from desktop_app.dossiers import DossierQueries

    history = [h.what for h in DossierQueries(ctx).detail(out.dossier_id).history]
    assert history.count("Số hóa thành phần hồ sơ") == 2


def test_attach_to_a_missing_component_changes_nothing(
    tmp_path: Path, ctx: AppContext, intake: IntakeService, clerk: ClerkInfo  # noqa: F811
) -> None:
    svc = DigitizationService(ctx)
    out = intake.receive(complete_draft(intake), clerk)
    files = svc.store([_pdf(tmp_path, "a.pdf", 100)])
    with pytest.raises(Exception, match="Không tìm thấy thành phần"):
        svc.attach(out.dossier_id, 99, files, clerk)
    assert svc.files_of(out.dossier_id) == []


def test_locked_profiles_only_change_by_a_technician(ctx: AppContext, clerk: ClerkInfo) -> None:
    svc = DigitizationService(ctx)
    tech = AccountService(ctx).create_clerk("kythuat", "Lò Văn Kỹ", "mat-khau-2", Role.TECHNICIAN)
    a0 = svc.profile("a0-map")
    locked = type(a0)(**{**a0.__dict__, "dpi": 400, "locked": True})
    with pytest.raises(ProfileLocked):
        svc.save_profile(locked, clerk)
    svc.save_profile(locked, tech)
    assert svc.profile("a0-map").dpi == 400 and svc.profile("a0-map").locked
    relaxed = type(a0)(**{**a0.__dict__, "dpi": 200, "locked": False})
    with pytest.raises(ProfileLocked, match="kỹ thuật viên"):
        svc.save_profile(relaxed, clerk)
    assert svc.profile("a0-map").dpi == 400
    assert [p.name for p in svc.profiles()][:2] == ["a4-auto", "a4-duplex"]


def test_rules_follow_the_station_upload_limit(ctx: AppContext, station: StationInfo) -> None:
    assert DigitizationService(ctx).rules().max_file_bytes == 10 * 1024 * 1024
    from dataclasses import replace

    StationService(ctx).save(replace(station, upload_limit_mb=30))
    assert DigitizationService(ctx).rules().max_file_bytes == 30 * 1024 * 1024


def test_files_are_linked_and_queued_on_postgresql(tmp_path: Path, pg_ctx: AppContext) -> None:
    """A file's outbox entry is keyed by its 64-digit hash (PostgreSQL checks lengths)."""
    from desktop_app.catalog import CatalogService

    from .test_intake import TEST_CATALOG, TEST_STATION

    StationService(pg_ctx).save(TEST_STATION)
    CatalogService(pg_ctx).import_data(TEST_CATALOG)
    clerk = AccountService(pg_ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                                Role.CLERK)
    service = IntakeService(pg_ctx)
    files = DigitizationService(pg_ctx).store([_pdf(tmp_path, "don.pdf", 180)], "a4-auto")
    draft = complete_draft(service)
    draft.components[0].files = files
    out = service.receive(draft, clerk)
    DigitizationService(pg_ctx).attach(out.dossier_id, 1, DigitizationService(pg_ctx).store(
        [_pdf(tmp_path, "giay.pdf", 90)], "a4-auto"), clerk)
    with pg_ctx.db.read() as s:
        kinds = [(o.entity_type, len(o.entity_id)) for o in
                 s.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]
    assert kinds == [("file", 64), ("dossier", 36), ("file", 64), ("dossier", 36)]
