"""ID-card QR parsing: real-shaped payloads, every defect, and no crash on any input."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.domain.citizen_qr import (
    CitizenCard,
    CitizenQrError,
    format_citizen_qr,
    looks_like_citizen_qr,
    parse_citizen_qr,
)

pytestmark = pytest.mark.nodb


def windows_garble(text: str) -> str:
    """UTF-8 bytes shown as Windows-1252, CP1252's five holes passed through as Latin-1."""
    out = []
    for b in text.encode():
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


GOOD = ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|"
        "Thôn Bản Mòng, Xã Chiềng Cơi, Sơn La|15082021")


def test_parses_the_domain_example() -> None:
    card = parse_citizen_qr(GOOD)
    assert card == CitizenCard("001099012345", "123456789", "Nguyễn Văn An", date(1990, 1, 1),
                               "Nam", "Thôn Bản Mòng, Xã Chiềng Cơi, Sơn La",
                               date(2021, 8, 15))


@pytest.mark.parametrize(
    ("payload", "name", "issue"),
    [
        # Newer cards: empty old ID, trailing CR/LF from the scanner.
        ("019190001234||Hoàng Thị Mai|12031992|Nữ|Thôn Nà Lẹng|20042021\r\n",
         "Hoàng Thị Mai", date(2021, 4, 20)),
        # 6 fields (no issue date) and 8 fields (an extra trailing field).
        ("019190001234||Lục Văn Páo|01011960|Nam|Bản Khuổi Ác", "Lục Văn Páo", None),
        ("019190001234||Lục Văn Páo|01011960|Nam|Bản Khuổi Ác|01072024|", "Lục Văn Páo",
         date(2024, 7, 1)),
        # NFD (decomposed accents, as some scanners and IMEs send) becomes NFC.
        (unicodedata.normalize("NFD", GOOD), "Nguyễn Văn An", date(2021, 8, 15)),
        # UTF-8 read as Latin-1 by a wrongly configured wedge: repaired.
        (GOOD.encode().decode("latin-1"), "Nguyễn Văn An", date(2021, 8, 15)),
        # Bytes straight from the image decoder, with a NUL terminator.
        (GOOD.encode() + b"\x00", "Nguyễn Văn An", date(2021, 8, 15)),
        ("001099012345|123456789|nguyễn văn an|01011990|nữ|Sơn La|15082021",
         "nguyễn văn an", date(2021, 8, 15)),
        # "Đ" is C4 90: CP1252 has no 0x90, so such text mixes CP1252 and Latin-1.
        (windows_garble("001099012345||Đặng Thị Ngọc Ánh|01011990|Nữ|Sơn La|15082021"),
         "Đặng Thị Ngọc Ánh", date(2021, 8, 15)),
        # Garbled twice (copy/paste through two wrongly configured programs).
        (GOOD.encode().decode("latin-1").encode().decode("latin-1"), "Nguyễn Văn An",
         date(2021, 8, 15)),
        # NFD text garbled: the combining marks become "Ì\x82", "Ìƒ"…
        (unicodedata.normalize("NFD", GOOD).encode().decode("latin-1"), "Nguyễn Văn An",
         date(2021, 8, 15)),
        # A BOM in front, a tab-free trailing NUL, and undecodable-byte escapes from argv.
        ("\ufeff" + GOOD + "\x00", "Nguyễn Văn An", date(2021, 8, 15)),
        (GOOD.encode().decode("utf-8", "surrogateescape"), "Nguyễn Văn An", date(2021, 8, 15)),
        # Ethnic-minority names that break Vietnamese spelling rules are not "IME damage".
        ("066190001234||Y Wơn Ksor|05051990|Nam|Buôn Ko Sier, Đắk Lắk|01072024",
         "Y Wơn Ksor", date(2024, 7, 1)),
        ("064190001234||Rơ Mah H'Boong|05051990|Nữ|Làng Kép, Gia Lai|01072024",
         "Rơ Mah H'Boong", date(2024, 7, 1)),
        ("004090001234||Giàng Seo Lử|05051990|Nam|Bản Khuổi Ác   , xã  Nà Phặc|",
         "Giàng Seo Lử", None),
    ],
)
def test_variants(payload: str | bytes, name: str, issue: date | None) -> None:
    card = parse_citizen_qr(payload)
    assert card.full_name == name
    assert unicodedata.is_normalized("NFC", card.full_name)
    assert card.issue_date == issue


