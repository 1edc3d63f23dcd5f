"""The probe schedule's delays (no clock, no network): capped while items wait, backing
off while nothing does."""

from __future__ import annotations

import random

from desktop_app.sync.probe_schedule import (
    PROBE_MAX_S,
    PROBE_ONLINE_WAITING_S,
    PROBE_WAITING_CAP_S,
    ProbeSchedule,
)


def test_offline_with_items_waiting_never_waits_past_the_cap() -> None:
    schedule = ProbeSchedule(rng=random.Random(7))
    delays = [schedule.failed(waiting=True) for _ in range(500)]  # ~25 min of outage
    assert max(delays) <= PROBE_WAITING_CAP_S
    assert min(delays) > 0


def test_offline_and_idle_backs_off_up_to_five_minutes() -> None:
    schedule = ProbeSchedule(rng=random.Random(7))
    delays = [schedule.failed(waiting=False) for _ in range(20)]
    assert delays[0] > PROBE_WAITING_CAP_S  # the commune's link and the battery are spared
    assert max(delays) > 60
    assert max(delays) <= PROBE_MAX_S * 1.3


def test_a_dossier_received_during_a_long_outage_brings_the_probes_back_to_the_cap() -> None:
    schedule = ProbeSchedule(rng=random.Random(3))
    for _ in range(30):
        schedule.failed(waiting=False)
    assert schedule.failed(waiting=True) <= PROBE_WAITING_CAP_S
    # ...and once the queue is empty again, back to where the backoff had got to.
    assert schedule.failed(waiting=False) >= PROBE_MAX_S * 0.7


def test_a_successful_probe_starts_the_backoff_over() -> None:
    schedule = ProbeSchedule(rng=random.Random(1))
    for _ in range(10):
        schedule.failed(waiting=False)
    schedule.succeeded()
    assert schedule.failures == 0
    assert schedule.failed(waiting=False) <= 10 * 1.3


def test_online_items_waiting_are_looked_at_again_within_ten_seconds() -> None:
    schedule = ProbeSchedule()
    assert schedule.online(waiting=True, until_run_s=3600) == PROBE_ONLINE_WAITING_S
    assert schedule.online(waiting=True, until_run_s=2) == 2
    assert schedule.online(waiting=False, until_run_s=60) == 60
