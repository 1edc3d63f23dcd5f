"""What the gateway refuses in a dossier, and how the station takes each refusal: another
station's codes and dossiers (one 403 answer whether they exist or not), revisions pushed
far ahead, numbers and strings outside the wire rules, receipt times from the future
(stored, flagged). Loopback HTTP against the real gateway; the database follows
MOTCUA_TEST_DB."""

from __future__ import annotations

import json
import string
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from local_db.models import AuditEntry, OutboxEntry
from provincial_gateway import admin_cli
from provincial_gateway.db import Dossier, DossierFlag
from provincial_gateway.dossiers import list_dossiers
from provincial_gateway.server import GatewayServer
from provincial_gateway.timeutil import now_vn
from sync_contract import text_rules, wire
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers, sample_document

from ..sync.test_sync_engine import (  # noqa: F401  (synced_station is a fixture)
    engine,
    gateway_dossiers,
    open_items,
    receive,
    synced_station,
)

H34 = "000.00.34.H34"


def put(gateway: GatewayServer, token: str, doc: dict[str, Any]) -> requests.Response:
    return requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                        headers=auth_headers(token), timeout=10)


def put_raw(gateway: GatewayServer, token: str, client_id: str, body: bytes
            ) -> requests.Response:
    return requests.put(gateway.url + wire.DOSSIER.format(client_id=client_id), data=body,
                        headers={**auth_headers(token), "Content-Type": "application/json"},
                        timeout=10)


def stored(gateway: GatewayServer) -> int:
    with gateway.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Dossier)))


# --- whose dossier, whose code ---------------------------------------------------------

def test_another_agencys_code_gets_one_answer_whether_it_exists_or_not(
        gateway: GatewayServer) -> None:
    h12 = add_station(gateway)
    h34 = add_station(gateway, agency=H34)
    code = f"{H34}-261205-1001"
    before = put(gateway, h12, sample_document(ma_ho_so=code))
    assert before.status_code == 403 and before.json()["code"] == wire.E_NOT_OWNER
    genuine = sample_document(agency=H34, ma_ho_so=code)
    assert put(gateway, h34, genuine).json()["result"] == "created"  # not parked as refused
    after = put(gateway, h12, sample_document(ma_ho_so=code))
    assert (after.status_code, after.json()) == (before.status_code, before.json())
    assert after.headers["content-length"] == before.headers["content-length"]
    as_h34 = put(gateway, h12, genuine)  # H34's agency in MaDonVi: refused before any lookup
    assert as_h34.status_code == 403 and as_h34.json()["code"] == wire.E_AGENCY


def test_a_code_of_another_counter_of_the_agency_is_refused_alike(
        gateway: GatewayServer) -> None:
    one, two = add_station(gateway, digit=1), add_station(gateway, digit=2)
    code = f"{AGENCY}-261205-1001"
    before = put(gateway, two, sample_document(ma_ho_so=code))
    assert before.status_code == 403 and before.json()["code"] == wire.E_NOT_OWNER
    assert put(gateway, one, sample_document(ma_ho_so=code)).json()["result"] == "created"
    for claimed in (code, f"{AGENCY}-261205-2001x", "2001", f"{AGENCY}-2612-2001",
                    f" {AGENCY}-261205-1001"):
        again = put(gateway, two, sample_document(ma_ho_so=claimed))
        assert (again.status_code, again.json()) == (before.status_code, before.json())
    own = put(gateway, two, sample_document(ma_ho_so=f"{AGENCY}-261205-2001"))
    assert own.json()["result"] == "created"
    assert stored(gateway) == 2


