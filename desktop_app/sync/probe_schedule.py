"""When the sync worker next asks the gateway whether it is there (``GET /health``, a few
hundred bytes each way).

- Offline with items waiting: at most every ``waiting_cap_s`` (3 s). A dossier received
  during an outage should reach the province within seconds of the link's return, and
  a probe is what resumes sending (the worker then makes every waiting item due).
- Offline with nothing waiting: exponential backoff with jitter, 10 s up to 5 min, to
  spare the commune's link and a laptop's battery; nothing is late meanwhile.
- Online with items waiting (an item backing off after a server error, another
  counter's lease): every ``online_waiting_s`` (10 s), so the status bar shows a lost
  link before the item's next attempt does. Online and idle: the status pull every
  minute is the probe.

Items' own retry backoff after a server error (``engine.backoff_delay``) is not this
schedule's business: a probe never sends an item, it only decides when the worker looks.
The delays are computed here, apart from the loop, so tests check them without a clock."""

from __future__ import annotations

import random
from dataclasses import dataclass

PROBE_MIN_S = 5.0
PROBE_MAX_S = 300.0
PROBE_WAITING_CAP_S = 3.0
PROBE_ONLINE_WAITING_S = 10.0
# A probe's own timeouts (connect, read): a link that swallows packets instead of refusing
# them must not stretch the interval by the transfer timeouts (15 s, 60 s).
PROBE_TIMEOUT = (5.0, 8.0)


@dataclass(frozen=True)
class ProbePolicy:
    min_s: float = PROBE_MIN_S
    max_s: float = PROBE_MAX_S
    waiting_cap_s: float = PROBE_WAITING_CAP_S
    online_waiting_s: float = PROBE_ONLINE_WAITING_S


class ProbeSchedule:
    """The next probe's delay after each outcome; not thread-safe (the worker's thread)."""

    def __init__(self, policy: ProbePolicy | None = None,
                 rng: random.Random | None = None) -> None:
        self.policy = policy or ProbePolicy()
        self.rng = rng or random.Random()
        self._backoff = self.policy.min_s
        self.failures = 0  # probes failed in a row

    def failed(self, waiting: bool) -> float:
        """A probe failed; ``waiting``: items are queued. The backoff grows either way, so
        once the queue is empty the probes slow down from where the outage has got to."""
        self.failures += 1
        self._backoff = min(self.policy.max_s, self._backoff * 2)
        if waiting:
            # Jitter below the cap only: the cap is a promise to the clerk.
            return min(self._backoff, self.policy.waiting_cap_s) * self.rng.uniform(0.7, 1.0)
        return self._backoff * self.rng.uniform(0.7, 1.3)

    def succeeded(self) -> None:
        self._backoff = self.policy.min_s
        self.failures = 0

    def online(self, waiting: bool, until_run_s: float) -> float:
        """Online: sleep until the next run is due (an item's retry time, the status pull),
        but with items waiting look again within ``online_waiting_s``."""
        if waiting:
            return min(until_run_s, self.policy.online_waiting_s)
        return until_run_s
