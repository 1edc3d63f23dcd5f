"""The province's three figures on the dashboard and in `motcua report dashboard`
(README, "Ba chỉ số của tỉnh"): electronic results, dossier + result digitized, reuse.

Built through the services (intake with scans and reuse, return with its handover, the
electronic copy saved for the citizen); only the province's result documents are
inserted directly, as the sync's pull is the only writer of them. Real SQLite, and
PostgreSQL with MOTCUA_TEST_DB=postgresql."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import pytest

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.commands import report_cmd
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService
from desktop_app.intake.drafts import PersonInfo
from desktop_app.intake.result_documents import ResultDocuments
from desktop_app.intake.returns import Receiver, ReturnService
from desktop_app.intake.reuse import ReuseService
from desktop_app.intake.service import IntakeService
from desktop_app.paths import DataPaths
from desktop_app.reports import ReportService
from desktop_app.startup import open_station
from desktop_app.station import StationService
from local_db import repositories as repo
from local_db.models import Dossier, ResultDocumentRow

from .conftest import TEST_STATION
from .test_digitization_store import _pdf
from .test_intake import OWNER, TEST_CATALOG, complete_draft

OCT_1, OCT_31 = date(2023, 10, 1), date(2023, 10, 31)
NOW = datetime(2023, 11, 10, 12, 0)
OTHER = replace(OWNER, full_name="Lò Văn Pấng", id_number="019190009999")
THIRD = replace(OWNER, full_name="Hà Thị Ưng", id_number="019190004444")
TK, GT = 0, 1  # the request form and "Giấy tờ chứng minh nơi cư trú" (reusable)


@dataclass
class Counter:
    ctx: AppContext
    clerk: ClerkInfo
    ids: dict[str, int]


def build(ctx: AppContext, tmp: Path) -> Counter:
    """October 2023 (period by received date for reuse, by return date for the others):

    ======  ========  =========================  ==========================  =========
    key     received  scans                      result                      returned
    ======  ========  =========================  ==========================  =========
    sep     28/09     TK + GT                    file fetched                02/10
    a       02/10     TK + GT                    file fetched                06/10
    b       02/10     TK only                    file fetched, USB copy      06/10
    c       03/10     TK + GT reused from a      none; handed electronic     09/10
    d       03/10     TK + GT                    waiting + refused (no file) 09/10
    e       04/10     GT reused (from c → a)     —                           open
    f       05/10     none                       none; by post               09/10
    g       30/10     none                       none; handed electronic     01/11
    ======  ========  =========================  ==========================  =========
    """
    StationService(ctx).save(TEST_STATION)
    CatalogService(ctx).import_data(TEST_CATALOG)
    clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                             Role.CLERK)
    intake = IntakeService(ctx)
    digit = DigitizationService(ctx)
    returns = ReturnService(ctx)
    clock: FixedClock = ctx.clock  # type: ignore[assignment]
    ids: dict[str, int] = {}

    def receive(key: str, at: datetime, owner: PersonInfo, scans: tuple[int, ...] = (),
                reuse: bool = False) -> None:
        clock.set(at)
        draft = complete_draft(intake, owner=owner)
        for row in scans:
            draft.components[row].files = digit.store(
                [_pdf(tmp, f"{key}-{row}.pdf", 40 + 20 * len(ids) + row)])
        if reuse:
            [found] = ReuseService(ctx).on_file(owner.id_number, clerk, "9.000005")
            draft.components[GT].files = list(found.files)
        ids[key] = intake.receive(draft, clerk).dossier_id

    def result(key: str, state: str) -> int:
        """A result document as the sync's pull records it (and the fetch, if fetched)."""
        data = f"%PDF-1.4 kết quả {key} {state}".encode()
        with ctx.db.write() as s:
            sha = None
            if state == "fetched":
                sha = ctx.blobs.put_bytes(data)
                repo.ensure_blob(s, sha, len(data), "application/pdf", clock.now())
            row = ResultDocumentRow(
                dossier_id=ids[key], gateway_id=f"{key}-{state}", change_seq=1,
                name="Giấy xác nhận", announced_sha256="0" * 64, size=len(data),
                download_path=f"/api/v1/results/{key}", state=state, blob_sha256=sha,
                fetched_at=clock.now() if sha else None, created_at=clock.now())
            s.add(row)
            s.flush()
            return row.id

    def give_back(key: str, at: datetime, **kw: object) -> None:
        clock.set(at)
        with ctx.db.write() as s:  # the province's status 9 (sync) is what allows it
            s.get(Dossier, ids[key]).status = 9  # type: ignore[union-attr]
        returns.record_return(ids[key], Receiver(OWNER.full_name), clerk, **kw)  # type: ignore[arg-type]

    receive("sep", datetime(2023, 9, 28, 9, 0), THIRD, (TK, GT))
    receive("a", datetime(2023, 10, 2, 8, 0), OWNER, (TK, GT))
    receive("b", datetime(2023, 10, 2, 9, 0), OTHER, (TK,))
    receive("c", datetime(2023, 10, 3, 8, 0), OWNER, (TK,), reuse=True)
    receive("d", datetime(2023, 10, 3, 9, 0), THIRD, (TK, GT))
    receive("e", datetime(2023, 10, 4, 8, 0), OWNER, reuse=True)
    receive("f", datetime(2023, 10, 5, 8, 0), OTHER)
    receive("g", datetime(2023, 10, 30, 8, 0), OTHER)

    clock.set(datetime(2023, 10, 2, 7, 0))
    result("sep", "fetched")
    result("a", "fetched")
    b_doc = result("b", "fetched")
    result("d", "waiting")
    result("d", "refused")
    give_back("sep", datetime(2023, 10, 2, 10, 0))
    give_back("a", datetime(2023, 10, 6, 10, 0))
    give_back("b", datetime(2023, 10, 6, 11, 0))
    ResultDocuments(ctx).save_copy(b_doc, tmp / "usb-b.pdf", clerk)
    give_back("c", datetime(2023, 10, 9, 10, 0), handover="electronic")
    give_back("d", datetime(2023, 10, 9, 11, 0))
    give_back("f", datetime(2023, 10, 9, 14, 0), method="post",
              post_address="Bản Chang, xã Nà Phặc")
    give_back("g", datetime(2023, 11, 1, 9, 0), handover="electronic")
    clock.set(NOW)
    return Counter(ctx, clerk, ids)


