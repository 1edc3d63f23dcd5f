"""Province reference data the stations pull: catalog, calendar overrides, clerk accounts.

Each is served with a strong ETag (SHA-256 of the exact body) so a station's periodic
pull costs a 304 when nothing changed."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy import select

from provincial_gateway.canonical import canonical_json, json_bytes, short_hash
from provincial_gateway.config import DEFAULT_CATALOG
from provincial_gateway.db import CalendarDay, Clerk, ReferenceDoc
from provincial_gateway.state import GatewayState
from sync_contract import wire

CATALOG = "catalog"
ROLES = ("clerk", "scanner", "supervisor", "technician")


class RefDataError(ValueError):
    """Bad reference data, with a Vietnamese message for the administrator."""


def load_catalog_file(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RefDataError(f"Không đọc được tệp danh mục {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise RefDataError(f"Tệp danh mục {path} không phải JSON hợp lệ (dòng {exc.lineno}).") \
            from exc
    try:
        wire.Catalog.model_validate(doc)
    except ValidationError as exc:
        raise RefDataError(f"Tệp danh mục {path} thiếu catalog_version hoặc procedures.") from exc
    bad = [i for i, p in enumerate(doc["procedures"])
           if not isinstance(p, dict) or not p.get("code") or not p.get("name")]
    if bad:
        raise RefDataError(f"Thủ tục thứ {bad[0] + 1} trong {path} thiếu mã (code) "
                           "hoặc tên (name).")
    return doc


def load_catalog(state: GatewayState) -> None:
    """The catalog the server is configured with, or the sample one on a gateway that has
    none yet."""
    config = state.config
    if config.catalog_file is not None:
        import_catalog(state, config.catalog_file)
    elif get_catalog(state) is None and DEFAULT_CATALOG.is_file():
        import_catalog(state, DEFAULT_CATALOG)


def import_catalog(state: GatewayState, path: Path) -> tuple[str, int]:
    doc = load_catalog_file(path)
    with state.sessions.begin() as s:
        row = s.get(ReferenceDoc, CATALOG)
        if row is None:
            s.add(ReferenceDoc(name=CATALOG, body=canonical_json(doc)))
        else:
            row.body = canonical_json(doc)
    return str(doc["catalog_version"]), len(doc["procedures"])


def get_catalog(state: GatewayState) -> dict[str, Any] | None:
    with state.sessions() as s:
        row = s.get(ReferenceDoc, CATALOG)
        return json.loads(row.body) if row else None


def calendar_body(state: GatewayState) -> dict[str, Any]:
    with state.sessions() as s:
        rows = s.scalars(select(CalendarDay).order_by(CalendarDay.day)).all()
        overrides = [{"day": r.day, "kind": r.kind, "note": r.note} for r in rows]
    return {"version": short_hash(overrides), "overrides": overrides}


def set_calendar_day(state: GatewayState, day: str, kind: str, note: str = "") -> None:
    try:
        day = date.fromisoformat(day.strip()).isoformat()
    except ValueError as exc:
        raise RefDataError(f"Ngày “{day}” không đúng dạng YYYY-MM-DD.") from exc
    if kind not in ("off", "work"):
        raise RefDataError("Loại ngày phải là off (nghỉ) hoặc work (làm việc bù).")
    with state.sessions.begin() as s:
        row = s.get(CalendarDay, day)
        if row is None:
            s.add(CalendarDay(day=day, kind=kind, note=note))
        else:
            row.kind, row.note = kind, note


def remove_calendar_day(state: GatewayState, day: str) -> bool:
    with state.sessions.begin() as s:
        row = s.get(CalendarDay, day.strip())
        if row is None:
            return False
        s.delete(row)
        return True


def clerks_body(state: GatewayState, agency_code: str) -> dict[str, Any]:
    """Only what offline login needs, and a hash only for an active account (an inactive
    one travels so that stations disable it, without its hash)."""
    with state.sessions() as s:
        rows = s.scalars(select(Clerk).where(Clerk.agency_code == agency_code)
                         .order_by(Clerk.username)).all()
        clerks = [{"username": r.username, "full_name": r.full_name, "role": r.role,
                   "password_hash": r.password_hash if r.active else "",
                   "active": r.active} for r in rows]
    return {"version": short_hash(clerks), "clerks": clerks}


def upsert_clerk(state: GatewayState, agency_code: str, username: str, full_name: str,
                 role: str, password_hash: str, active: bool = True) -> bool:
    """Create or replace a clerk account; True when it was created."""
    if role not in ROLES:
        raise RefDataError(f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    username = username.strip()
    if not username:
        raise RefDataError("Tên đăng nhập không được để trống.")
    with state.sessions.begin() as s:
        row = s.scalar(select(Clerk).where(Clerk.agency_code == agency_code,
                                           Clerk.username == username))
        if row is None:
            s.add(Clerk(agency_code=agency_code, username=username, full_name=full_name,
                        role=role, password_hash=password_hash, active=active))
            return True
        row.full_name, row.role, row.password_hash, row.active = (
            full_name, role, password_hash, active)
        return False


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    # If-None-Match uses the weak comparison (RFC 9110 §13.1.2).
    return any(t.strip().removeprefix("W/") == etag for t in header.split(","))


def etag_response(request: Request, payload: dict[str, Any]) -> Response:
    body = json_bytes(payload)
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
