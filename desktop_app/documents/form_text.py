"""The wording of Mẫu 04 and 05, from ``resources/documents/forms.json``: the forms'
names are confirmed against Circular 03/2025's list of forms; the sentences are written
to the forms' required content and kept in that one file, so correcting them against the
Circular's own text is an edit there, not in code."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _forms() -> dict[str, Any]:
    text = (resources.files("resources") / "documents" / "forms.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def title(form: str) -> str:
    return str(_forms()[form]["title"])


def line(form: str, key: str, **values: str) -> str:
    """A sentence of ``form``; ``values`` fill its {placeholders} (already escaped)."""
    return str(_forms()[form]["body"][key]).format(**values)


def confirmed() -> list[str]:
    return [str(k) for k in _forms()["confirmed"]]