def test_the_three_figures_count_exactly_what_was_recorded(ctx: AppContext,
                                                           tmp_path: Path) -> None:
    build(ctx, tmp_path)
    f = ReportService(ctx).dashboard(OCT_1, OCT_31)
    assert (f.received, f.returned) == (7, 6)  # a–g; sep, a, b, c, d, f
    # sep, a, b (the province's file) and c (handed over electronically, no file).
    assert (f.electronic_results, f.electronic_results_of) == (4, 6)
    assert f.electronic_results_share == pytest.approx(4 / 6)
    # sep and a: every given component scanned and a result file; b lacks GT, c has no
    # result file, d's documents were never fetched.
    assert (f.digitized_with_result, f.digitized_with_result_of) == (2, 6)
    assert f.digitized_with_result_share == pytest.approx(2 / 6)
    # c and e reused a copy (e's own copy is a reuse of a reuse); base: received.
    assert (f.reused, f.reused_of) == (2, 7)
    assert f.reuse_share == pytest.approx(2 / 7)
    # The per-dossier digitized share still counts received dossiers: a, c, d.
    assert f.digitized_share == pytest.approx(3 / 7)

    november = ReportService(ctx).dashboard(date(2023, 11, 1), date(2023, 11, 30))
    assert (november.electronic_results, november.electronic_results_of) == (1, 1)  # g
    assert (november.digitized_with_result, november.reused, november.reused_of) == (0, 0, 0)
    assert november.reuse_share is None
    empty = ReportService(ctx).dashboard(date(2023, 8, 1), date(2023, 8, 31))
    assert (empty.electronic_results_share, empty.digitized_with_result_share,
            empty.reuse_share) == (None, None, None)


# --- command line --------------------------------------------------------------------------


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="motcua")
    report_cmd.add_parsers(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def test_report_dashboard_prints_and_exports_the_three_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        migrated_sqlite: Callable[[Path], None], capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MOTCUA_DB_URL", raising=False)
    data = tmp_path / "cli-data"
    migrated_sqlite(DataPaths(data).database)
    ctx = open_station(data, clock=FixedClock(NOW))
    build(ctx, tmp_path)
    ctx.close()
    period = ["--from", "2023-10-01", "--to", "2023-10-31", "--data-dir", str(data)]

    assert _cli("report", "dashboard", *period, "--json") == 0
    got = json.loads(capsys.readouterr().out)
    assert {k: got[k] for k in (
        "electronic_results", "electronic_results_of", "digitized_with_result",
        "digitized_with_result_of", "reused", "reused_of")} == {
        "electronic_results": 4, "electronic_results_of": 6, "digitized_with_result": 2,
        "digitized_with_result_of": 6, "reused": 2, "reused_of": 7}
    assert got["electronic_results_share"] == pytest.approx(4 / 6)
    assert got["digitized_with_result_share"] == pytest.approx(2 / 6)
    assert got["reuse_share"] == pytest.approx(2 / 7)

    assert _cli("report", "dashboard", *period) == 0
    text = capsys.readouterr().out
    assert "Ba chỉ số của tỉnh:" in text
    assert ("Tỷ lệ hồ sơ có kết quả điện tử:              4/6 — 66,7 % "
            "(trên hồ sơ trả kết quả trong kỳ)") in text
    assert ("Tỷ lệ số hóa hồ sơ và kết quả:               2/6 — 33,3 % "
            "(trên hồ sơ trả kết quả trong kỳ)") in text
    assert ("Tỷ lệ khai thác, tái sử dụng dữ liệu số hóa: 2/7 — 28,6 % "
            "(trên hồ sơ tiếp nhận trong kỳ)") in text
