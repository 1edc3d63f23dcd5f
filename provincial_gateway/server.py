"""Run the gateway for tests and demos: in a background thread, or as a subprocess.

`GatewayServer` runs uvicorn in a thread of this process on 127.0.0.1 and a free port;
tests reach its database and fault plan directly. `GatewayProcess` runs
`python -m provincial_gateway serve` in a child process, for kill -9 / restart tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker

from provincial_gateway import admin_ops, refdata
from provincial_gateway.app import create_app
from provincial_gateway.config import DEFAULT_CATALOG, ENV_ADMIN_TOKEN, GatewayConfig
from provincial_gateway.faults import FaultPlan
from provincial_gateway.state import GatewayState, open_state
from sync_contract import wire

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_ADMIN_TOKEN = "admin-token-for-tests-only"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class GatewayServer:
    """The gateway app served by uvicorn (h11) in a daemon thread.

    ```
    with GatewayServer(tmp_path / "gw") as gw:
        token = gw.add_station("000.00.12.H12", 1)
        requests.get(gw.url + wire.HEALTH)
        gw.faults.add("drop_after", path="/dossiers/", times=1)
    ```
    """

    def __init__(self, data_dir: Path | str, *, db_url: str | None = None,
                 catalog_file: Path | None = DEFAULT_CATALOG,
                 admin_token: str = TEST_ADMIN_TOKEN, ssl_certfile: Path | None = None,
                 ssl_keyfile: Path | None = None, host: str = "127.0.0.1", port: int = 0,
                 public_url: str | None = None, serve_docs: bool | None = None,
                 accept_heartbeats: bool = True,
                 contract_minor: int = wire.API_MINOR, blob_store: str | None = None) -> None:
        self.config = GatewayConfig(data_dir=Path(data_dir), db_url=db_url,
                                    blob_store=blob_store,
                                    catalog_file=catalog_file, admin_token=admin_token,
                                    public_url=public_url, serve_docs=serve_docs,
                                    accept_heartbeats=accept_heartbeats,
                                    contract_minor=contract_minor)
        self.host = host
        self.port = port
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile = ssl_keyfile
        self._state: GatewayState | None = None
        self._app: FastAPI | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_certfile else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def app(self) -> FastAPI:
        if self._app is None:
            raise RuntimeError("GatewayServer not started")
        return self._app

    @property
    def state(self) -> GatewayState:
        if self._state is None:
            raise RuntimeError("GatewayServer not started")
        return self._state

    @property
    def sessions(self) -> sessionmaker:
        return self.state.sessions

    @property
    def faults(self) -> FaultPlan:
        return self.app.state.faults

    @property
    def admin_token(self) -> str:
        return self.state.admin_token

    def start(self, timeout: float = 15.0) -> GatewayServer:
        self._state = open_state(self.config)
        refdata.load_catalog(self._state)
        self._app = create_app(state=self._state)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app, http="h11", ws="none", lifespan="on", log_level="warning",
            access_log=False, timeout_graceful_shutdown=2,
            proxy_headers=False,  # as `serve` without --trusted-proxy: the TCP peer
            ssl_certfile=str(self.ssl_certfile) if self.ssl_certfile else None,
            ssl_keyfile=str(self.ssl_keyfile) if self.ssl_keyfile else None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="gateway-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._state is not None:
            self._state.close()
        self._server = self._thread = None

    def __enter__(self) -> GatewayServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # Conveniences for tests and demos.

    def add_station(self, agency_code: str, station_digit: int = 1, name: str = "",
                    token: str | None = None) -> str:
        return admin_ops.add_station(self.state, agency_code, station_digit, name, token)[0]

    def set_status(self, key: str, status: int, **options: Any) -> wire.Change:
        return admin_ops.set_status(self.state, key, status, **options)


class GatewayProcess:
    """`python -m provincial_gateway serve` as a child process on a fixed port.

    The port stays the same across `kill()` / `start()`, so tus upload URLs stay valid.
    Output goes to `log_path` (data_dir/gateway.log)."""

    def __init__(self, data_dir: Path | str, *, port: int | None = None,
                 db_url: str | None = None, catalog_file: Path | None = None,
                 admin_token: str = TEST_ADMIN_TOKEN, host: str = "127.0.0.1",
                 extra_args: tuple[str, ...] = ()) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port or free_port(host)
        self.db_url = db_url
        self.catalog_file = catalog_file
        self.admin_token = admin_token
        self.extra_args = extra_args
        self.log_path = self.data_dir / "gateway.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "provincial_gateway", "serve", "--host", self.host,
               "--port", str(self.port), "--data", str(self.data_dir)]
        if self.db_url:
            cmd += ["--db", self.db_url]
        if self.catalog_file:
            cmd += ["--catalog", str(self.catalog_file)]
        return cmd + list(self.extra_args)

    def start(self, timeout: float = 30.0) -> GatewayProcess:
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        env[ENV_ADMIN_TOKEN] = self.admin_token  # not on the command line, where ps shows it
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), env=env, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=str(REPO_ROOT))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self.proc.returncode}; "
                                   f"see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + wire.HEALTH, timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the gateway did not answer /health in {timeout} s")

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, like a power cut of the server process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self, timeout: float = 30.0) -> GatewayProcess:
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