def test_only_the_owning_station_revises_its_dossier(gateway: GatewayServer) -> None:
    one, two = add_station(gateway, digit=1), add_station(gateway, digit=2)
    doc = sample_document(ma_ho_so=f"{AGENCY}-261205-1001")
    assert put(gateway, one, doc).json()["result"] == "created"
    refusal = put(gateway, two, sample_document(ma_ho_so=f"{AGENCY}-261205-1002")).json()
    for attempt in (doc,  # an identical resend must not answer `unchanged` with its files
                    {**doc, "PhienBan": 2**62, "ChuHoSo": "Người Khác"},
                    {**doc, "PhienBan": 2, "MaHoSo": f"{AGENCY}-261205-2001"},
                    {**doc, "PhienBan": 2, "MaHoSo": ""}):
        resp = put(gateway, two, attempt)
        assert (resp.status_code, resp.json()) == (403, refusal)
    nxt = put(gateway, one, {**doc, "PhienBan": 2, "GhiChu": "bổ sung giấy tờ"})
    assert (nxt.json()["result"], nxt.json()["PhienBan"]) == ("updated", 2)
    with gateway.sessions() as s:
        d = s.scalars(select(Dossier)).one()
        assert d.revision == 2 and "Người Khác" not in d.body
        owner = d.station_id
    refused_alike = put(gateway, two, {**sample_document(ma_ho_so=""),
                                       "ClientId": doc["ClientId"], "PhienBan": 3})
    assert (refused_alike.status_code, refused_alike.json()) == (403, refusal)
    with gateway.sessions() as s:
        assert s.scalars(select(Dossier)).one().station_id == owner


def test_revision_steps_are_bounded(gateway: GatewayServer, station_token: str) -> None:
    step = wire.MAX_REVISION_STEP
    first = put(gateway, station_token, sample_document(revision=step + 1))
    assert first.status_code == 409 and first.json()["code"] == wire.E_REVISION_JUMP
    doc = sample_document(revision=1)
    assert put(gateway, station_token, doc).json()["result"] == "created"
    for revision, status, code in ((1 + step + 1, 409, wire.E_REVISION_JUMP),
                                   (2**62, 409, wire.E_REVISION_JUMP),
                                   (2**63, 422, wire.E_INVALID),
                                   (2**64, 422, wire.E_INVALID),
                                   (-1, 422, wire.E_INVALID)):
        resp = put(gateway, station_token, {**doc, "PhienBan": revision})
        assert (resp.status_code, resp.json()["code"]) == (status, code), revision
    resp = put(gateway, station_token, {**doc, "PhienBan": 1 + step, "GhiChu": "sau"})
    assert (resp.json()["result"], resp.json()["PhienBan"]) == ("updated", 1 + step)
    # The genuine next revision is not "stale".
    resp = put(gateway, station_token, {**doc, "PhienBan": 2 + step, "GhiChu": "tiếp"})
    assert resp.json()["result"] == "updated"


@pytest.mark.parametrize("since", [2**63, 2**64, 10**30])
def test_change_feed_cursor_beyond_64_bits_is_invalid(gateway: GatewayServer,
                                                      station_token: str, since: int) -> None:
    resp = requests.get(gateway.url + wire.CHANGES, params={"since": since},
                        headers=auth_headers(station_token), timeout=5)
    assert resp.status_code == 422 and resp.json()["code"] == wire.E_INVALID


def test_change_feed_cursor_at_the_64_bit_limit_is_answered(gateway: GatewayServer,
                                                            station_token: str) -> None:
    resp = requests.get(gateway.url + wire.CHANGES, params={"since": wire.MAX_CURSOR},
                        headers=auth_headers(station_token), timeout=5)
    assert resp.json() == {"changes": [], "cursor": wire.MAX_CURSOR, "more": False}


