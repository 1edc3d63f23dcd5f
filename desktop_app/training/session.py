"""A training session: the training station's context, the simulated province it is
enrolled with, and the trainer's schedule ticking in the background.

``open_training`` is what `motcua training` and the login screen's "Tập huấn" call;
``TrainingSession.close`` stops the province and the ticker; ``reset`` wipes the training
folder and seeds it again."""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from desktop_app.clock import Clock
from desktop_app.context import AppContext, open_context
from desktop_app.startup import prepare
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from desktop_app.training import paths as tpaths
from desktop_app.training.paths import TrainingPaths, TrainingRefused
from desktop_app.training.province import SimulatedProvince
from desktop_app.training.schedule import Scheduler, load_schedule, mark_seeded, save_schedule
from desktop_app.training.seed import TRAINING_STATION, seed

log = logging.getLogger(__name__)

TICK_SECONDS = 10.0


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configure_station(ctx: AppContext, gateway_url: str, token: str) -> None:
    """Point the training station at ``gateway_url`` with ``token``: only a province on
    this very machine (loopback) is accepted, so a training station can never send to a
    real province, whatever URL or token it is given."""
    if not ctx.training:
        raise TrainingRefused("Chỉ cấu hình được máy trạm tập huấn.",
                              "configure_station on a non-training context")
    if not is_loopback_url(gateway_url):
        raise TrainingRefused(
            "Máy trạm tập huấn chỉ gửi hồ sơ tới cổng tỉnh giả lập trên chính máy này, "
            f"không tới “{gateway_url}”.", f"training refuses gateway {gateway_url}")
    stations = StationService(ctx)
    station = stations.require()
    if station.gateway_url != gateway_url:
        stations.save(replace(station, gateway_url=gateway_url, ca_bundle=""))
    SyncService(ctx).set_token(token)


class TrainingSession:
    def __init__(self, paths: TrainingPaths, ctx: AppContext, province: SimulatedProvince,
                 scheduler: Scheduler) -> None:
        self.paths = paths
        self.ctx = ctx
        self.province = province
        self.scheduler = scheduler
        self.applied = 0  # status changes the schedule made (the window wakes its sync)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_ticker(self, interval_s: float = TICK_SECONDS) -> None:
        def run() -> None:
            while not self._stop.wait(interval_s):
                self.tick()

        self._thread = threading.Thread(target=run, name="training-schedule", daemon=True)
        self._thread.start()

    def tick(self, now: datetime | None = None) -> int:
        """One pass of the schedule (and of the loopback guard); never raises."""
        try:
            station = StationService(self.ctx).require()
            if station.gateway_url != self.province.url:
                # Someone changed it in the settings: the province of this class it is.
                log.warning("training station pointed elsewhere; back to the simulation")
                configure_station(self.ctx, self.province.url,
                                  SyncService(self.ctx).tokens(station).get())
            done = len(self.scheduler.tick(now))
        except Exception:
            log.exception("training schedule tick failed")
            return 0
        self.applied += done
        return done

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.province.stop()
        self.ctx.close()


def open_training(root: Path | None = None, station_dir: Path | None = None, *,
                  clock: Clock | None = None, schedule_clock: Callable[[], datetime] | None
                  = None, ticker: bool = True) -> TrainingSession:
    """Open (seeding it the first time) the training station in ``root`` (default:
    beside ``station_dir``, the station's data directory), start its province and
    enrol the station with it."""
    paths = tpaths.check_apart(root or tpaths.training_root(station_dir), station_dir)
    tpaths.prepare_folder(paths)
    ctx = open_context(paths.station, paths.database_url, clock)
    ctx.training = True  # before anything is drawn: every document is watermarked
    province: SimulatedProvince | None = None
    try:
        prepare(ctx, sample_catalog=True)
        if StationService(ctx).get() is None:
            late = seed(ctx)
            mark_seeded(paths.schedule_state, late)
        if not paths.schedule.is_file():
            save_schedule(paths.schedule, load_schedule(paths.schedule))
        _, where = SyncService(ctx).tokens().lookup()
        if where == "env":
            raise TrainingRefused("Biến môi trường MOTCUA_STATION_TOKEN đang đặt mã xác thực "
                                  "của một quầy thật; tập huấn không chạy khi có nó.",
                                  "MOTCUA_STATION_TOKEN set in a training process")
        province = SimulatedProvince(paths).start()
        station = StationService(ctx).require()
        token = province.enrol(station.agency_code, station.station_digit,
                               "Quầy tập huấn")
        configure_station(ctx, province.url, token)
        scheduler = Scheduler(load_schedule(paths.schedule), province, paths.schedule_state,
                              schedule_clock or datetime.now)
    except BaseException:
        if province is not None:
            province.stop()
        ctx.close()
        raise
    session = TrainingSession(paths, ctx, province, scheduler)
    if ticker:
        session.start_ticker()
    log.info("training session open in %s (station %s)", paths.root,
             TRAINING_STATION.agency_code)
    return session


def reset_training(session: TrainingSession, station_dir: Path | None = None, *,
                   ticker: bool = True) -> TrainingSession:
    """Close ``session``, wipe its folder and open a freshly seeded one."""
    paths = session.paths
    session.close()
    tpaths.wipe(paths)
    log.info("training data reset")
    return open_training(paths.root, station_dir, ticker=ticker)
