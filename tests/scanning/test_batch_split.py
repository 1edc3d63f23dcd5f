"""Splitting a scanned ADF batch at its separator sheets."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.scanning.barcodes import make_qr_image
from desktop_app.scanning.batch_split import (
    BatchSplit,
    WarningKind,
    is_blank,
    load_page_image,
    split_batch,
)
from desktop_app.scanning.model import CancelledError, CancelToken
from desktop_app.scanning.separators import SeparatorSpec
from tests.scanning.batch_images import (
    HARSH,
    MILD,
    Batch,
    BatchPage,
    a4_pixels,
    blank_page,
    degrade,
    save_jpeg,
    text_page,
    write_batch,
)

DPI = 150
A, B, C, D = (f"000.00.12.H12-231027-{n}" for n in ("1001", "1002", "2003", "1004"))


def _spec(code: str, comp: str, index: int) -> SeparatorSpec:
    return SeparatorSpec(code, comp, index, "Hoàng Thị Mai", "Giấy tờ của thành phần")


LAYOUT = [
    (None, ["text", "text"]),  # loose pages before the first separator
    (_spec(A, "TK", 1), ["text", "text"]),
    (_spec(A, "GTTT", 2), ["idcard"]),  # a citizen QR inside the batch
    (_spec(A, "BSKS", 3), ["text", "receipt"]),  # and a receipt's dossier QR
    (_spec(B, "TK", 1), ["text"]),
    (_spec(B, "GCN", 2), ["text", "text", "text"]),
    (_spec(C, "TK", 1), ["text"]),
    (_spec(C, "DON", 2), ["text", "text"]),
    (_spec(C, "UQ", 3), ["text"]),
    (_spec(C, "GTTT", 4), ["idcard", "text"]),
    (_spec(D, "TK", 1), ["text", "text"]),
    (_spec(D, "GCS", 2), ["text"]),
    (_spec(D, "BSKH", 3), ["text", "text"]),
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return write_batch(tmp_path_factory.mktemp("simplex"), LAYOUT, dpi=DPI, seed=11,
                       how=HARSH)


@pytest.fixture(scope="module")
def duplex_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    layout = [(_spec(A, "TK", 1), ["text"]), (_spec(A, "GTTT", 2), ["idcard"]),
              (_spec(B, "TK", 1), ["text", "text"]), (_spec(B, "GCN", 2), ["text"])]
    return write_batch(tmp_path_factory.mktemp("duplex"), layout, dpi=DPI, seed=5, how=MILD,
                       duplex=True, face_down=frozenset({1}))


def _groups(result: BatchSplit) -> list[tuple[str | None, str | None, int | None, list[str]]]:
    return [(g.dossier_code, g.component_code, g.component_index,
             [p.path.name for p in g.pages]) for g in result.groups]


def _expected(batch: Batch, pages: list[BatchPage] | None = None
              ) -> list[tuple[str | None, str | None, int | None, list[str]]]:
    """The expected groups, or those of a sub-list of the batch's pages (groups whose
    separator was left out, and pages left out, are not expected)."""
    wanted = {p.path.name for p in pages or batch.pages}
    out = []
    for (code, comp, index, numbers), opened in zip(batch.expected, batch.opened_by,
                                                    strict=True):
        names = [batch.pages[n - 1].path.name for n in numbers]
        names = [n for n in names if n in wanted]
        if opened is not None and batch.pages[opened - 1].path.name not in wanted:
            continue
        if code is None and not names:
            continue
        out.append((code, comp, index, names))
    return out


def _kinds(result: BatchSplit) -> list[WarningKind]:
    return [w.kind for w in result.warnings]


def _without_separator_pages(pages: list[BatchPage]) -> list[BatchPage]:
    return [p for p in pages if not p.kind.startswith("separator")]


def test_a_mixed_batch_is_split_exactly(batch: Batch) -> None:
    assert 30 <= len(batch.pages) <= 40 and batch.separators == 12
    assert any(p.upside_down for p in batch.pages)  # some sheets went in rotated 180°
    calls: list[tuple[int, int | None]] = []
    result = split_batch(batch.pages, known_dossiers={A, B, C, D},
                         progress=lambda done, total: calls.append((done, total)))
    assert _groups(result) == _expected(batch)
    assert result.separator_pages == [n for n, p in enumerate(batch.pages, 1)
                                      if p.kind == "separator"]
    assert calls == [(n, len(batch.pages)) for n in range(1, len(batch.pages) + 1)]
    # The loose leading pages are reported, not dropped; nothing else is wrong.
    assert _kinds(result) == [WarningKind.UNASSIGNED_PAGES]
    [loose] = result.unassigned
    assert loose.page_numbers == [1, 2]
    assert "2 trang" in result.warnings[0].message_vi
    assert "trước tờ phân cách đầu tiên" in result.warnings[0].message_vi
    assert list(result.by_dossier()) == [A, B, C, D]
    assert all(g.known_dossier for g in result.assigned)
    # The ID-card photocopies were seen as foreign codes and kept as content.
    idcards = [n for n, p in enumerate(batch.pages, 1) if p.kind == "idcard"]
    assert all(result.detections[n].spec is None for n in idcards)


def test_batch_starting_with_a_separator_has_no_unassigned_group(batch: Batch) -> None:
    pages = batch.pages[2:14]  # dossier A and the start of B
    result = split_batch(iter(pages))  # a generator: read lazily, total unknown
    assert _groups(result) == _expected(batch, pages)
    assert result.unassigned == [] and result.warnings == []


def test_consecutive_separators_give_an_empty_component(batch: Batch) -> None:
    first_b = 10  # B/TK, followed by one text page
    assert batch.pages[first_b].kind == "separator"
    pages = [*batch.pages[first_b:first_b + 1], *batch.pages[first_b + 2:first_b + 6]]
    result = split_batch(pages)
    groups = _groups(result)
    assert groups[0] == (B, "TK", 1, [])
    assert groups[1][:3] == (B, "GCN", 2) and len(groups[1][3]) == 3
    [warning] = result.warnings
    assert warning.kind == WarningKind.EMPTY_COMPONENT
    assert warning.message_vi.startswith("Thành phần số 1 (mã TK) của hồ sơ " + B)
    assert "không có trang nào" in warning.message_vi and warning.page_number == 1


def test_a_separator_at_the_end_is_an_empty_component(batch: Batch) -> None:
    last = max(i for i, p in enumerate(batch.pages) if p.kind == "separator")
    result = split_batch([batch.pages[last - 1], batch.pages[last]])
    assert [g.pages for g in result.groups] == [[batch.pages[last - 1]], []]
    assert _kinds(result) == [WarningKind.UNASSIGNED_PAGES, WarningKind.EMPTY_COMPONENT]


def test_unknown_dossier_is_reported(batch: Batch) -> None:
    pages = batch.pages[12:21]  # B/GCN, C/TK and C/DON
    result = split_batch(pages, known_dossiers={A, B})
    unknown = [w for w in result.warnings if w.kind == WarningKind.UNKNOWN_DOSSIER]
    assert len(unknown) == 2 and all(C in w.message_vi for w in unknown)
    assert unknown[0].message_vi.endswith("hãy kiểm tra lại tờ phân cách.")
    assert [g.known_dossier for g in result.assigned] == [True, False, False]
    assert _groups(result) == _expected(batch, pages)  # the groups are still made


def test_cancel_stops_between_pages_without_reading_ahead(batch: Batch) -> None:
    token = CancelToken()
    pulled: list[int] = []

    def pages() -> Iterator[BatchPage]:
        for n, page in enumerate(batch.pages, 1):
            pulled.append(n)
            yield page

    def progress(done: int, total: int | None) -> None:
        assert total is None
        if done == 4:
            token.cancel()

    with pytest.raises(CancelledError):
        split_batch(pages(), progress=progress, cancel=token)
    assert pulled == [1, 2, 3, 4]  # nothing was taken from the source after the cancel


def test_pages_given_as_image_loaders(batch: Batch) -> None:
    pages = batch.pages[2:9]
    opened: list[str] = []

    def loader(page: BatchPage) -> Image.Image:
        opened.append(page.path.name)
        return Image.open(page.path)

    loaders = [lambda p=p: loader(p) for p in pages]
    result = split_batch(loaders)
    assert [len(g.pages) for g in result.groups] == [len(e[3]) for e in _expected(batch, pages)]
    assert result.groups[0].pages == loaders[1:3]  # the caller's own objects come back
    assert opened == [p.path.name for p in pages]


def test_no_separator_at_all(batch: Batch) -> None:
    pages = _without_separator_pages(batch.pages)[:4]
    result = split_batch(pages)
    [group] = result.groups
    assert group.unassigned and group.pages == pages
    assert _kinds(result) == [WarningKind.UNASSIGNED_PAGES, WarningKind.NO_SEPARATOR]
    assert "Không tìm thấy tờ phân cách nào trong 4 trang" in result.warnings[1].message_vi


def test_an_unusable_separator_leaves_the_following_pages_unassigned(
        batch: Batch, tmp_path: Path) -> None:
    page = Image.new("L", a4_pixels(DPI), 255)
    page.paste(make_qr_image("MCO-SEP/2|000.00.12.H12-231027-1001|TK|1", box_size=5,
                             level="H"), (300, 150))
    newer = BatchPage(save_jpeg(page, tmp_path / "newer.jpg", 80, DPI), kind="separator")
    content = _without_separator_pages(batch.pages)[2:4]
    result = split_batch([batch.pages[2], content[0], newer, content[1]])
    assert [(g.dossier_code, g.pages) for g in result.groups] == \
        [(A, [content[0]]), (None, [content[1]])]
    assert _kinds(result) == [WarningKind.INVALID_SEPARATOR, WarningKind.UNASSIGNED_PAGES]
    assert "trang 3 không dùng được" in result.warnings[0].message_vi
    assert "phiên bản" in result.warnings[0].message_vi


def test_unreadable_page_is_kept_and_reported(batch: Batch, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(batch.pages[3].path.read_bytes()[:300])
    result = split_batch([batch.pages[2], BatchPage(broken), batch.pages[3]])
    assert [len(g.pages) for g in result.groups] == [2]
    [warning] = result.warnings
    assert warning.kind == WarningKind.UNREADABLE_PAGE and warning.page_number == 2
    assert "Không đọc được trang 2" in warning.message_vi


def test_a_repeated_separator_is_reported(batch: Batch) -> None:
    sep, text = batch.pages[2], batch.pages[3]
    result = split_batch([sep, text, sep, text])
    assert [len(g.pages) for g in result.groups] == [1, 1]
    assert _kinds(result) == [WarningKind.REPEATED_COMPONENT]
    assert "lần đầu ở trang 1" in result.warnings[0].message_vi


def test_duplex_batch_drops_both_sides_of_each_separator(duplex_batch: Batch) -> None:
    pages = duplex_batch.pages
    assert [p.side for p in pages[:4]] == ["front", "back", "front", "back"]
    result = split_batch(pages, duplex=True)
    assert _groups(result) == _expected(duplex_batch)
    assert result.warnings == []
    dropped = {n for n, p in enumerate(pages, 1) if p.kind.startswith("separator")}
    assert set(result.separator_pages) == dropped and len(dropped) == 8
    # The sheet fed face down: its blank front came first and went out with it.
    assert pages[4].kind == "separator-back" and pages[5].kind == "separator"


def test_duplex_without_side_information_pairs_pages_in_order(duplex_batch: Batch) -> None:
    paths = [p.path for p in duplex_batch.pages]
    result = split_batch(paths, duplex=True)
    assert [[p.name for p in g.pages] for g in result.groups] == \
        [e[3] for e in _expected(duplex_batch)]


def test_separator_back_with_content_is_reported(batch: Batch) -> None:
    front = BatchPage(batch.pages[2].path, side="front")  # separator A/TK
    back = BatchPage(batch.pages[3].path, side="back")  # a text page on its back
    after = BatchPage(batch.pages[4].path, side="front")
    result = split_batch([front, back, after])
    assert [g.pages for g in result.groups] == [[after]]
    assert result.separator_pages == [1, 2]
    assert _kinds(result) == [WarningKind.SEPARATOR_BACK_NOT_BLANK]
    assert "trang 2" in result.warnings[0].message_vi


@pytest.mark.parametrize("dpi", [150, 240])
def test_blank_detection(dpi: int) -> None:
    rng = random.Random(dpi)
    text = text_page(rng, dpi)
    scan = degrade(blank_page(rng, dpi, text), rng, dpi, HARSH)  # noise and bleed-through
    assert is_blank(load_page_image(scan))
    assert not is_blank(load_page_image(degrade(text, rng, dpi, HARSH)))
    signature = Image.new("L", a4_pixels(dpi), 255)
    signature.paste(0, (dpi, dpi * 8, dpi * 2, dpi * 8 + dpi // 40))  # one thin 2.5 cm line
    assert not is_blank(load_page_image(degrade(signature, rng, dpi, HARSH)))
