"""Settings the province owns (scan profiles, upload limit, fee schedules, signer blocks):
published at the real gateway, pulled over loopback HTTP by the station's sync into its
real database, and the override rules between the province and the commune."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService, ProfileLocked
from desktop_app.fees import FeeService
from desktop_app.intake.service import IntakeService
from desktop_app.province_settings import ProvinceSettingsService
from desktop_app.scanning.model import ColourMode, ScanProfile
from desktop_app.setup.doctor_settings import check_province_settings
from desktop_app.signers import SignedKind, SignerBlock, SignerService
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.service import SyncService
from local_db import outbox
from local_db.models import AuditEntry, Dossier, ScanProfileRow
from provincial_gateway import admin_cli
from provincial_gateway.db import ReferenceDoc
from provincial_gateway.server import GatewayServer
from provincial_gateway.settings_publish import SETTINGS
from sync_contract import wire
from tests.support.gateway_fixtures import auth_headers

from ..test_intake import TEST_CATALOG, complete_draft

MIB = 1024 * 1024
TECHNICIAN = ClerkInfo(None, "kythuat", "Kỹ thuật viên xã", Role.TECHNICIAN)  # type: ignore[arg-type]
CLERK_ONLY = ClerkInfo(None, "huong", "Triệu Thị Hương", Role.CLERK)  # type: ignore[arg-type]

SETTINGS_V1: dict[str, Any] = {
    "version": "2026.12-1",
    "upload_limit_bytes": 8 * MIB,
    "scan_profiles": [
        {"name": "so-do-dia-chinh", "label_vi": "Sơ đồ địa chính A1 màu, 300 dpi", "dpi": 300,
         "mode": "colour", "page_size": "A1", "drop_blank": False},
        {"name": "a4-auto", "label_vi": "Giấy tờ A4 (tỉnh), 300 dpi", "dpi": 300,
         "mode": "auto", "page_size": "A4", "jpeg_quality": 80},
    ],
    "fee_schedules": {"9.000005": [{"code": "LP", "name": "Lệ phí", "amount": 5000,
                                    "kind": "lệ phí"}]},
    "signers": {"04": {"authority": "TM. Ủy ban nhân dân", "title": "Chủ tịch"},
                "05": {"authority": "TM. ỦY BAN NHÂN DÂN", "delegation": "KT. CHỦ TỊCH",
                       "title": "PHÓ CHỦ TỊCH"}},
}


@pytest.fixture
def synced(ctx: AppContext, station: StationInfo, gateway: GatewayServer,
           station_token: str) -> SyncService:
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    service = SyncService(ctx)
    service.set_token(station_token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    return service


def publish(gateway: GatewayServer, tmp_path: Path, doc: dict[str, Any],
            capsys: pytest.CaptureFixture[str], suffix: str = ".json") -> tuple[int, str]:
    path = tmp_path / f"cai-dat-{doc.get('version', 'x')}{suffix}"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code = admin_cli.main(["publish-settings", "--data", str(gateway.config.data_dir),
                           str(path)])
    out = capsys.readouterr()
    return code, out.out + out.err


def audits(ctx: AppContext, action: str) -> list[tuple[str, dict[str, Any]]]:
    """(entity id, detail) of each audit entry of ``action``, oldest first."""
    with ctx.db.read() as s:
        return [(a.entity_id, dict(a.detail)) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def state(ctx: AppContext, key: str) -> str:
    with ctx.db.read() as s:
        return outbox.get_state(s, key, "")


def test_published_settings_are_applied_with_the_override_rules(
        ctx: AppContext, synced: SyncService, gateway: GatewayServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    digitization = DigitizationService(ctx)
    # What the commune's technician set before the province published anything.
    digitization.save_profile(ScanProfile("ho-so-rieng", "Hồ sơ riêng của xã", dpi=400,
                                          mode=ColourMode.GREY), TECHNICIAN)
    digitization.save_profile(ScanProfile("a4-auto", "A4 của xã", dpi=250), TECHNICIAN)
    signers = SignerService(ctx, StationService(ctx).require().agency_code)
    signers.save(SignedKind.STOP_NOTICE, SignerBlock("TM. ỦY BAN NHÂN DÂN", "",
                                                     "CHỦ TỊCH", "Lò Văn Minh"), by="kythuat")
    assert digitization.rules().max_file_bytes == 10 * MIB  # the station's own 10 MB
    nothing_yet = synced.engine().run_once()  # the province has published nothing
    assert not nothing_yet.settings_updated and not nothing_yet.errors
    assert state(ctx, "province_settings_version") == ""

    code, out = publish(gateway, tmp_path, SETTINGS_V1, capsys)
    assert code == 0 and "2026.12-1" in out and "biểu phí" in out
    report = synced.engine().run_once()
    assert report.settings_updated and not report.errors

    assert state(ctx, "province_settings_version") == "2026.12-1"
    # Upload limit: the province's is a ceiling; the local 10 MB was dropped, with a notice.
    assert digitization.rules().max_file_bytes == 8 * MIB
    assert StationService(ctx).require().upload_limit_mb == 8
    assert any("vượt mức của tỉnh" in n for n in report.notices)
    # Scan profiles: the province's are locked and replace a local one of the same name;
    # the technician's own extra profile stays.
    profiles = {p.name: p for p in digitization.profiles()}
    assert profiles["so-do-dia-chinh"].locked and profiles["so-do-dia-chinh"].page_size == "A1"
    assert profiles["a4-auto"].locked and profiles["a4-auto"].jpeg_quality == 80
    assert profiles["ho-so-rieng"].dpi == 400 and not profiles["ho-so-rieng"].locked
    assert any("a4-auto" in n and "trùng tên" in n for n in report.notices)
    with pytest.raises(ProfileLocked):
        digitization.save_profile(replace(profiles["so-do-dia-chinh"], dpi=600), CLERK_ONLY)
    # Fees: the province's schedule is the procedure's.
    assert [f.amount for f in CatalogService(ctx).get("9.000005").fees] == [5000]
    # Signers: the province's default where the commune set none (its name is the
    # commune's to give), the commune's own block kept.
    apology = signers.get(SignedKind.APOLOGY)
    assert apology.block.title_lines() == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    assert not apology.configured and "chưa cấu hình" in apology.name_line
    assert signers.get(SignedKind.STOP_NOTICE).block.name == "Lò Văn Minh"

    [(version, detail)] = audits(ctx, "province_settings_applied")
    assert version == "2026.12-1"
    assert detail["changed"]["scan_profiles"] == ["so-do-dia-chinh", "a4-auto"]
    assert detail["changed"]["fee_schedules"] == ["9.000005"]
    assert detail["changed"]["signers"] == ["04"]
    assert detail["changed"]["signers_kept_local"] == ["05"]
    assert "Lò Văn Minh" not in json.dumps(detail, ensure_ascii=False)

    # Unchanged: 304, nothing applied, nothing audited.
    again = synced.engine().run_once()
    assert not again.settings_updated and not again.notices and not again.errors
    assert len(audits(ctx, "province_settings_applied")) == 1
    assert audits(ctx, "province_settings_enforced") == []


def test_local_changes_to_what_the_province_owns_are_set_back(
        ctx: AppContext, synced: SyncService, gateway: GatewayServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert publish(gateway, tmp_path, SETTINGS_V1, capsys)[0] == 0
    assert synced.engine().run_once().settings_updated
    digitization = DigitizationService(ctx)
    stations = StationService(ctx)
    # A technician raises the limit and edits a province profile; a stricter limit and
    # the technician's own profiles are theirs to keep.
    stations.save(replace(stations.require(), upload_limit_mb=20))
    province_profile = digitization.profile("so-do-dia-chinh")
    with pytest.raises(ProfileLocked, match="do tỉnh quản lý"):
        digitization.save_profile(replace(province_profile, dpi=600), TECHNICIAN)
    with ctx.db.write() as s:  # as an older version on a shared database could
        s.get(ScanProfileRow, "so-do-dia-chinh").dpi = 600
    report = synced.engine().run_once()
    assert not report.settings_updated  # 304: no new version …
    assert stations.require().upload_limit_mb == 8  # … but the province still wins
    assert digitization.profile("so-do-dia-chinh").dpi == 300
    assert len(report.notices) == 2
    [(_, enforced)] = audits(ctx, "province_settings_enforced")
    assert enforced["changed"]["scan_profiles"] == ["so-do-dia-chinh"]

    stations.save(replace(stations.require(), upload_limit_mb=5))
    quiet = synced.engine().run_once()
    assert not quiet.notices and stations.require().upload_limit_mb == 5
    assert digitization.rules().max_file_bytes == 5 * MIB

    # A catalog file imported here brings its own fees: the province's schedule is put
    # back at the next sync.
    CatalogService(ctx).import_data(TEST_CATALOG)
    assert [f.amount for f in CatalogService(ctx).get("9.000005").fees] == [2000]
    report = synced.engine().run_once()
    assert [f.amount for f in CatalogService(ctx).get("9.000005").fees] == [5000]
    assert any("9.000005" in n for n in report.notices)

    # Version 2 withdraws a profile: it stays, unlocked, as the station's own.
    v2 = {**SETTINGS_V1, "version": "2026.12-2",
          "scan_profiles": SETTINGS_V1["scan_profiles"][1:]}
    assert publish(gateway, tmp_path, v2, capsys)[0] == 0
    assert synced.engine().run_once().settings_updated
    kept = digitization.profile("so-do-dia-chinh")
    assert not kept.locked and kept.page_size == "A1"
    assert state(ctx, "province_settings_version") == "2026.12-2"


def test_fees_recorded_on_a_received_dossier_never_change(
        ctx: AppContext, clerk: ClerkInfo, synced: SyncService, gateway: GatewayServer,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    intake = IntakeService(ctx)
    before = intake.receive(complete_draft(intake), clerk)
    with ctx.db.read() as s:
        first_id = s.scalars(select(Dossier.id).where(Dossier.uuid == before.dossier_uuid)
                             ).one()
    assert FeeService(ctx).statement(first_id).owed == 2000

    assert publish(gateway, tmp_path, SETTINGS_V1, capsys)[0] == 0
    assert synced.engine().run_once().settings_updated
    assert FeeService(ctx).statement(first_id).owed == 2000  # what was assessed stays
    after = intake.receive(complete_draft(intake), clerk)
    with ctx.db.read() as s:
        second_id = s.scalars(select(Dossier.id).where(Dossier.uuid == after.dossier_uuid)
                              ).one()
    assert FeeService(ctx).statement(second_id).owed == 5000
    assert FeeService(ctx).statement(first_id).owed == 2000


def test_an_invalid_document_is_refused_at_publishing(
        gateway: GatewayServer, station_token: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad = {**SETTINGS_V1, "upload_limit_bytes": 1000,
           "scan_profiles": [{"name": "Bản đồ", "label_vi": "", "dpi": 100}],
           "signers": {"06": {"title": "CHỦ TỊCH"}}}
    code, out = publish(gateway, tmp_path, bad, capsys)
    assert code == 1 and "không hợp lệ, chưa công bố" in out
    assert "scan_profiles[1].dpi" in out and "upload_limit_bytes" in out and "signers[06]" in out
    served = requests.get(gateway.url + wire.PROVINCE_SETTINGS,
                          headers=auth_headers(station_token), timeout=5)
    assert served.status_code == 200 and served.json()["version"] == ""

    # TOML works too; the same version with other content is refused.
    toml = tmp_path / "cai-dat.toml"
    toml.write_text('version = "2027.01"\nupload_limit_bytes = 12582912\n\n'
                    '[signers."04"]\ntitle = "CHỦ TỊCH"\n', encoding="utf-8")
    assert admin_cli.main(["publish-settings", "--data", str(gateway.config.data_dir),
                           str(toml)]) == 0
    toml.write_text('version = "2027.01"\nupload_limit_bytes = 4194304\n', encoding="utf-8")
    assert admin_cli.main(["publish-settings", "--data", str(gateway.config.data_dir),
                           str(toml)]) == 1
    assert "phiên bản mới" in capsys.readouterr().err
    served = requests.get(gateway.url + wire.PROVINCE_SETTINGS,
                          headers=auth_headers(station_token), timeout=5)
    assert served.json()["upload_limit_bytes"] == 12 * MIB
    etag = served.headers["ETag"]
    unchanged = requests.get(gateway.url + wire.PROVINCE_SETTINGS, timeout=5,
                             headers={**auth_headers(station_token), "If-None-Match": etag})
    assert unchanged.status_code == 304


def test_a_document_the_station_cannot_accept_is_refused_and_the_old_one_kept(
        ctx: AppContext, synced: SyncService, gateway: GatewayServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert publish(gateway, tmp_path, SETTINGS_V1, capsys)[0] == 0
    assert synced.engine().run_once().settings_updated
    # As an older gateway would have stored it, past today's checks: a profile at 100 dpi.
    broken = {**SETTINGS_V1, "version": "2026.12-3", "published_at": "2026-12-07T09:00:00+07:00",
              "upload_limit_bytes": 2 * MIB,
              "scan_profiles": [{**SETTINGS_V1["scan_profiles"][0], "dpi": 100}]}
    with gateway.sessions.begin() as s:
        s.get(ReferenceDoc, SETTINGS).body = json.dumps(broken, ensure_ascii=False)

    report = synced.engine().run_once()
    assert not report.settings_updated
    assert any("không hợp lệ nên chưa áp dụng" in e and "dpi" in e for e in report.errors)
    assert state(ctx, "province_settings_version") == "2026.12-1"
    assert DigitizationService(ctx).rules().max_file_bytes == 8 * MIB  # not 2 MB
    assert DigitizationService(ctx).profile("so-do-dia-chinh").dpi == 300
    status = ProvinceSettingsService(ctx).status()
    assert status.version == "2026.12-1" and status.refused["version"] == "2026.12-3"
    assert len(audits(ctx, "province_settings_refused")) == 1
    doctor = check_province_settings(ctx)
    assert doctor.status == "warn" and "2026.12-3" in doctor.message_vi
    assert "2026.12-1" in doctor.message_vi
    # The same document is not fetched and refused again on every run.
    later = synced.engine().run_once()
    assert not later.errors and len(audits(ctx, "province_settings_refused")) == 1

    # The province publishes a correct version: applied, the refusal cleared.
    assert publish(gateway, tmp_path, {**SETTINGS_V1, "version": "2026.12-4"}, capsys)[0] == 0
    assert synced.engine().run_once().settings_updated
    assert ProvinceSettingsService(ctx).status().refused == {}


def test_a_gateway_without_province_settings_is_skipped(
        ctx: AppContext, synced: SyncService, gateway: GatewayServer, station_token: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A provincial gateway of an earlier version has no such endpoint: the station asks
    # this real gateway for a path it does not serve, and gets its 404.
    missing = wire.PREFIX + "/reference/not-served-here"
    monkeypatch.setattr(wire, "PROVINCE_SETTINGS", missing)
    assert requests.get(gateway.url + missing, timeout=5,
                        headers=auth_headers(station_token)).status_code == 404
    report = synced.engine().run_once()
    assert report.online and report.catalog_updated
    assert not report.settings_updated and not report.errors
    assert state(ctx, "province_settings_version") == ""
