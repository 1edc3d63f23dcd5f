"""The saved intake wizard (``SavedIntake``) as a versioned JSON document and back.

The document lives in ``intake_drafts.payload`` (the step on screen is the row's own
column). Reading is tolerant on purpose: a draft is the clerk's unfinished work, so every
field is taken by name with a default, and what cannot be read is dropped and named
instead of failing the whole draft. A document written before a field existed therefore
reads as if that field were empty; a later change of a field's *meaning* bumps
``VERSION`` and adds a step that rewrites older documents before they are read. A
document from a newer version is read the same best-effort way (its unknown fields are
ignored), which is what a station that went back to an older release needs."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from desktop_app.digitization import DigitizedFile
from desktop_app.domain.errors import DomainError
from desktop_app.domain.fees import FeeCount, PaymentEntry, PaymentMethod
from desktop_app.intake.drafts import (
    ComponentEntry,
    Delivery,
    IntakeDraft,
    PersonInfo,
    SavedIntake,
)

FORMAT = "motcua-intake-draft"
VERSION = 1

_SHA256 = re.compile(r"[0-9a-f]{64}")
_PERSON_TEXT = ("full_name", "id_number", "sex", "address", "phone", "email")


class DraftUnreadable(DomainError):
    """The saved document is not a draft this program can read at all."""


# --- writing ------------------------------------------------------------------------------


def _person(p: PersonInfo, typed_birth: str) -> dict[str, Any]:
    out: dict[str, Any] = {k: getattr(p, k) for k in _PERSON_TEXT}
    out["birth_date"] = p.birth_date.isoformat() if p.birth_date else None
    out["birth_date_typed"] = typed_birth
    return out


def _file(f: DigitizedFile) -> dict[str, Any]:
    return {"sha256": f.sha256, "file_name": f.file_name, "part": f.part, "parts": f.parts,
            "pages": f.pages, "size": f.size, "dpi": f.dpi, "modes": list(f.modes),
            "profile": f.profile,
            **({"reused_from": f.reused_from, "source_code": f.source_code,
                "source_kind": f.source_kind} if f.is_reuse else {})}


def _component(c: ComponentEntry) -> dict[str, Any]:
    return {"code": c.code, "name": c.name, "required": c.required, "provided": c.provided,
            "originals": c.originals, "certified_copies": c.certified_copies,
            "photocopies": c.photocopies, "problem": c.problem,
            "files": [_file(f) for f in c.files]}


def to_payload(saved: SavedIntake) -> dict[str, Any]:
    """The JSON document of ``saved`` (strings as typed: normalising is Receive's job)."""
    d = saved.draft
    return {
        "format": FORMAT,
        "version": VERSION,
        "draft_id": saved.draft_id,
        "procedure": {"code": d.procedure_code, "name": saved.procedure_name},
        "owner": _person(d.owner, saved.owner_birth_text),
        "submitter": (_person(d.submitter, saved.submitter_birth_text)
                      if d.submitter is not None else None),
        "components": [_component(c) for c in d.components],
        "set_count": d.set_count,
        "delivery": d.delivery.value,
        "delivery_address": d.delivery_address,
        "note": d.note,
        "fee_counts": {key: [{"copies": c.copies, "pages": c.pages} for c in counts]
                       for key, counts in d.fee_counts.items()},
        "payment": ({"amount": d.payment.amount, "receipt_number": d.payment.receipt_number,
                     "method": d.payment.method.value, "payer_name": d.payment.payer_name,
                     "reason": d.payment.reason} if d.payment is not None else None),
        "studio_workspace": saved.studio_workspace,
    }


# --- reading ------------------------------------------------------------------------------


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: dict[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key)
    # bool is an int in Python; a true/false where a count belongs is not a count.
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _bool(data: dict[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key)
    return value if isinstance(value, bool) else default


def _read_person(data: object, problems: list[str], who: str) -> tuple[PersonInfo, str]:
    if not isinstance(data, dict):
        if data is not None:
            problems.append(f"Thông tin {who} không đọc được.")
        return PersonInfo(), ""
    birth: date | None = None
    raw = data.get("birth_date")
    typed = _text(data, "birth_date_typed")
    if isinstance(raw, str) and raw:
        try:
            birth = date.fromisoformat(raw)
        except ValueError:
            typed = typed or raw
    person = PersonInfo(**{k: _text(data, k) for k in _PERSON_TEXT}, birth_date=birth)
    return person, typed


def _read_file(data: object) -> DigitizedFile | None:
    if not isinstance(data, dict):
        return None
    sha = _text(data, "sha256")
    if not _SHA256.fullmatch(sha):
        return None
    modes = data.get("modes")
    return DigitizedFile(
        sha256=sha,
        file_name=_text(data, "file_name") or f"{sha[:12]}.pdf",
        part=_int(data, "part", 1),
        parts=_int(data, "parts", 1),
        pages=_int(data, "pages"),
        size=_int(data, "size"),
        dpi=_int(data, "dpi"),
        modes=tuple(m for m in modes if isinstance(m, str)) if isinstance(modes, list) else (),
        profile=_text(data, "profile"),
        reused_from=(data["reused_from"] if isinstance(data.get("reused_from"), int)
                     and not isinstance(data.get("reused_from"), bool) else None),
        source_code=_text(data, "source_code"),
        source_kind="province" if _text(data, "source_kind") == "province" else "component",
    )


def _read_component(data: object, problems: list[str]) -> ComponentEntry | None:
    if not isinstance(data, dict) or not (_text(data, "code") or _text(data, "name")):
        problems.append("Một thành phần hồ sơ trong bản nháp không đọc được.")
        return None
    entry = ComponentEntry(
        code=_text(data, "code"),
        name=_text(data, "name"),
        originals=_int(data, "originals"),
        certified_copies=_int(data, "certified_copies"),
        photocopies=_int(data, "photocopies"),
        required=_bool(data, "required", True),
        provided=_bool(data, "provided"),
        problem=_text(data, "problem"),
    )
    raw_files = data.get("files")
    for raw in raw_files if isinstance(raw_files, list) else []:
        f = _read_file(raw)
        if f is None:
            problems.append(f"Một tệp số hóa của thành phần “{entry.name}” không đọc được.")
        else:
            entry.files.append(f)
    return entry


def _read_fee_counts(data: object, problems: list[str]) -> dict[str, list[FeeCount]]:
    out: dict[str, list[FeeCount]] = {}
    if not isinstance(data, dict):
        return out
    for key, rows in data.items():
        if not isinstance(key, str) or not isinstance(rows, list):
            continue
        counts = [FeeCount(_int(r, "copies", 1), _int(r, "pages", 1))
                  for r in rows if isinstance(r, dict)]
        if len(counts) != len(rows):
            problems.append("Một dòng số bản, số trang tính phí không đọc được.")
        out[key] = counts
    return out


def _read_payment(data: object, problems: list[str]) -> PaymentEntry | None:
    if not isinstance(data, dict):
        return None
    try:
        method = PaymentMethod(data.get("method", PaymentMethod.CASH.value))
    except ValueError:
        method = PaymentMethod.CASH
        problems.append("Hình thức nộp tiền trong bản nháp không đọc được.")
    return PaymentEntry(_int(data, "amount"), _text(data, "receipt_number"), method,
                        _text(data, "payer_name"), _text(data, "reason"))


def from_payload(payload: object, step: int = 0) -> tuple[SavedIntake, list[str]]:
    """The saved wizard, and what of it could not be read (Vietnamese, for the clerk).

    Raises ``DraftUnreadable`` when the document is not a draft at all (no procedure)."""
    if not isinstance(payload, dict) or payload.get("format", FORMAT) != FORMAT:
        raise DraftUnreadable("Bản nháp đã lưu không đọc được; chỉ có thể bỏ bản nháp này.",
                              f"not an intake draft: {type(payload).__name__}")
    procedure = payload.get("procedure")
    procedure = procedure if isinstance(procedure, dict) else {}
    code = _text(procedure, "code")
    if not code:
        raise DraftUnreadable("Bản nháp đã lưu không có thủ tục; chỉ có thể bỏ bản nháp này.",
                              f"intake draft v{payload.get('version')!r} without a procedure")
    problems: list[str] = []
    owner, owner_birth = _read_person(payload.get("owner"), problems, "chủ hồ sơ")
    submitter: PersonInfo | None = None
    submitter_birth = ""
    if payload.get("submitter") is not None:
        submitter, submitter_birth = _read_person(payload["submitter"], problems,
                                                  "người nộp hồ sơ")
    components: list[ComponentEntry] = []
    raw_components = payload.get("components")
    for raw in raw_components if isinstance(raw_components, list) else []:
        entry = _read_component(raw, problems)
        if entry is not None:
            components.append(entry)
    try:
        delivery = Delivery(payload.get("delivery", Delivery.COUNTER.value))
    except ValueError:
        delivery = Delivery.COUNTER
        problems.append("Hình thức nhận kết quả trong bản nháp không đọc được.")
    draft = IntakeDraft(
        procedure_code=code,
        owner=owner,
        submitter=submitter,
        components=components,
        set_count=_int(payload, "set_count", 1),
        delivery=delivery,
        delivery_address=_text(payload, "delivery_address"),
        note=_text(payload, "note"),
        fee_counts=_read_fee_counts(payload.get("fee_counts"), problems),
        payment=_read_payment(payload.get("payment"), problems),
    )
    saved = SavedIntake(
        draft=draft,
        step=step,
        draft_id=_text(payload, "draft_id"),
        procedure_name=_text(procedure, "name"),
        owner_birth_text=owner_birth,
        submitter_birth_text=submitter_birth,
        studio_workspace=_text(payload, "studio_workspace"),
    )
    return saved, problems
