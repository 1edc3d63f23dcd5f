"""Whether this PC's WIA/TWAIN scanner driver shows its own settings window at each scan.

Off by default: the scan profile sets resolution, colour, paper and duplex, the same on
every counter. Some scanners (older TWAIN drivers, models whose feeder or colour options
the generic WIA properties do not reach) scan properly only through their own window; the
person scanning at that PC switches it on. Then the driver's window decides DPI and
colour; the pipeline still checks the pages it gets (minimum resolution, size limit).

A per-PC choice (each counter has its own scanner) kept in ``sync_state`` under this PC's
install id, as the clock offset is: no column of ``stations`` holds scanner options."""

from __future__ import annotations

import logging

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from local_db import outbox
from local_db import repositories as repo

log = logging.getLogger(__name__)

_KEY_PREFIX = "drv:"  # + the 36-character install id: sync_state.key is String(40)
_ON = "1"
_OFF = "0"


def _key(ctx: AppContext, create: bool = True) -> str:
    return _KEY_PREFIX + ctx.paths.install_id(create)


def driver_dialog_enabled(ctx: AppContext) -> bool:
    """This PC's choice; False until someone switches it on."""
    with ctx.db.read() as s:
        return outbox.get_state(s, _key(ctx, create=False), _OFF) == _ON


def set_driver_dialog(ctx: AppContext, enabled: bool, by: ClerkInfo) -> bool:
    now = ctx.clock.now()
    install = ctx.paths.install_id()
    with ctx.db.write() as s:
        outbox.set_state(s, _KEY_PREFIX + install, _ON if enabled else _OFF, now)
        repo.add_audit(s, now, by.id, "scanner_options_saved", "station", install,
                       {"driver_dialog": enabled})
    log.info("scanner driver dialog %s on this PC", "enabled" if enabled else "disabled")
    return enabled
