"""The operating system's word that the network changed (a cable plugged back in, Wi-Fi
rejoined, a captive portal passed), from Qt's ``QNetworkInformation``, passed on as a
nudge: the sync worker probes the gateway at once instead of at its next scheduled probe.

It only nudges and never decides online/offline itself: the OS sees this PC's own link,
not the commune's line to the province, so the probe's answer is what the status bar
shows. Where Qt has no backend (a Linux PC without NetworkManager or GLib's monitor, an
old Windows), one log line says so and the worker's own probes carry on alone."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QNetworkInformation

log = logging.getLogger(__name__)


def load_backend() -> QNetworkInformation | None:
    """The process's QNetworkInformation (one per application), or None without one."""
    info = QNetworkInformation.instance()
    if info is not None:
        return info
    try:
        loaded = (QNetworkInformation.loadBackendByFeatures(
            QNetworkInformation.Feature.Reachability)
            or QNetworkInformation.loadDefaultBackend())
    except Exception as exc:  # a broken plugin must not stop the window
        log.info("network information backend failed to load: %s", type(exc).__name__)
        return None
    info = QNetworkInformation.instance() if loaded else None
    if info is None:
        log.info("no network information backend (available: %s); the sync worker's own "
                 "probes notice the link", ", ".join(QNetworkInformation.availableBackends())
                 or "none")
    return info


class NetworkWatch(QObject):
    """Calls ``nudge`` (thread-safe, returns at once) on each change the OS reports."""

    def __init__(self, nudge: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._nudge = nudge
        self.info = load_backend()
        if self.info is None:
            return
        self.info.reachabilityChanged.connect(self.on_reachability)
        if self.info.supports(QNetworkInformation.Feature.CaptivePortal):
            self.info.isBehindCaptivePortalChanged.connect(self.on_portal)
        if self.info.supports(QNetworkInformation.Feature.TransportMedium):
            self.info.transportMediumChanged.connect(self.on_medium)
        log.info("network changes from the %s backend wake the sync worker",
                 self.info.backendName())

    @property
    def active(self) -> bool:
        return self.info is not None

    def on_reachability(self, reachability: QNetworkInformation.Reachability) -> None:
        log.info("network reachability now %s; probing the gateway", reachability.name)
        self._nudge()

    def on_portal(self, behind: bool) -> None:
        log.info("captive portal %s; probing the gateway", "ahead" if behind else "passed")
        self._nudge()

    def on_medium(self, medium: QNetworkInformation.TransportMedium) -> None:
        log.info("network medium now %s; probing the gateway", medium.name)
        self._nudge()
