"""The cached provincial procedure catalog: import, search, favourites."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from desktop_app.context import AppContext
from desktop_app.domain.calendar import TimeUnit
from desktop_app.domain.errors import DomainError
from desktop_app.domain.fees import FeeBasis, FeeCount, FeeRule, assess
from desktop_app.domain.text import fold, nfc
from local_db import repositories as repo
from local_db.models import Procedure, ProcedureComponent, ProcedureFee
from sync_contract import settings_rules

log = logging.getLogger(__name__)

_CODE_LIKE = re.compile(r"^[0-9][0-9.]*[0-9A-Za-z.]*$")


class CatalogError(DomainError):
    pass


@dataclass(frozen=True)
class ComponentInfo:
    code: str
    name: str
    originals: int
    certified_copies: int
    photocopies: int
    required: bool
    note: str = ""


@dataclass(frozen=True)
class ProcedureSummary:
    code: str
    name: str
    field_name: str
    time_limit_text: str
    favourite: bool


@dataclass(frozen=True)
class ProcedureInfo:
    code: str
    name: str
    field_code: str
    field_name: str
    time_limit_amount: float
    time_limit_unit: TimeUnit
    time_limit_text: str
    result: str
    components: tuple[ComponentInfo, ...]
    fees: tuple[FeeRule, ...]
    legal_basis: tuple[str, ...]

    @property
    def fee_total(self) -> int:
        """What the schedule asks with nothing counted yet (one copy, one page): the
        amount of a per-case line, the unit price of a counted one."""
        return sum(assess(f, (FeeCount(),)).amount for f in self.fees)

    @property
    def time_limit_label(self) -> str:
        """Short printed form, e.g. "05 ngày làm việc" or "Trong ngày"."""
        if self.time_limit_unit is TimeUnit.SAME_DAY:
            return "Trong ngày (nhận sau 15 giờ trả trong ngày làm việc tiếp theo)"
        amount = self.time_limit_amount
        if float(amount).is_integer():
            shown = f"{int(amount):02d}"
        else:
            shown = f"{amount:g}".replace(".", ",")
        return f"{shown} {self.time_limit_unit.label_vi}"


def sample_catalog_path() -> Path:
    return Path(str(resources.files("resources") / "catalog" / "procedures.json"))


def _summary(p: Procedure, favourites: set[str]) -> ProcedureSummary:
    return ProcedureSummary(p.code, p.name, p.field_name, p.time_limit_text, p.code in favourites)


def _info(p: Procedure) -> ProcedureInfo:
    return ProcedureInfo(
        code=p.code,
        name=p.name,
        field_code=p.field_code,
        field_name=p.field_name,
        time_limit_amount=p.time_limit_amount,
        time_limit_unit=TimeUnit(p.time_limit_unit),
        time_limit_text=p.time_limit_text,
        result=p.result,
        components=tuple(
            ComponentInfo(c.code, c.name, c.originals, c.certified_copies, c.photocopies,
                          c.required, c.note)
            for c in p.components
        ),
        fees=tuple(_rule(f) for f in p.fees),
        legal_basis=tuple(p.legal_basis or ()),
    )


def _rule(f: ProcedureFee) -> FeeRule:
    try:
        basis = FeeBasis(f.basis or "case")
    except ValueError:  # a basis a newer catalog knows: charge per case, and say so
        log.warning("fee %s: unknown basis %r, charged per case", f.code, f.basis)
        basis = FeeBasis.CASE
    return FeeRule(f.code, f.name, f.amount, f.kind, basis, f.later_from_page or 0,
                   f.later_amount or 0, f.cap_per_copy or 0, f.note)


def fee_row(f: dict[str, Any], pos: int) -> ProcedureFee:
    """One schedule line as stored, checked by the rules the province's fee schedules
    follow too (``settings_rules.fee_line_problems``); ValueError names what is wrong."""
    problems = settings_rules.fee_line_problems(f)
    if problems:
        raise ValueError("; ".join(problems))
    basis = str(f.get("basis", "case") or "case")
    numbers = {k: int(f.get(k, 0) or 0) for k in settings_rules.FEE_NUMBERS}
    return ProcedureFee(code=nfc(f.get("code", "")), name=nfc(f["name"]),
                        kind=f.get("kind", "le_phi"), note=nfc(f.get("note", "")),
                        position=pos, basis=basis, **numbers)


def _procedure_row(item: dict[str, Any], version: str) -> Procedure:
    try:
        code = nfc(item["code"])
        name = nfc(item["name"])
        limit = item["time_limit"]
        unit = TimeUnit(limit["unit"])
        amount = float(limit.get("amount", 0))
        components = item["components"]
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(
            "Danh mục thủ tục có mục thiếu hoặc sai trường bắt buộc.",
            f"catalog item {item.get('code') if isinstance(item, dict) else item!r}: {exc!r}",
        ) from exc
    if not components:
        raise CatalogError(f"Thủ tục {code} không có thành phần hồ sơ.", f"{code}: no components")
    row = Procedure(
        code=code,
        name=name,
        name_folded=fold(name),
        field_code=nfc(item.get("field_code", "")),
        field_name=nfc(item.get("field_name", "")),
        level=nfc(item.get("level", "")),
        time_limit_amount=amount,
        time_limit_unit=unit.value,
        time_limit_text=nfc(limit.get("text", "")),
        result=nfc(item.get("result", "")),
        legal_basis=[nfc(x) for x in item.get("legal_basis", [])],
        note=nfc(item.get("note", "")),
        catalog_version=version,
        active=True,
    )
    for pos, c in enumerate(components):
        row.components.append(
            ProcedureComponent(
                code=nfc(c.get("code") or f"TP{pos + 1:02d}"),
                name=nfc(c["name"]),
                originals=int(c.get("originals", 0)),
                certified_copies=int(c.get("certified_copies", 0)),
                photocopies=int(c.get("photocopies", 0)),
                required=bool(c.get("required", True)),
                position=pos,
                note=nfc(c.get("note", "")),
            )
        )
    try:
        row.fees.extend(fee_row(f, pos) for pos, f in enumerate(item.get("fees", [])))
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(
            "Danh mục thủ tục có mức phí, lệ phí không đọc được.",
            f"catalog item {code}: fees: {exc!r}") from exc
    return row


CATALOG_LOCK = "motcua.catalog"


class CatalogService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def count(self) -> int:
        with self.ctx.db.read() as s:
            return repo.count_procedures(s)

    def ensure_sample_catalog(self) -> int:
        """Load the bundled sample catalog into an empty database; returns procedures added."""
        if self.count() > 0:
            return 0
        return self.import_file(sample_catalog_path())

    def import_file(self, path: Path) -> int:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CatalogError(
                f"Không đọc được tệp danh mục thủ tục {path.name}.", f"{path}: {exc!r}"
            ) from exc
        return self.import_data(data)

    def import_data(self, data: dict[str, Any]) -> int:
        """Replace or add procedures by code (a catalog refresh keeps favourites)."""
        version = str(data.get("catalog_version", ""))
        rows = [_procedure_row(item, version) for item in data.get("procedures", [])]
        now = self.ctx.clock.now()
        # Several counters on one server pull the same catalog at their first sync: one
        # replaces it, the next waits, then finds every procedure there and updates it.
        with self.ctx.db.write(lock=CATALOG_LOCK) as s:
            for row in rows:
                existing = repo.procedure(s, row.code)
                if existing is None:
                    s.add(row)
                    continue
                # Update in place: dossiers reference the procedure by code, so the row
                # must stay; its components and fees are replaced wholesale.
                for column in Procedure.__table__.columns:
                    if column.key != "code":
                        setattr(existing, column.key, getattr(row, column.key))
                existing.components.clear()
                existing.fees.clear()
                s.flush()
                existing.components.extend(row.components)
                existing.fees.extend(row.fees)
            repo.add_audit(s, now, None, "catalog_imported", "catalog", version,
                           {"procedures": len(rows)})
        log.info("catalog %s imported: %d procedures", version, len(rows))
        return len(rows)

    def search(self, query: str, clerk_id: int | None = None, limit: int = 100
               ) -> list[ProcedureSummary]:
        """Name without diacritics ("khai sinh"), or code prefix ("1.0011"); favourites first."""
        q = nfc(query)
        terms = fold(q).split()
        code_prefix = q if _CODE_LIKE.match(q) else ""
        with self.ctx.db.read() as s:
            favs = repo.favourite_codes(s, clerk_id) if clerk_id is not None else set()
            rows = repo.search_procedures(s, terms if not code_prefix else [], code_prefix, limit)
            result = [_summary(p, favs) for p in rows]
        result.sort(key=lambda p: not p.favourite)
        return result

    def exists(self, code: str) -> bool:
        with self.ctx.db.read() as s:
            return repo.procedure(s, code) is not None

    def get(self, code: str) -> ProcedureInfo:
        with self.ctx.db.read() as s:
            row = repo.procedure(s, code)
            if row is None:
                raise CatalogError(f"Không tìm thấy thủ tục mã {code}.",
                                   f"unknown procedure {code}")
            return _info(row)

    def set_favourite(self, clerk_id: int, code: str, on: bool) -> None:
        with self.ctx.db.write() as s:
            repo.set_favourite(s, clerk_id, code, on)
