"""Write the gateway's OpenAPI document: `python -m provincial_gateway.openapi_export PATH`.

The output is deterministic (sorted keys, indent 2) so the checked-in
docs/api/openapi.json only changes when the contract does."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path("docs/api/openapi.json")


def build_openapi() -> dict[str, Any]:
    from provincial_gateway.app import create_app
    from provincial_gateway.config import GatewayConfig

    with tempfile.TemporaryDirectory(prefix="gw-openapi-") as tmp:
        app = create_app(GatewayConfig(data_dir=Path(tmp), admin_token="unused-for-export"))
        try:
            return app.openapi()
        finally:
            app.state.gateway.close()


def render() -> str:
    return json.dumps(build_openapi(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_OUTPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(), encoding="utf-8")
    print(f"OpenAPI written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