# --- strings ---------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "where"), [
    ({"MaTTHC": "1" * 10_000}, "MaTTHC (text_too_long)"),
    ({"ChuHoSo": "Nguyễn\x00Văn An"}, "ChuHoSo (text_forbidden_char)"),
    ({"TenTTHC": "Đăng ký \u202ekhai sinh"}, "TenTTHC (text_forbidden_char)"),
    ({"ChuHoSo": "Nguyễn Văn\nAn"}, "ChuHoSo (text_forbidden_char)"),
    ({"GhiChu": "ghi chú\x07"}, "GhiChu (text_forbidden_char)"),
    ({"DiaChiChuHoSo": "Thôn \u2066Bản Mòng"}, "DiaChiChuHoSo (text_forbidden_char)"),
    ({"TrichYeuHoSo": "x" * 1001}, "TrichYeuHoSo (text_too_long)"),
    ({"DanhSachThuPhi": [{"NguoiThu": "T" * 51}]},
     "DanhSachThuPhi.0.NguoiThu (text_too_long)"),
    ({"TaiLieuNop": [{"TenThanhPhan": "Tờ khai\u202d"}]},
     "TaiLieuNop.0.TenThanhPhan (text_forbidden_char)"),
    ({"NgayTiepNhan": "27/10/2023"}, "NgayTiepNhan (string_pattern_mismatch)"),
    ({"NgayTiepNhan": "20231399250000"}, "NgayTiepNhan"),
])
def test_strings_outside_the_rules_are_refused_naming_the_field(
        gateway: GatewayServer, station_token: str, fields: dict[str, Any], where: str) -> None:
    resp = put(gateway, station_token, sample_document(**fields))
    assert resp.status_code == 422 and resp.json()["code"] == wire.E_INVALID
    assert where in resp.json()["message"]
    assert stored(gateway) == 0


@pytest.mark.parametrize("fields", [{"ChuHoSo": "\ud800"}, {"GhiChu": "a\udfffb"},
                                    {"DanhSachLePhi": [{"TenPhiLePhi": "\ud83d"}]},
                                    {"X\ud800": "khóa lạ"}])
def test_a_lone_surrogate_is_invalid_not_a_crash(gateway: GatewayServer, station_token: str,
                                                 fields: dict[str, Any]) -> None:
    doc = sample_document(**fields)
    body = json.dumps(doc).encode()  # \ud800 escapes, as a hostile client writes them
    resp = put_raw(gateway, station_token, doc["ClientId"], body)
    assert resp.status_code == 422 and resp.json()["code"] == wire.E_INVALID
    assert stored(gateway) == 0


@pytest.mark.parametrize(("fields", "where"), [
    # Refused while the body is parsed, before any field is looked at.
    ({"NoiDung": "\ud800"}, "(surrogate) đứng lẻ"),
    ({"NguoiXuLy": "Triệu\u202eHương"}, "NguoiXuLy (text_forbidden_char)"),
    ({"Loai": "r" * 10_000}, "Loai (text_too_long)"),
    ({"ChiTiet": {"LyDo": "a\x00"}}, "ChiTiet.LyDo (text_forbidden_char)"),
])
def test_events_follow_the_same_rules(gateway: GatewayServer, station_token: str,
                                      fields: dict[str, Any], where: str) -> None:
    doc = sample_document()
    assert put(gateway, station_token, doc).status_code == 200
    event = {"EventId": "e-1", "ClientId": doc["ClientId"], "MaHoSo": doc["MaHoSo"],
             "Loai": "returned", "ThoiDiem": "20231103093200", **fields}
    resp = requests.post(gateway.url + wire.EVENTS, data=json.dumps(event).encode(),
                         headers={**auth_headers(station_token),
                                  "Content-Type": "application/json"}, timeout=5)
    assert resp.status_code == 422 and where in resp.json()["message"]


def test_free_text_keeps_its_lines_and_vietnamese(gateway: GatewayServer,
                                                  station_token: str) -> None:
    doc = sample_document(GhiChu="Dòng 1: đã nộp bản sao.\nDòng 2:\tchờ bổ sung.",
                          ChuHoSo="Lò Thị Ngọc Ánh", DiaChiChuHoSo="Bản Mòng,\nChiềng Cơi")
    assert put(gateway, station_token, doc).json()["result"] == "created"


# --- receipt times ahead of the gateway's clock ----------------------------------------

