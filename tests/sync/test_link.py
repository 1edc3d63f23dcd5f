"""One look at the link (`desktop_app.sync.link`): the clock rule, and health, token,
whose token and enrolment against the real gateway over loopback HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest

from desktop_app.sync.link import (
    SKEW_WARN_S,
    Enrolment,
    EnrolState,
    check_link,
    clock_is_off,
    clock_skew_seconds,
)
from provincial_gateway import admin_ops
from provincial_gateway.server import GatewayServer, free_port
from tests.support.gateway_fixtures import (  # noqa: F401
    AGENCY,
    add_station,
    gateway,
    gateway_factory,
    station_token,
)

LOCAL = datetime(2026, 11, 23, 13, 5, 0)  # naive, Asia/Ho_Chi_Minh, as the station records


@pytest.mark.parametrize(("server_time", "skew"), [
    ("2026-11-23T13:05:00+07:00", 0.0),
    ("2026-11-23T06:05:00+00:00", 0.0),  # the same instant in UTC
    ("2026-11-23T06:05:00Z", 0.0),
    ("2026-11-23T13:00:00+07:00", 300.0),  # this PC is 5 minutes ahead
    ("2026-11-23T13:07:30+07:00", -150.0),  # 2.5 minutes behind
    ("2026-11-23T13:05:00", 0.0),  # no offset: read as Vietnamese time, like local times
    ("2026-11-23T06:05:00", 25200.0),
    ("hôm nay", None),
    ("", None),
])
def test_one_rule_for_the_clock(server_time: str, skew: float | None) -> None:
    assert clock_skew_seconds(server_time, LOCAL) == skew


def test_threshold() -> None:
    assert not clock_is_off(None)
    assert not clock_is_off(SKEW_WARN_S) and not clock_is_off(-SKEW_WARN_S)
    assert clock_is_off(SKEW_WARN_S + 1) and clock_is_off(-SKEW_WARN_S - 1)


def test_healthy_link_with_this_counters_token(gateway: GatewayServer,  # noqa: F811
                                               station_token: str) -> None:  # noqa: F811
    link = check_link(gateway.url, station_token)
    assert link.reachable and not link.tls_error and link.api_version == 1
    assert link.skew_s is not None and not link.clock_off  # same machine, same clock
    assert link.token_accepted is True and link.identity_said is True
    assert link.issued_to == (AGENCY, 1)
    assert link.token_is_for(AGENCY.lower(), 1) is True
    assert link.token_is_for(AGENCY, 2) is False


def test_refused_token_and_no_token(gateway: GatewayServer,  # noqa: F811
                                    station_token: str) -> None:  # noqa: F811
    refused = check_link(gateway.url, "sai-" + station_token[4:])
    assert refused.reachable and refused.token_accepted is False
    assert "không chấp nhận mã xác thực" in refused.token_error_vi
    assert refused.issued_to is None and refused.token_is_for(AGENCY, 1) is None
    anonymous = check_link(gateway.url)
    assert anonymous.reachable and anonymous.token_accepted is None and anonymous.token == ""


def test_nothing_listening() -> None:
    link = check_link(f"http://127.0.0.1:{free_port()}", "mot-ma-bat-ky-du-dai")
    assert not link.reachable and not link.tls_error
    assert link.error_vi and link.token_accepted is None and link.skew_s is None


def test_enrolment_is_spent_only_when_asked(gateway: GatewayServer) -> None:  # noqa: F811
    code, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 3, "Quầy 3")
    enrolment = Enrolment(AGENCY, 3, code)
    deferred = check_link(gateway.url, enrolment=enrolment, spend_enrolment=False)
    assert deferred.enrol == EnrolState.DEFERRED and deferred.token == ""
    assert admin_ops.list_stations(gateway.state) == []

    spent = check_link(gateway.url, enrolment=enrolment)
    assert spent.enrol == EnrolState.EXCHANGED and len(spent.token) >= 32
    # The new token is checked at once, and belongs to the digit the code was for.
    assert spent.token_accepted is True and spent.issued_to == (AGENCY, 3)

    again = check_link(gateway.url, enrolment=enrolment)
    assert again.enrol == EnrolState.REFUSED and again.enrol_detail == "HTTP 403"
    assert again.token == "" and again.token_accepted is None
