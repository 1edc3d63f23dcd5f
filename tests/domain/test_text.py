"""Vietnamese text helpers: folding for search, alphabetical order for lists and reports."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.domain.text import fold, vi_sort_key

pytestmark = pytest.mark.nodb


def test_fold() -> None:
    assert fold("  Nguyễn Văn ĐỨC ") == "nguyen van duc"


def test_vietnamese_alphabetical_order() -> None:
    shuffled = ["Ưng", "Đào", "Ông", "Ân", "Chứng", "Ăn", "An", "Êm", "Bình", "Ánh", "Em",
                "Ơn", "Dung", "Cấp", "Uyên", "Oanh"]
    assert sorted(shuffled, key=vi_sort_key) == [
        "An", "Ánh", "Ăn", "Ân", "Bình", "Cấp", "Chứng", "Dung", "Đào", "Em", "Êm", "Oanh",
        "Ông", "Ơn", "Uyên", "Ưng"]
    # Tones only break ties, in the order ngang, huyền, hỏi, ngã, sắc, nặng.
    assert sorted(["mạ", "má", "mà", "ma", "mã", "mả"], key=vi_sort_key) == [
        "ma", "mà", "mả", "mã", "má", "mạ"]


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậ ", max_size=12))
def test_same_key_for_nfc_and_nfd(text: str) -> None:
    assert vi_sort_key(text) == vi_sort_key(unicodedata.normalize("NFD", text))
