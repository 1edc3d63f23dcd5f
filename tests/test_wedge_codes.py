"""The shapes a keyboard-wedge scan may take: what can still grow into a scan (the keyboard
filter holds it back) and what is a whole one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.wedge_codes import ScanKind, WedgeCodes, WedgeScan, id_card_head_seen

pytestmark = pytest.mark.nodb

CARD = "019190001234||Hoàng Thị Mai|12031992|Nữ|Thôn Nà Lẹng, xã Nà Phặc|20042021"
CODE = "000.00.12.H12-231027-1001"
URL = f"https://dichvucong.thainguyen.gov.vn/tra-cuu?ma={CODE}"
PLAIN = WedgeCodes()


@pytest.mark.parametrize("text", [
    "0", "01919000", "019190001234", "019190001234|", CARD[:30], CARD, CARD + "|",
    "000.", "000.00.12.H", "000.00.12.h12-2310", CODE, CODE + "9",
    "h", "H", "htt", "HTTPS:/", "http://", URL[:40], URL,
])
def test_what_may_still_be_a_scan(text: str) -> None:
    assert PLAIN.could_continue(text)


@pytest.mark.parametrize("text", [
    "", "a", "Nguyễn", "0912 ", "0912345678901", "0191900012345", "01919000123|",
    "000,", "000.00.12.HH", CODE + "-", "hoa", "http:x", "https://x y", "٠١٢",
    "1" * 12 + "|" + "x" * 2000,
])
def test_what_cannot_be_a_scan(text: str) -> None:
    assert not PLAIN.could_continue(text)


@pytest.mark.parametrize(("text", "scan"), [
    (CARD, WedgeScan(ScanKind.ID_CARD, CARD)),
    # Card-shaped but damaged: still a scan (the intake page says what is wrong).
    (CARD.replace("12031992", "31021992"), WedgeScan(ScanKind.ID_CARD,
                                                     CARD.replace("12031992", "31021992"))),
    ("019190001234||Lò A|01011990|Nam|Bản B", WedgeScan(ScanKind.ID_CARD,
                                                        "019190001234||Lò A|01011990|Nam|Bản B")),
    (CODE, WedgeScan(ScanKind.RECEIPT, CODE)),
    (URL, WedgeScan(ScanKind.RECEIPT, URL)),
    ("019190001234", None),  # an ID number typed or scanned alone: typing
    ("019190001234||Lò A|01011990", None),
    ("000.00.12.H12-2310", None),
    ("https://dichvucong.gov.vn/", None),  # a URL without a dossier code is not ours
])
def test_whole_scans(text: str, scan: WedgeScan | None) -> None:
    assert PLAIN.complete(text) == scan


def test_prefix_makes_anything_a_scan() -> None:
    codes = WedgeCodes(prefix="\x02]Q")
    assert codes.could_continue("\x02") and codes.could_continue("\x02]")
    assert codes.could_continue("\x02]Qbất kỳ nội dung gì")
    assert not codes.could_continue("]Q")
    assert codes.complete("\x02]Qmã lạ 123") == WedgeScan(ScanKind.OTHER, "mã lạ 123")
    assert codes.complete("\x02]Q" + CARD) == WedgeScan(ScanKind.ID_CARD, CARD)
    assert codes.complete("\x02]Q" + CODE) == WedgeScan(ScanKind.RECEIPT, CODE)
    assert codes.complete("\x02]Q") is None  # nothing after the prefix
    # Without the prefix the usual codes are still scans (a second scanner, say).
    assert codes.complete(CARD) == WedgeScan(ScanKind.ID_CARD, CARD)


def test_suffix_ends_a_scan() -> None:
    codes = WedgeCodes(suffix="\x03~")
    assert codes.ends_with_suffix(CARD + "\x03~")
    assert codes.complete(CARD + "\x03~", by_suffix=True) == WedgeScan(ScanKind.ID_CARD, CARD)
    # While the suffix arrives, what came before must be a scan for it to go on.
    assert codes.could_continue(CODE + "\x03")
    assert not codes.could_continue("0912\x03x")
    both = WedgeCodes(prefix="§", suffix="\x03")
    assert both.complete("§abc\x03", by_suffix=True) == WedgeScan(ScanKind.OTHER, "abc")


def test_id_card_head() -> None:
    assert not id_card_head_seen("019190001234")
    assert id_card_head_seen("019190001234|")
    assert id_card_head_seen(CARD)
    assert not id_card_head_seen(CODE)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_every_whole_scan_could_be_growing_on_the_way(text: str) -> None:
    """The filter holds a scan key by key: every beginning of a whole scan must still
    look like one, or it would be let through half way."""
    codes = WedgeCodes(prefix="\x02", suffix="~")
    for candidate in (text, CARD + text.replace("\n", ""), "\x02" + text):
        for by_suffix in (False, True):
            full = candidate + ("~" if by_suffix else "")
            if codes.complete(full, by_suffix=by_suffix) is None or len(full) > 1000:
                continue
            assert all(codes.could_continue(full[:i]) for i in range(1, len(full) + 1))
