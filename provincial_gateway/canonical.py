"""Canonical JSON: the form in which bodies are compared, stored and hashed."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def json_bytes(obj: Any) -> bytes:
    return canonical_json(obj).encode("utf-8")


def short_hash(obj: Any) -> str:
    return hashlib.sha256(json_bytes(obj)).hexdigest()[:16]
