"""Retention: exactly the files of closed, acknowledged, old dossiers leave the blob store;
unsynced dossiers and blobs shared with a live dossier never do. Dossiers are built
through the real intake, return and digitization services on a real SQLite file."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop_app.accounts import ClerkInfo
from desktop_app.clock import FixedClock
from desktop_app.commands import retention_cmd
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizedFile
from desktop_app.intake.returns import Receiver, ReturnService
from desktop_app.intake.service import IntakeService
from desktop_app.retention import PURGED_ACTION, RetentionService
from desktop_app.station import StationService
from local_db.models import AuditEntry, ComponentFile, Dossier, OutboxEntry

from .sync.test_sync_engine import stored_file
from .test_intake import complete_draft, intake  # noqa: F401

T0 = datetime(2023, 11, 6, 10, 0)  # the day the dossiers are closed


def receive(intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
            files: list[DigitizedFile]) -> int:
    draft = complete_draft(intake)
    draft.components[0].files = list(files)
    return intake.receive(draft, clerk).dossier_id


def set_status(ctx: AppContext, dossier_id: int, status: int) -> None:
    with ctx.db.write() as s:
        s.get(Dossier, dossier_id).status = status  # type: ignore[union-attr]


def return_result(ctx: AppContext, dossier_id: int, clerk: ClerkInfo) -> str:
    """The processing side finished; the citizen takes the result. Returns the sha of
    the printed return document."""
    set_status(ctx, dossier_id, 9)
    return ReturnService(ctx).record_return(dossier_id, Receiver("Nguyễn Thị Ánh Tuyết"),
                                            clerk).sha256


def mark_sent(ctx: AppContext, dossier_uuid: str | None = None) -> None:
    """The province acknowledged everything (or everything about one dossier)."""
    with ctx.db.write() as s:
        for e in s.scalars(select(OutboxEntry).where(OutboxEntry.state != "sent")):
            if dossier_uuid in (None, e.entity_id, e.payload.get("dossier"),
                                e.payload.get("ClientId")):
                e.state, e.sent_at = "sent", ctx.clock.now()


def uuid_of(ctx: AppContext, dossier_id: int) -> str:
    with ctx.db.read() as s:
        return s.get(Dossier, dossier_id).uuid  # type: ignore[union-attr]


def set_state(ctx: AppContext, dossier_uuid: str, entity_type: str, state: str) -> int:
    """Put the dossier's entries of one type back in ``state``; returns how many."""
    with ctx.db.write() as s:
        rows = [e for e in s.scalars(select(OutboxEntry).where(
            OutboxEntry.entity_type == entity_type))
            if dossier_uuid in (e.entity_id, e.payload.get("dossier"), e.payload.get("ClientId"))]
        for e in rows:
            e.state = state
        return len(rows)


def slip_of(ctx: AppContext, dossier_id: int) -> str:
    with ctx.db.read() as s:
        return s.get(Dossier, dossier_id).slip_blob or ""  # type: ignore[union-attr]


def exists(ctx: AppContext, sha: str) -> bool:
    return ctx.blobs.path_for(sha).exists()


def size(ctx: AppContext, sha: str) -> int:
    return ctx.blobs.path_for(sha).stat().st_size


def purge_audits(ctx: AppContext) -> list[tuple[str, dict]]:
    """(dossier uuid, detail) of every blob_purged audit entry."""
    with ctx.db.read() as s:
        return [(a.entity_id, dict(a.detail)) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action == PURGED_ACTION)
            .order_by(AuditEntry.id))]


@pytest.fixture
def scene(ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
          clock: FixedClock, tmp_path: Path) -> dict[str, object]:
    """A: returned, synced (own file FA + shared file S). B: still open, synced, also
    holds S. C: returned, its return event still unsent. R: refused at the counter,
    synced. W: withdrawn much later (recent). X: returned, synced, but its file's upload
    was refused by the province."""
    fa, fb, fc, fs, fw, fx = (stored_file(ctx, tmp_path, size=50_000, seed=n) for n in range(1, 7))
    a = receive(intake, clerk, [fa, fs])
    b = receive(intake, clerk, [fs, fb])
    c = receive(intake, clerk, [fc])
    w = receive(intake, clerk, [fw])
    x = receive(intake, clerk, [fx])
    r_draft = complete_draft(intake)
    r = intake.refuse(r_draft, clerk, "Không thuộc thẩm quyền cấp xã").dossier_id
    clock.set(T0)
    doc_a = return_result(ctx, a, clerk)
    doc_c = return_result(ctx, c, clerk)
    doc_x = return_result(ctx, x, clerk)
    clock.set(T0 + timedelta(days=200))
    doc_w = ReturnService(ctx).withdraw(w, "Công dân không còn nhu cầu", clerk).sha256
    mark_sent(ctx)
    assert set_state(ctx, uuid_of(ctx, c), "event", "pending") == 1
    assert set_state(ctx, uuid_of(ctx, x), "file", "refused") == 1
    return {"a": a, "b": b, "c": c, "r": r, "w": w, "x": x, "fa": fa.sha256,
            "fb": fb.sha256, "fc": fc.sha256, "fs": fs.sha256, "fw": fw.sha256,
            "fx": fx.sha256, "doc_a": doc_a, "doc_c": doc_c, "doc_w": doc_w, "doc_x": doc_x}