@pytest.mark.parametrize(
    ("payload", "message_part"),
    [
        ("", "Không nhận được dữ liệu"),
        ("   \r\n", "Không nhận được dữ liệu"),
        ("https://example.vn/abc", "1 trường"),
        ("001099012345|1|2|3", "4 trường"),
        # More fields than any card holds: two scans run together, or another QR.
        ("|".join([GOOD] * 4), "28 trường"),
        ("00109901234|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", "12 chữ số"),
        ("0010990123456|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", "12 chữ số"),
        ("001099012345|12345678|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", "9 chữ số"),
        ("001099012345|123456789||01011990|Nam|Sơn La|15082021", "Họ và tên"),
        ("001099012345|123456789|Nguyễn Văn An|31021990|Nam|Sơn La|15082021", "không tồn tại"),
        ("001099012345|123456789|Nguyễn Văn An|1011990|Nam|Sơn La|15082021", "ddMMyyyy"),
        ("001099012345|123456789|Nguyễn Văn An|01012990|Nam|Sơn La|15082021", "tương lai"),
        ("001099012345|123456789|Nguyễn Văn An|01011990|Male|Sơn La|15082021", "Giới tính"),
        ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15081980", "trước ngày sinh"),
        # Typed through a Vietnamese IME left on (VNI / Telex) by the wedge.
        ("001099012345|123456789|Nguye64n Va8n An|01011990|Nam|Sơn La|15082021", "bộ gõ"),
        ("001099012345|123456789|Nguyeenx Vawn An|01011990|Nam|Sơn La|15082021", "bộ gõ"),
        # Mojibake that cannot be repaired.
        ("001099012345|123456789|NguyÃ»n VÄƒn|01011990|Nam|Sơn La|15082021", "phông"),
        ("001099012345|123456789|Nguyễn\x1bVăn|01011990|Nam|Sơn La|15082021", "điều khiển"),
        (b"\xff\xfe001099012345", "UTF-8"),
        ("001099012345|123456789|Nguy?n V?n An|01011990|Nam|S?n La|15082021", "dấu “?”"),
        ("001099012345|123456789|Nguyen Van An|01011990|Nam|Th\ufffdn B|15082021", "“?”"),
        # AZERTY digit row: 001099012345 typed on a French keyboard layout.
        ("àà&àççà&é\"'(|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", "AZERTY"),
        ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|Sơn La\u200b|15082021",
         "điều khiển"),
        ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|31132021", "không tồn tại"),
        ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|2021-08-15", "ddMMyyyy"),
        ("001099012345|123456789|Nguyễn Văn An 2|01011990|Nam|Sơn La|15082021", "chữ số"),
        ("٠٠١٠٩٩٠١٢٣٤٥|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", "12 chữ số"),
    ],
)
def test_every_defect_has_a_clear_message(payload: str | bytes, message_part: str) -> None:
    with pytest.raises(CitizenQrError) as err:
        parse_citizen_qr(payload, today=date(2026, 11, 23))
    assert message_part in err.value.message_vi
    assert err.value.detail


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("", "payload"),
        ("001099012345|1|2", "payload"),
        ("00109901234|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", "id_number"),
        ("001099012345|12345678|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", "old_id_number"),
        ("001099012345|123456789| |01011990|Nam|Sơn La|15082021", "full_name"),
        ("001099012345|123456789|Nguyễn Văn An|31022000|Nam|Sơn La|15082021", "birth_date"),
        ("001099012345|123456789|Nguyễn Văn An|01011990|X|Sơn La|15082021", "sex"),
        ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|00002021", "issue_date"),
    ],
)
def test_detail_names_the_field(payload: str, field: str) -> None:
    with pytest.raises(CitizenQrError) as err:
        parse_citizen_qr(payload)
    assert err.value.detail.startswith(field + ":")


def test_mojibake_message_tells_the_clerk_what_to_do() -> None:
    with pytest.raises(CitizenQrError) as err:
        parse_citizen_qr("001099012345|123456789|NguyÃ»n VÄƒn|01011990|Nam|Sơn La|15082021")
    assert "Unikey" in err.value.message_vi and "UTF-8" in err.value.message_vi


