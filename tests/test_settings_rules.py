"""The rules of the province's settings (sync_contract.settings_rules) are the station's
own: the same names, modes, sizes, fee bases and forms the station's types know."""

from __future__ import annotations

import pytest

from desktop_app.domain.fees import FeeBasis
from desktop_app.scanning.model import PAGE_SIZES_MM, ColourMode
from desktop_app.scanning.profiles import profile_problems
from desktop_app.signers import SignedKind, SignerBlock, SignerError, check_block
from sync_contract import settings_rules, wire
from sync_contract.settings_rules import document_problems

pytestmark = pytest.mark.nodb


def test_the_contract_names_what_the_station_knows() -> None:
    assert tuple(PAGE_SIZES_MM) == settings_rules.PAGE_SIZES
    assert tuple(m.value for m in ColourMode) == settings_rules.COLOUR_MODES
    assert tuple(b.value for b in FeeBasis) == settings_rules.FEE_BASES
    assert tuple(k.value for k in SignedKind) == settings_rules.SIGNER_FORMS
    assert settings_rules.MAX_UPLOAD_BYTES == wire.MAX_FILE_BYTES
    assert set(settings_rules.DOCUMENT_KEYS) == set(wire.ProvinceSettings.model_fields)


@pytest.mark.parametrize(("doc", "where"), [
    ({"version": "1", "published_at": "x", "upload_limit_bytes": 1000}, "upload_limit_bytes"),
    ({"version": "1", "published_at": "x", "upload_limit_bytes": True}, "upload_limit_bytes"),
    ({"version": "", "published_at": "x"}, "version"),
    ({"version": "1", "published_at": "x", "scan_profiles": [{"name": "a", "label_vi": "A",
                                                              "dpi": 150}]},
     "scan_profiles[1].dpi"),
    ({"version": "1", "published_at": "x", "scan_profiles": [
        {"name": "a", "label_vi": "A"}, {"name": "a", "label_vi": "B"}]}, "scan_profiles[2].name"),
    ({"version": "1", "published_at": "x", "scan_profiles": [{"name": "a", "label_vi": "A",
                                                              "colour": True}]},
     "scan_profiles[1].colour"),
    ({"version": "1", "published_at": "x", "fee_schedules": {"1.001193": [
        {"name": "Lệ phí", "amount": -5}]}}, "fee_schedules[1.001193][1]"),
    ({"version": "1", "published_at": "x", "fee_schedules": {"1.001193": [
        {"name": "Lệ phí", "amount": 5, "basis": "dossier"}]}}, "basis"),
    ({"version": "1", "published_at": "x", "signers": {"04": {"title": ""}}}, "signers[04]"),
    ({"version": "1", "published_at": "x", "signers": {"04": {"title": "X" * 121}}},
     "signers[04]"),
    ({"version": "1", "published_at": "x", "fees": {}}, "fees"),
])
def test_every_problem_says_where_it_is(doc: dict, where: str) -> None:
    problems = document_problems(doc)
    assert problems and any(p.startswith(where) or where in p for p in problems), problems


def test_a_complete_document_passes() -> None:
    assert document_problems({
        "version": "2026.12-1", "published_at": "2026-12-07T09:00:00+07:00",
        "upload_limit_bytes": 10 * 1024 * 1024,
        "scan_profiles": [{"name": "a0-ban-do", "label_vi": "Bản đồ A0", "dpi": 300,
                           "mode": "colour", "page_size": "A0", "paper": "flatbed"}],
        "fee_schedules": {"2.000815": [{"code": "PCT", "name": "Phí chứng thực",
                                        "amount": 2000, "basis": "page",
                                        "later_from_page": 3, "later_amount": 1000,
                                        "cap_per_copy": 200000}]},
        "signers": {"04": {"authority": "TM. ỦY BAN NHÂN DÂN", "title": "CHỦ TỊCH"}},
    }) == []


def test_station_validators_are_the_contract_rules() -> None:
    """The station's own checks give the same verdicts: a profile, a signer block."""
    assert [p.field for p in profile_problems({"name": "a", "label_vi": "A", "dpi": 199})] \
        == ["dpi"]
    with pytest.raises(SignerError, match="họ tên"):
        check_block(SignerBlock("", "", "CHỦ TỊCH", ""))
    assert check_block(SignerBlock("", "", "chủ tịch", ""), require_name=False).title \
        == "CHỦ TỊCH"