def test_a_receipt_time_from_the_future_is_stored_and_flagged(
        gateway: GatewayServer, station_token: str, capsys: pytest.CaptureFixture[str]
        ) -> None:
    ahead = (now_vn() + timedelta(hours=3)).strftime("%Y%m%d%H%M%S")
    doc = sample_document(NgayTiepNhan=ahead)
    resp = put(gateway, station_token, doc)
    ack = wire.DossierAck.model_validate(resp.json())
    assert (ack.result, ack.warnings) == ("created", [wire.W_RECEIVED_IN_FUTURE])
    assert put(gateway, station_token, doc).json()["warnings"] == [wire.W_RECEIVED_IN_FUTURE]
    nxt = put(gateway, station_token, {**doc, "PhienBan": 2, "GhiChu": "sửa"}).json()
    assert nxt["warnings"] == [wire.W_RECEIVED_IN_FUTURE]  # still ahead: flagged again
    near = (now_vn() + timedelta(minutes=2)).strftime("%Y%m%d%H%M%S")
    fine = put(gateway, station_token, sample_document(NgayTiepNhan=near)).json()
    assert (fine["result"], fine["warnings"]) == ("created", [])

    with gateway.sessions() as s:
        d = s.scalars(select(Dossier).where(Dossier.client_id == doc["ClientId"])).one()
        assert d.received_at == ahead  # the station's fact, as sent
        flags = s.scalars(select(DossierFlag).order_by(DossierFlag.id)).all()
    assert [(f.revision, f.kind) for f in flags] == [(1, wire.W_RECEIVED_IN_FUTURE),
                                                     (2, wire.W_RECEIVED_IN_FUTURE)]
    rows = {r.client_id: r for r in list_dossiers(gateway.state)}
    assert rows[doc["ClientId"]].flags == (wire.W_RECEIVED_IN_FUTURE,)
    assert len(rows) == 2 and sum(bool(r.flags) for r in rows.values()) == 1

    assert admin_cli.main(["list", "--data", str(gateway.config.data_dir)]) == 0
    out = capsys.readouterr().out
    flagged = next(line for line in out.splitlines() if doc["MaHoSo"] in line)
    assert "⚠ Thời điểm tiếp nhận muộn hơn đồng hồ cổng tỉnh" in flagged


# --- the station's side ----------------------------------------------------------------

def _queued_dossier(ctx: AppContext) -> tuple[int, dict[str, Any]]:
    with ctx.db.read() as s:
        e = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "dossier")
                      .order_by(OutboxEntry.id.desc())).first()
        assert e is not None
        return e.id, dict(e.payload)


def test_a_code_of_another_digit_is_parked_as_refused_not_sent(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer, station_token: str) -> None:
    # The PC was set to digit 2 while its token is counter 1's.
    service = StationService(ctx)
    service.save(replace(service.require(), station_digit=2))
    synced_station.set_token(station_token)
    uuid = receive(ctx, clerk)
    report = engine(synced_station).run_once(pull=False)
    assert (report.refused, report.dossiers_sent) == (1, 0)
    [item] = open_items(ctx)
    assert item.state == "refused" and item.response["status"] == 403
    assert item.response["code"] == wire.E_NOT_OWNER
    assert "thuộc một quầy khác" in item.last_error and "số hiệu quầy" in item.last_error
    assert gateway_dossiers(gateway) == []
    with ctx.db.read() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "sync_refused",
                                                   AuditEntry.entity_id == uuid)).one()
        assert audit.detail["code"] == wire.E_NOT_OWNER
        assert not s.scalars(select(AuditEntry).where(
            AuditEntry.action == "dossier_synced")).all()


def test_a_revision_jump_is_parked_as_refused_and_the_stored_one_kept(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer) -> None:
    uuid = receive(ctx, clerk)
    assert engine(synced_station).run_once(pull=False).dossiers_sent == 1
    _, sent = _queued_dossier(ctx)
    jump = dict(sent, PhienBan=sent["PhienBan"] + wire.MAX_REVISION_STEP + 1)
    with ctx.db.write() as s:
        s.add(OutboxEntry(entity_type="dossier", entity_id=uuid, operation="changed",
                          payload=jump, state="pending", attempts=0,
                          created_at=ctx.clock.now(), next_attempt_at=ctx.clock.now()))
    report = engine(synced_station).run_once(pull=False)
    assert (report.refused, report.dossiers_sent) == (1, 0)
    [item] = open_items(ctx)
    assert item.state == "refused" and item.response["code"] == wire.E_REVISION_JUMP
    assert "phiên bản" in item.last_error
    assert [d["revision"] for d in gateway_dossiers(gateway)] == [sent["PhienBan"]]