def test_extra_fields_and_age() -> None:
    card = parse_citizen_qr(GOOD + "|Nguyễn Văn Bình")
    assert card.extra == ("Nguyễn Văn Bình",)
    assert format_citizen_qr(card) == GOOD + "|Nguyễn Văn Bình"
    assert card.age_on(date(2025, 12, 31)) == 35
    assert card.age_on(date(2025, 1, 1)) == 35
    assert card.age_on(date(2024, 12, 31)) == 34


def test_consistency_warnings_are_soft() -> None:
    # 4th digit 0 = male born 1900s, digits 5–6 = birth year: 001 0 90 …
    ok = parse_citizen_qr("001090012345||Nguyễn Văn An|01011990|Nam|Sơn La|15082021")
    assert ok.consistency_warnings() == []
    odd = parse_citizen_qr("001399012345||Nguyễn Văn An|01011990|Nam|Sơn La|15082021")
    warnings = odd.consistency_warnings()
    assert len(warnings) == 2
    assert "2099" in warnings[0] and "Nữ" in warnings[1]


def test_wedge_detector_shape() -> None:
    assert looks_like_citizen_qr(GOOD)
    assert not looks_like_citizen_qr("001099012345")
    assert not looks_like_citizen_qr("Nguyễn Văn An|01011990|Nam|x|y|z")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary(),
                 st.lists(st.text(max_size=20), min_size=5, max_size=9).map("|".join)))
def test_no_input_crashes_the_parser(payload: str | bytes) -> None:
    try:
        card = parse_citizen_qr(payload)
    except CitizenQrError as exc:
        assert exc.message_vi
    else:
        assert len(card.id_number) == 12 and card.sex in ("Nam", "Nữ")


names = st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíị"
                "òỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ ", min_size=2, max_size=30).filter(
    # Doubled a/e/o/d never occur in Vietnamese spelling (they signal Telex keystrokes).
    lambda s: s.strip() and "  " not in s and s == s.strip()
    and not any(d in s for d in ("aa", "ee", "oo", "dd")))


@settings(max_examples=300, deadline=None)
@given(
    id_number=st.from_regex(r"\A[0-9]{12}\Z"),
    old_id=st.one_of(st.just(""), st.from_regex(r"\A[0-9]{9}\Z")),
    name=names,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    sex=st.sampled_from(["Nam", "Nữ"]),
    address=names.map(lambda s: f"Số 12, {s}, tỉnh Thái Nguyên"),
    issued=st.one_of(st.none(), st.dates(min_value=date(2021, 1, 1),
                                         max_value=date(2026, 1, 1))),
    extra=st.lists(names, max_size=1).map(tuple),
)
def test_format_then_parse_roundtrips(id_number: str, old_id: str, name: str, birth: date,
                                      sex: str, address: str, issued: date | None,
                                      extra: tuple[str, ...]) -> None:
    card = CitizenCard(id_number, old_id, name, birth, sex, address, issued, extra)
    payload = format_citizen_qr(card)
    assert looks_like_citizen_qr(payload)
    assert parse_citizen_qr(payload) == card
    # What a misconfigured wedge makes of it is repaired to the same card.
    assert parse_citizen_qr(payload.encode().decode("latin-1")) == card
    assert parse_citizen_qr(unicodedata.normalize("NFD", payload).encode()) == card


# --- the layouts in circulation -----------------------------------------------------------

BASE6 = "019190001234||Hoàng Thị Mai|12031992|Nữ|Thôn Nà Lẹng, xã Nà Phặc"


