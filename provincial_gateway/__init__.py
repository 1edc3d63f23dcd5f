"""Reference provincial gateway: the server side of the wire contract v1.

It implements `sync_contract` exactly (the wire contract and the USB bundle format: the
only code it shares with the station; it imports nothing of `desktop_app`) and is used
by the test suite, by `motcua demo` and in training classrooms.

- `create_app(config)` builds the FastAPI application (`provincial_gateway.app`).
- `GatewayServer` / `GatewayProcess` run it for tests and demos (`provincial_gateway.server`).
- `python -m provincial_gateway ...` is the admin command line (`provincial_gateway.admin_cli`).
"""

from __future__ import annotations

__all__ = ["GatewayConfig"]

from provincial_gateway.config import GatewayConfig