def test_purges_exactly_closed_acknowledged_old_dossiers(
        ctx: AppContext, scene: dict, clock: FixedClock) -> None:
    clock.set(T0 + timedelta(days=366))
    every = [scene[k] for k in ("fa", "fb", "fc", "fs", "fw", "fx", "doc_a", "doc_c",
                                "doc_w", "doc_x")]
    every += [slip_of(ctx, scene[k]) for k in "abcrwx"]
    assert all(exists(ctx, sha) for sha in every)
    gone = {scene["fa"], scene["doc_a"], slip_of(ctx, scene["a"]), slip_of(ctx, scene["r"])}
    expected_bytes = sum(size(ctx, sha) for sha in gone)

    dry = RetentionService(ctx).run(dry_run=True)
    assert dry.retention_days == 365
    assert {d.dossier_id for d in dry.dossiers} == {scene["a"], scene["r"]}
    assert dry.blobs_removed == 4 and dry.bytes_freed == expected_bytes
    assert all(exists(ctx, sha) for sha in every) and purge_audits(ctx) == []
    assert "Chạy thử" in dry.text_vi()

    report = RetentionService(ctx).run()
    assert {d.dossier_id for d in report.dossiers} == {scene["a"], scene["r"]}
    assert report.bytes_freed == expected_bytes and report.errors == []
    # C (unsynced event) and X (file refused by the province): never.
    assert report.kept_unsynced == 2
    assert report.kept_recent == 1  # W
    assert report.kept_shared_blobs == 1  # S, held by the open dossier B
    for sha in every:
        assert exists(ctx, sha) == (sha not in gone), sha

    audits = purge_audits(ctx)
    assert sorted(uuid for uuid, _ in audits) == sorted(uuid_of(ctx, scene[k]) for k in "ar")
    detail_a = next(d for uuid, d in audits if uuid == uuid_of(ctx, scene["a"]))
    assert set(detail_a["blobs"]) == {scene["fa"], scene["doc_a"], slip_of(ctx, scene["a"])}
    assert detail_a["kept_shared"] == [scene["fs"]]
    assert detail_a["retention_days"] == 365
    with ctx.db.read() as s:  # the rows stay: timeline and tracking book are intact
        assert s.scalar(select(func.count()).select_from(Dossier)) == 6
        assert s.scalar(select(func.count()).select_from(ComponentFile)) == 7

    again = RetentionService(ctx).run()
    assert again.dossiers == [] and again.bytes_freed == 0
    assert len(purge_audits(ctx)) == 2


def test_shared_blob_goes_when_its_last_dossier_is_purgeable(
        ctx: AppContext, scene: dict, clock: FixedClock, clerk: ClerkInfo) -> None:
    clock.set(T0 + timedelta(days=366))
    RetentionService(ctx).run()
    assert exists(ctx, scene["fs"])
    clock.set(T0 + timedelta(days=400))
    return_result(ctx, scene["b"], clerk)
    clock.set(T0 + timedelta(days=400 + 364))
    # B closed 364 days ago: not yet (W, withdrawn 564 days ago, goes now).
    assert [d.dossier_id for d in RetentionService(ctx).run().dossiers] == [scene["w"]]
    assert exists(ctx, scene["fs"])  # B's return is not acknowledged yet either
    mark_sent(ctx, uuid_of(ctx, scene["b"]))
    clock.set(T0 + timedelta(days=400 + 366))
    report = RetentionService(ctx).run()
    # A is listed again for the shared file it kept; the file is removed (and counted) once.
    assert [d.dossier_id for d in report.dossiers] == [scene["a"], scene["b"]]
    assert report.dossiers[0].blobs == (scene["fs"],)
    assert report.blobs_removed == 4  # S, B's file, B's receipt, B's return document
    assert not exists(ctx, scene["fs"]) and not exists(ctx, scene["fb"])
    assert exists(ctx, scene["fc"])  # C still waits for its event to be sent


def test_retention_days_from_provisioning_and_command(
        ctx: AppContext, scene: dict, clock: FixedClock, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    stations = StationService(ctx)
    stations.save(replace(stations.require(), retention_days=30))
    clock.set(T0 + timedelta(days=31))
    service = RetentionService(ctx)
    assert service.retention_days() == 30
    assert {d.dossier_id for d in service.run(dry_run=True).dossiers} == {scene["a"],
                                                                         scene["r"]}
    # The command runs with the system clock on the same data (years after T0), so W's
    # withdrawal is old enough too.
    monkeypatch.setenv("MOTCUA_DB_URL", str(ctx.db.url))
    ctx.close()
    args = argparse.Namespace(dry_run=True, data_dir=ctx.paths.root, json=True)
    assert retention_cmd.run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] and out["retention_days"] == 30
    assert len(out["dossiers"]) == 3 and out["blobs_removed"] == 7
    assert exists(ctx, scene["fa"]) and exists(ctx, scene["fw"])
    args = argparse.Namespace(dry_run=False, data_dir=ctx.paths.root, json=False)
    assert retention_cmd.run(args) == 0
    text = capsys.readouterr().out
    assert "Đã xóa 7 tệp của 3 hồ sơ" in text
    assert not exists(ctx, scene["fa"]) and not exists(ctx, scene["fw"])
    assert exists(ctx, scene["fs"]) and exists(ctx, scene["fc"]) and exists(ctx, scene["fx"])