@pytest.mark.parametrize(
    ("payload", "issue", "extra"),
    [
        # 6 fields: no issue date at all.
        (BASE6, None, ()),
        # 7 fields: the 2021–2024 chip card; the issue date may be empty.
        (BASE6 + "|20042021", date(2021, 4, 20), ()),
        (BASE6 + "|", None, ()),
        # Trailing "|" and empty fields after the issue date: nothing in them.
        (BASE6 + "|20042021|", date(2021, 4, 20), ()),
        (BASE6 + "|20042021||", date(2021, 4, 20), ()),
        (BASE6 + "|20042021|||||", date(2021, 4, 20), ()),
        (BASE6 + "||||", None, ()),
        # Newer cards: further fields after the issue date, some of them empty.
        (BASE6 + "|01072024|Hoàng Văn Páo", date(2024, 7, 1), ("Hoàng Văn Páo",)),
        (BASE6 + "|01072024|Hoàng Văn Páo|Lục Thị Dung", date(2024, 7, 1),
         ("Hoàng Văn Páo", "Lục Thị Dung")),
        (BASE6 + "|01072024||Lục Thị Dung|", date(2024, 7, 1), ("", "Lục Thị Dung")),
        (BASE6 + "|01072024|Hoàng Văn Páo||Tày|01072039|", date(2024, 7, 1),
         ("Hoàng Văn Páo", "", "Tày", "01072039")),
        # 10+ fields, with spaces around the separators.
        (BASE6 + "| 01072024 |a| b |c|d|e|f|g|", date(2024, 7, 1),
         ("a", "b", "c", "d", "e", "f", "g")),
    ],
)
def test_every_layout_in_circulation(payload: str, issue: date | None,
                                     extra: tuple[str, ...]) -> None:
    card = parse_citizen_qr(payload)
    assert (card.id_number, card.full_name, card.sex) == ("019190001234", "Hoàng Thị Mai", "Nữ")
    assert card.address == "Thôn Nà Lẹng, xã Nà Phặc"
    assert (card.issue_date, card.extra) == (issue, extra)
    assert looks_like_citizen_qr(payload)


@pytest.mark.parametrize(
    ("payload", "message_part"),
    [
        # Five fields, even with a trailing "|", are not a card (the address is missing).
        ("019190001234||Hoàng Thị Mai|12031992|Nữ", "5 trường"),
        # The longest layouts still have their first six fields checked.
        (BASE6.replace("12031992", "1203199") + "|01072024|a|b|c", "ddMMyyyy"),
        (BASE6.replace("Nữ", "F") + "|01072024|a|b|c", "Giới tính"),
        (BASE6 + "|1072024|a|b", "Ngày cấp"),
        ("|".join([BASE6 + "|01072024"] * 4), "28 trường"),
    ],
)
def test_long_layouts_are_still_checked(payload: str, message_part: str) -> None:
    with pytest.raises(CitizenQrError) as err:
        parse_citizen_qr(payload, today=date(2026, 11, 23))
    assert message_part in err.value.message_vi


extras = st.lists(st.one_of(st.just(""), names, st.from_regex(r"\A[0-9]{8}\Z")), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    id_number=st.from_regex(r"\A[0-9]{12}\Z"),
    name=names,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    issued=st.one_of(st.none(), st.dates(min_value=date(2021, 1, 1),
                                         max_value=date(2026, 1, 1))),
    extra=extras,
    trailing=st.integers(min_value=0, max_value=4),
)
def test_longer_layouts_keep_their_extra_fields(id_number: str, name: str, birth: date,
                                                issued: date | None, extra: list[str],
                                                trailing: int) -> None:
    """Any number of further fields (empty ones too) and of empty fields at the end: the
    card is the same, the further fields are kept in order, the empty tail is dropped."""
    head = CitizenCard(id_number, "", name, birth, "Nam", "Bản Khuổi Ác, xã Nà Phặc",
                       issued)
    payload = format_citizen_qr(head) + "".join("|" + f for f in extra) + "|" * trailing
    card = parse_citizen_qr(payload)
    kept = list(extra)
    while kept and not kept[-1]:
        kept.pop()
    assert card == CitizenCard(id_number, "", name, birth, "Nam", "Bản Khuổi Ác, xã Nà Phặc",
                               issued, tuple(kept))
    assert looks_like_citizen_qr(payload)
    # What is left after the issue date round-trips through format_citizen_qr.
    assert parse_citizen_qr(format_citizen_qr(card)) == card


@settings(max_examples=200, deadline=None)
@given(fields=st.lists(st.text(alphabet="0123456789|abc ", max_size=14), min_size=0,
                       max_size=40))
def test_field_count_never_crashes_and_bad_counts_are_named(fields: list[str]) -> None:
    payload = "001099012345|" + "|".join(fields)
    count = payload.count("|") + 1
    try:
        parse_citizen_qr(payload)
    except CitizenQrError as exc:
        if count < 6 or count > 24:
            assert f"{count} trường" in exc.message_vi
