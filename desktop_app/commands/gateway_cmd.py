"""`motcua gateway …`: the reference provincial gateway, when this install has it.

FastAPI and uvicorn are the `gateway` extra, not requirements of a counter: a station
installed with pip has them only if asked for (the installers carry them). Without them
the command says what to install instead of a traceback."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

DIST = "motcua-offline"
EXTRA = "gateway"
# What the gateway imports that a counter never needs (the `gateway` extra's tree).
GATEWAY_MODULES = ("fastapi", "starlette", "uvicorn")
# As `motcua gui` in an install without the GUI: this install cannot do what was asked.
EXIT_NOT_INSTALLED = 2


def missing_module() -> str | None:
    """The first gateway module this install lacks (None: all there)."""
    for name in GATEWAY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


def not_installed_message(module: str) -> str:
    return (f"Lỗi: bản cài này không có hệ thống tỉnh mẫu (thiếu gói “{module}”). "
            f"Cài thêm: pip install '{DIST}[{EXTRA}]'")


def run(argv: Sequence[str], prog: str = "motcua gateway") -> int:
    missing = missing_module()
    if missing is not None:
        print(not_installed_message(missing), file=sys.stderr)
        return EXIT_NOT_INSTALLED
    from provincial_gateway.admin_cli import main as gateway_main

    return int(gateway_main(list(argv) or ["serve"], prog=prog) or 0)
