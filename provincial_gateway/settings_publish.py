"""The province's settings document (scan profiles, upload limit, fee schedules, signer
blocks): published from a JSON or TOML file, kept as one reference document, served to
every station with a strong ETag like the catalog.

A document is checked with the rules the stations apply (`sync_contract.settings_rules`)
before it is stored, so a station never receives what it would refuse. A version string
names one content for ever: publishing other content under a published version is
refused, publishing the same file again changes nothing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from provincial_gateway.canonical import canonical_json
from provincial_gateway.db import ReferenceDoc
from provincial_gateway.refdata import RefDataError
from provincial_gateway.state import GatewayState
from provincial_gateway.timeutil import iso_now
from sync_contract import settings_rules

SETTINGS = "province_settings"
MAX_SHOWN = 8  # problems listed in the refusal; the rest are counted
# What a station gets before the province has published anything: no part is the
# province's yet.
UNPUBLISHED: dict[str, Any] = {"version": "", "published_at": ""}


def load_settings_file(path: Path) -> dict[str, Any]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise RefDataError(f"Không đọc được tệp cài đặt {path}: {exc.strerror}") from exc
    try:
        if Path(path).suffix.lower() == ".toml":
            doc: Any = tomllib.loads(raw.decode("utf-8"))
        else:
            doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RefDataError(f"Tệp cài đặt {path} không phải văn bản UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise RefDataError(f"Tệp cài đặt {path} không phải JSON hợp lệ (dòng {exc.lineno}).") \
            from exc
    except tomllib.TOMLDecodeError as exc:
        raise RefDataError(f"Tệp cài đặt {path} không phải TOML hợp lệ ({exc}).") from exc
    if not isinstance(doc, dict):
        raise RefDataError(f"Tệp cài đặt {path} phải là một đối tượng JSON/TOML.")
    return doc


def check_settings(state: GatewayState, doc: dict[str, Any]) -> None:
    """The stations' rules, then this gateway's own ceiling on one file."""
    problems = settings_rules.document_problems(doc)
    limit = doc.get("upload_limit_bytes")
    ceiling = state.config.max_file_bytes
    if not problems and isinstance(limit, int) and limit > ceiling:
        problems.append(f"upload_limit_bytes: lớn hơn mức cổng tỉnh nhận cho một tệp "
                        f"({ceiling} byte)")
    if problems:
        shown = problems[:MAX_SHOWN]
        more = len(problems) - len(shown)
        raise RefDataError("Cài đặt không hợp lệ, chưa công bố:\n" + "\n".join(
            f"- {p}" for p in shown) + (f"\n… và {more} lỗi khác." if more else ""))


def publish_settings(state: GatewayState, path: Path) -> tuple[dict[str, Any], bool]:
    """(the published document, whether it is new). ``published_at`` is now unless the
    file gives it."""
    doc = load_settings_file(path)
    doc.setdefault("published_at", iso_now())
    check_settings(state, doc)
    content = {k: v for k, v in doc.items() if k != "published_at"}
    with state.sessions.begin() as s:
        row = s.get(ReferenceDoc, SETTINGS)
        if row is not None:
            current = json.loads(row.body)
            if current.get("version") == doc["version"]:
                same = {k: v for k, v in current.items() if k != "published_at"} == content
                if same:
                    return current, False
                raise RefDataError(f"Phiên bản “{doc['version']}” đã được công bố với nội "
                                   "dung khác; hãy đặt số phiên bản mới.")
            row.body = canonical_json(doc)
        else:
            s.add(ReferenceDoc(name=SETTINGS, body=canonical_json(doc)))
    return doc, True


def settings_body(state: GatewayState) -> dict[str, Any]:
    with state.sessions() as s:
        row = s.get(ReferenceDoc, SETTINGS)
        return json.loads(row.body) if row is not None else dict(UNPUBLISHED)
