"""This PC's QR scanner prefix/suffix: stored per PC with the station, checked, and written
for people with control characters as \\xNN."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.station import (
    StationInfo,
    StationService,
    check_scanner_affix,
    parse_scanner_affix,
    scanner_affix_text,
)


def test_saved_per_pc_with_the_station(ctx: AppContext, station: StationInfo) -> None:
    assert (station.scanner_prefix, station.scanner_suffix) == ("", "")
    service = StationService(ctx)
    saved = service.save(replace(station, scanner_prefix="\x02", scanner_suffix="~"))
    assert service.require() == saved
    assert (saved.scanner_prefix, saved.scanner_suffix) == ("\x02", "~")
    # The agency-wide view (any PC) does not carry one PC's scanner.
    agency = service.agency()
    assert agency is not None and agency.scanner_prefix == "" == agency.scanner_suffix
    # Other settings saved later keep them.
    service.set_retention_and_printer(400, "Canon LBP2900")
    assert service.require().scanner_prefix == "\x02"
    with pytest.raises(DomainError, match="dấu cách"):
        service.save(replace(station, scanner_suffix="\r"))
    assert service.require().scanner_suffix == "~"


@pytest.mark.nodb
@pytest.mark.parametrize(("value", "which", "message"), [
    ("Q1", "prefix", "không được bắt đầu bằng chữ"),
    ("7", "prefix", "không được bắt đầu bằng chữ"),
    ("] Q", "prefix", "dấu cách"),
    ("\t", "suffix", "dấu cách"),
    ("\n", "prefix", "dấu cách"),
    ("|", "suffix", "chữ, chữ số hay"),
    ("#a", "suffix", "chữ, chữ số hay"),
    ("~.", "suffix", "chữ, chữ số hay"),
    ("~" * 17, "suffix", "tối đa 16"),
    ("\x00", "prefix", "\\x00"),
])
def test_affixes_that_would_break_scans_are_refused(value: str, which: str,
                                                    message: str) -> None:
    with pytest.raises(DomainError, match=message.replace("\\", "\\\\")):
        check_scanner_affix(value, which)  # type: ignore[arg-type]


@pytest.mark.nodb
@pytest.mark.parametrize(("value", "which"), [
    ("", "prefix"), ("", "suffix"), ("]Q1", "prefix"), ("\x02", "prefix"), ("~", "suffix"),
    ("\x03\x04", "suffix"), ("§", "prefix"), ("#", "suffix"), ("]e0", "prefix"),
])
def test_usual_affixes_are_accepted(value: str, which: str) -> None:
    assert check_scanner_affix(value, which) == value  # type: ignore[arg-type]


@pytest.mark.nodb
def test_written_for_people() -> None:
    assert scanner_affix_text("\x02]Q1") == "\\x02]Q1"
    assert scanner_affix_text("~\\") == "~\\\\"
    assert parse_scanner_affix("\\x02]Q1", "prefix") == "\x02]Q1"
    assert parse_scanner_affix("\\X03", "suffix") == "\x03"
    with pytest.raises(DomainError, match="hai chữ số hệ 16"):
        parse_scanner_affix("\\x2", "suffix")
    with pytest.raises(DomainError, match="hai chữ số hệ 16"):
        parse_scanner_affix("\\n", "suffix")


@pytest.mark.nodb
@given(st.text(alphabet=st.sampled_from(["\x02", "\x03", "\x1d", "\x7f", "\\", "]", "~", "#",
                                         "§", "x", "0"]), max_size=16))
def test_text_round_trips(value: str) -> None:
    text = scanner_affix_text(value)
    assert all(32 <= ord(ch) != 127 for ch in text)
    try:
        assert parse_scanner_affix(text, "prefix") == value
    except DomainError:
        with pytest.raises(DomainError):
            check_scanner_affix(value, "prefix")
