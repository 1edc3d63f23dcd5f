"""The intake draft's JSON document: every field round-trips, and reading is tolerant of
older, newer and damaged documents."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.digitization import DigitizedFile
from desktop_app.intake.draft_payload import (
    FORMAT,
    VERSION,
    DraftUnreadable,
    from_payload,
    to_payload,
)
from desktop_app.intake.drafts import (
    ComponentEntry,
    Delivery,
    IntakeDraft,
    PersonInfo,
    SavedIntake,
)

pytestmark = pytest.mark.nodb

# What a clerk or a scanner can put in a field: any printable text, Vietnamese in NFC or
# NFD, emoji, line breaks; not NUL or lone surrogates (no input method produces them, and
# PostgreSQL's JSON refuses \u0000).
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=30)
vietnamese = st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyÁÀẢÃẠẤẦẨẪẬĐƯỨỪỬỮỰ ̣̀́̃̉",
                     max_size=20)
names = st.one_of(texts, vietnamese)
counts = st.integers(min_value=0, max_value=99)

people = st.builds(
    PersonInfo,
    full_name=names, id_number=texts,
    birth_date=st.none() | st.dates(date(1900, 1, 1), date(2030, 12, 31)),
    sex=st.sampled_from(["", "Nam", "Nữ"]) | texts, address=names, phone=texts, email=texts,
)
files = st.builds(
    DigitizedFile,
    sha256=st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
    file_name=names.filter(bool), part=st.integers(1, 9), parts=st.integers(1, 9),
    pages=st.integers(0, 2000), size=st.integers(0, 2**40), dpi=st.integers(0, 1200),
    modes=st.lists(st.sampled_from(["colour", "grey", "bilevel"]), max_size=3).map(tuple),
    profile=texts,
)


@st.composite
def components(draw: st.DrawFn) -> ComponentEntry:
    entry = ComponentEntry(
        code=draw(texts.filter(bool)), name=draw(names), originals=draw(counts),
        certified_copies=draw(counts), photocopies=draw(counts), required=draw(st.booleans()),
        provided=draw(st.booleans()), problem=draw(names))
    entry.files = draw(st.lists(files, max_size=3))
    return entry


drafts = st.builds(
    IntakeDraft,
    procedure_code=texts.filter(bool), owner=people, submitter=st.none() | people,
    components=st.lists(components(), max_size=5), set_count=st.integers(1, 99),
    delivery=st.sampled_from(Delivery), delivery_address=names, note=names,
)
saved_intakes = st.builds(
    SavedIntake,
    draft=drafts, step=st.integers(0, 4),
    draft_id=st.uuids().map(lambda u: u.hex), procedure_name=names,
    owner_birth_text=st.sampled_from(["", "12/03/19", "31/02/1990"]) | texts,
    submitter_birth_text=st.sampled_from(["", "5.11"]) | texts,
    studio_workspace=st.just("") | st.from_regex(r"ws-[0-9a-f]{12}", fullmatch=True),
)


def as_stored(payload: dict) -> dict:  # type: ignore[type-arg]
    """What a JSON column gives back."""
    return json.loads(json.dumps(payload))


@settings(max_examples=300)
@given(saved_intakes)
def test_every_field_round_trips(saved: SavedIntake) -> None:
    payload = as_stored(to_payload(saved))
    assert payload["format"] == FORMAT and payload["version"] == VERSION
    back, problems = from_payload(payload, saved.step)
    assert problems == []
    if saved.draft.submitter is None:
        # Without a submitter there is no form to hold a typed birth date.
        saved.submitter_birth_text = ""
    assert back == saved


def minimal(**extra: object) -> dict:  # type: ignore[type-arg]
    return {"format": FORMAT, "version": 1, "draft_id": "d1",
            "procedure": {"code": "9.000005", "name": "Cấp Giấy xác nhận"}, **extra}


def test_a_document_from_before_a_field_existed_reads_with_defaults() -> None:
    # An earlier writer knew only the procedure and the owner's name.
    saved, problems = from_payload(
        {"draft_id": "d1", "procedure": {"code": "9.000005"},
         "owner": {"full_name": "Hoàng Thị Mai"}}, 2)
    assert problems == []
    assert saved.step == 2 and saved.draft_id == "d1"
    assert saved.draft.owner == PersonInfo(full_name="Hoàng Thị Mai")
    assert saved.draft.submitter is None and saved.draft.components == []
    assert (saved.draft.set_count, saved.draft.delivery, saved.draft.note) == (
        1, Delivery.COUNTER, "")
    assert saved.studio_workspace == "" and saved.procedure_name == ""


def test_a_document_from_a_newer_version_reads_what_it_knows() -> None:
    saved, problems = from_payload(minimal(
        version=VERSION + 3, owner={"full_name": "Lò Văn Páo", "nickname": "Páo"},
        priority="urgent", delivery="post", delivery_address="Bản Nà Lẹng"), 1)
    assert problems == []
    assert saved.draft.owner.full_name == "Lò Văn Páo"
    assert saved.draft.delivery is Delivery.POST


@pytest.mark.parametrize("damage, expected", [
    ({"owner": "Hoàng Thị Mai"}, "Thông tin chủ hồ sơ không đọc được."),
    ({"submitter": ["x"]}, "Thông tin người nộp hồ sơ không đọc được."),
    ({"components": [{"code": "TK", "name": "Tờ khai", "files": [{"sha256": "xyz"}]}]},
     "Một tệp số hóa của thành phần “Tờ khai” không đọc được."),
    ({"components": [42]}, "Một thành phần hồ sơ trong bản nháp không đọc được."),
    ({"delivery": "drone"}, "Hình thức nhận kết quả trong bản nháp không đọc được."),
])
def test_a_damaged_part_is_dropped_and_named(damage: dict, expected: str) -> None:  # type: ignore[type-arg]
    saved, problems = from_payload(minimal(**damage))
    assert problems == [expected]
    assert saved.draft.procedure_code == "9.000005"


@pytest.mark.parametrize("field, value, read_as", [
    ("set_count", "3", 1),
    ("set_count", True, 1),
    ("note", 12, ""),
    ("studio_workspace", None, ""),
])
def test_wrong_types_fall_back_to_defaults(field: str, value: object, read_as: object) -> None:
    saved, _ = from_payload(minimal(**{field: value}))
    holder = saved.draft if hasattr(saved.draft, field) else saved
    assert getattr(holder, field) == read_as


def test_a_birth_date_that_is_not_iso_is_kept_as_typed() -> None:
    saved, problems = from_payload(minimal(owner={"birth_date": "12/03/1992"}))
    assert problems == []
    assert saved.draft.owner.birth_date is None
    assert saved.owner_birth_text == "12/03/1992"


@pytest.mark.parametrize("payload", [
    None, [], "draft", {"format": "something-else", "procedure": {"code": "1"}},
    {"format": FORMAT, "version": 1}, {"procedure": "9.000005"},
])
def test_what_is_not_a_draft_is_refused(payload: object) -> None:
    with pytest.raises(DraftUnreadable) as err:
        from_payload(payload)
    assert "chỉ có thể bỏ bản nháp" in err.value.message_vi


@pytest.mark.parametrize("change, blank", [
    ({}, True),
    ({"owner": PersonInfo(full_name="A")}, False),
    ({"submitter": PersonInfo()}, True),
    ({"submitter": PersonInfo(phone="0912")}, False),
    ({"set_count": 2}, False),
    ({"delivery": Delivery.POST}, False),
    ({"note": "x"}, False),
    ({"components": [ComponentEntry("TK", "Tờ khai", originals=2)]}, True),
    ({"components": [ComponentEntry("TK", "Tờ khai", provided=True)]}, False),
    ({"components": [ComponentEntry("TK", "Tờ khai", problem="thiếu chữ ký")]}, False),
])
def test_blank_means_nothing_typed_ticked_or_digitized(change: dict, blank: bool) -> None:  # type: ignore[type-arg]
    draft = IntakeDraft("9.000005", **change)
    assert SavedIntake(draft, draft_id="d").is_blank() is blank


def test_a_typed_birth_date_alone_is_worth_keeping() -> None:
    assert not SavedIntake(IntakeDraft("9.000005"), owner_birth_text="12/03").is_blank()
