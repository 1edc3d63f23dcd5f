"""The simulated province: the reference gateway served on 127.0.0.1 (a free port) in a
thread of the training process, with its database in the training folder. Nothing of it
listens beyond loopback, and it needs no network at all.

The gateway is the `gateway` extra (the installers carry it): it is imported when a
province starts, and an install without it gets a Vietnamese message, not a traceback."""

from __future__ import annotations

import logging
import secrets

from desktop_app.domain.errors import DomainError
from desktop_app.training.paths import TrainingPaths
from desktop_app.training.schedule import ProvinceDossier

log = logging.getLogger(__name__)

ACTOR = "Chuyên viên (giả lập)"


class SimulatedProvince:
    def __init__(self, paths: TrainingPaths) -> None:
        from desktop_app.commands.gateway_cmd import missing_module, not_installed_message

        missing = missing_module()
        if missing is not None:
            raise DomainError("Chế độ tập huấn cần hệ thống tỉnh mẫu chạy ngay trên máy này. "
                              + not_installed_message(missing).removeprefix("Lỗi: "),
                              f"training needs the gateway extra ({missing} missing)")
        from provincial_gateway.config import DEFAULT_CATALOG
        from provincial_gateway.server import GatewayServer

        self.paths = paths
        # A fresh admin token each run, never written down: only this process moves the
        # province's dossiers.
        self._server = GatewayServer(
            paths.province, db_url=f"sqlite:///{paths.province / 'gateway.db'}",
            catalog_file=DEFAULT_CATALOG, admin_token=secrets.token_urlsafe(24),
            host="127.0.0.1", port=0, serve_docs=False)
        self.running = False

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def admin_token(self) -> str:
        return self._server.admin_token

    def start(self) -> SimulatedProvince:
        self.paths.province.mkdir(parents=True, exist_ok=True)
        self._server.start()
        self.running = True
        log.info("training province listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self.running:
            self._server.stop()
            self.running = False
            log.info("training province stopped")

    def enrol(self, agency_code: str, station_digit: int, name: str) -> str:
        """A fresh token for the training station (the previous run's stops working)."""
        from provincial_gateway import admin_ops

        return admin_ops.add_station(self._server.state, agency_code, station_digit, name)[0]

    # --- what the scheduler needs (schedule.Province) ----------------------------------

    def dossiers(self) -> list[ProvinceDossier]:
        from provincial_gateway import admin_ops

        rows = admin_ops.list_dossiers(self._server.state)
        return [ProvinceDossier(r.ma_ho_so or r.client_id, r.status) for r in reversed(rows)]

    def set_status(self, key: str, status: int, note: str) -> None:
        from provincial_gateway import admin_ops

        admin_ops.set_status(self._server.state, key, status, note=note, actor=ACTOR)
