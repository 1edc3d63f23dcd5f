"""Schemathesis against the live gateway over loopback, with a valid station token so the
authenticated routes are reached: valid and invalid requests generated from the gateway's
own OpenAPI document, none may be answered with a server error (`not_a_server_error`).

Bounded (`EXAMPLES` per operation and mode) to stay within seconds; all operations are run
and every failure collected before asserting, so one run names them all."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from provincial_gateway.server import GatewayServer
from tests.support.gateway_fixtures import auth_headers

EXAMPLES = 15
log = logging.getLogger(__name__)


@schemathesis.serializer("application/offset+octet-stream")
def _tus_chunk(_ctx: object, value: object) -> bytes:
    """A tus PATCH body is raw bytes (schemathesis knows only application/octet-stream)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


@dataclass
class Tally:
    operations: int = 0
    examples: int = 0
    failures: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)
    statuses: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


def explore(operation: Any, mode: GenerationMode, url: str, headers: dict[str, str],
            tally: Tally) -> None:
    """`EXAMPLES` generated requests to one operation; failures go to the tally."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        tally.examples += 1
        try:
            response = case.call_and_validate(base_url=url, headers=headers,
                                              checks=[not_a_server_error])
            tally.statuses[operation.label].add(response.status_code)
        except FailureGroup as group:
            tally.failures.append(f"{operation.label} ({mode.value}): "
                                  f"{group.exceptions[0].title}")

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without input)
        tally.unsatisfiable.append(f"{operation.label} ({mode.value})")


def test_no_server_error_on_any_operation(gateway: GatewayServer, station_token: str) -> None:
    schema = schemathesis.openapi.from_dict(gateway.app.openapi())
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            explore(operation, mode, gateway.url, auth_headers(station_token), tally)
    summary = (f"schemathesis: {tally.operations} operations, {tally.examples} examples, "
               f"{len(tally.failures)} failures; nothing to generate for "
               f"{tally.unsatisfiable}")
    log.info(summary)
    print(summary)
    for label, statuses in tally.statuses.items():
        print(f"  {label}: {sorted(statuses)}")
    for failure in tally.failures:
        print(failure)
    assert tally.operations >= 15
    # Contract 1.1's batch is among them, and generated batches got per-item answers.
    assert 200 in tally.statuses["POST /api/v1/dossiers/batch"]
    assert tally.failures == []