def test_the_station_fits_its_documents_to_the_text_rules(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer) -> None:
    uuid = receive(ctx, clerk)
    entry_id, queued = _queued_dossier(ctx)
    assert text_rules.check_document(queued) is None  # the builder's own output
    # A document queued before the rules, with a pasted note and a long address.
    old = dict(queued, GhiChu="Ghi chú\r\ndòng 2\x07", ChuHoSo="Lò\u202e Văn\tMinh",
               DiaChiChuHoSo="Bản " * 300)
    with ctx.db.write() as s:
        s.get(OutboxEntry, entry_id).payload = old
    report = engine(synced_station).run_once(pull=False)
    assert (report.dossiers_sent, report.refused) == (1, 0)
    with gateway.sessions() as s:
        body = json.loads(s.scalars(select(Dossier.body).where(Dossier.client_id == uuid)).one())
    assert (body["GhiChu"], body["ChuHoSo"]) == ("Ghi chú\ndòng 2", "Lò Văn Minh")
    assert len(body["DiaChiChuHoSo"]) == text_rules.field_max("DiaChiChuHoSo")
    assert body["DiaChiChuHoSo"].endswith("…")


# --- the wire model's validators (properties) ------------------------------------------

FIELDS = ["ChuHoSo", "GhiChu", "MaTTHC", "TrichYeuHoSo", "NguoiXuLy", "Added"]
FORBIDDEN = ([chr(c) for c in range(0x20) if chr(c) not in "\t\n"]
             + [chr(c) for c in range(0x7F, 0xA0)] + [chr(c) for c in range(0x202A, 0x202F)]
             + [chr(c) for c in range(0x2066, 0x206A)] + ["\ud800", "\udbff", "\udfff"])
VIETNAMESE = string.ascii_letters + string.digits + " .,-/()ăâđêôơưáàảãạếềểễệốồổỗộớờởỡợứừửữự"


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(FIELDS), text=st.text())
def test_fitted_text_always_passes_the_check(name: str, text: str) -> None:
    assert text_rules.check_text(name, text_rules.fit_text(name, text)) is not None


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(FIELDS), text=st.text(alphabet=VIETNAMESE, max_size=50))
def test_text_within_the_rules_is_left_as_it_is(name: str, text: str) -> None:
    assert text_rules.check_text(name, text) == text
    assert text_rules.fit_text(name, text) == text


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(FIELDS), head=st.text(alphabet=VIETNAMESE, max_size=20),
       bad=st.sampled_from(FORBIDDEN), tail=st.text(max_size=20))
def test_a_forbidden_character_is_refused_with_the_field_name(name: str, head: str, bad: str,
                                                              tail: str) -> None:
    doc = {"ClientId": "c", "MaDonVi": AGENCY, "MaHoSo": "", "PhienBan": 1,
           "TaiLieuNop": [{name: head + bad + tail}]}
    with pytest.raises(ValidationError) as err:
        wire.DossierDocument.model_validate(doc)
    first = err.value.errors()[0]
    assert first["loc"] == ("TaiLieuNop", 0, name)
    assert first["type"] in {"text_forbidden_char", "text_too_long"}


@settings(max_examples=200, deadline=None)
@given(revision=st.integers(min_value=-(2**70), max_value=2**70))
def test_revision_is_valid_exactly_within_64_bits(revision: int) -> None:
    doc = {"ClientId": "c", "MaDonVi": AGENCY, "MaHoSo": "", "PhienBan": revision}
    try:
        wire.DossierDocument.model_validate(doc)
        valid = True
    except ValidationError:
        valid = False
    assert valid == (0 <= revision < 2**63)
