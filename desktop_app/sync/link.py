"""One look at the link to the province: is the gateway reachable (and through a TLS
chain we trust), how far off is this PC's clock, does the gateway accept the token, and
whose token is it. An enrolment code is exchanged for the token here too.

The doctor, provisioning, the first-run wizard and the sync panel all read this; each
only words the answer for its reader. Everything goes through the public methods of
`GatewayClient`, with short timeouts: a technician waits for the answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from desktop_app.clock import VN_TZ, Clock, SystemClock
from desktop_app.sync.client import (
    AuthFailed,
    EnrolmentUnsupported,
    GatewayClient,
    Refused,
    SyncError,
    Timeout,
)

log = logging.getLogger(__name__)

PROBE_TIMEOUT: Timeout = (3.0, 5.0)
# Receipt times and appointments are printed from this PC's clock.
SKEW_WARN_S = 120  # worth telling the clerk and the technician
SKEW_FAIL_S = 900  # the doctor fails: slips would show a wrong time


def clock_skew_seconds(server_time: str, local: datetime) -> float | None:
    """Seconds ``local`` (naive, Asia/Ho_Chi_Minh, as every time the station records) is
    ahead of the gateway's ``server_time`` (ISO 8601). A server time without an offset is
    read as Vietnamese time too. None when the gateway's time is unreadable."""
    try:
        remote = datetime.fromisoformat(server_time)
    except ValueError:
        return None
    if remote.tzinfo is not None:
        remote = remote.astimezone(VN_TZ).replace(tzinfo=None)
    if local.tzinfo is not None:
        local = local.astimezone(VN_TZ).replace(tzinfo=None)
    return (local - remote).total_seconds()


def clock_is_off(skew_s: float | None) -> bool:
    return skew_s is not None and abs(skew_s) > SKEW_WARN_S


@dataclass(frozen=True)
class Enrolment:
    """A one-time code the province issued for this agency and station digit."""

    agency_code: str
    station_digit: int
    code: str = field(repr=False)


class EnrolState:
    EXCHANGED = "exchanged"  # the token is in ``LinkCheck.token``
    DEFERRED = "deferred"  # not spent: a dry run or a connection test
    UNSUPPORTED = "unsupported"  # a gateway older than the enrolment endpoint
    REFUSED = "refused"  # wrong, expired, used or locked
    FAILED = "failed"  # no answer: the link dropped or the gateway was busy


@dataclass
class LinkCheck:
    url: str
    reachable: bool = False
    tls_error: bool = False
    error_vi: str = ""  # why it is not reachable, or why the token was not checked
    error_detail: str = ""  # the same for the log
    api_version: int | None = None
    skew_s: float | None = None  # this PC minus the gateway: positive when ahead
    token: str = field(default="", repr=False)  # the token checked (given or enrolled)
    enrol: str = ""  # an EnrolState when an enrolment code was given
    enrol_detail: str = ""
    token_accepted: bool | None = None  # None: not checked (no token, or no answer)
    token_error_vi: str = ""
    # True: the gateway said whose token it is; False: it does not say (older than
    # GET /station); None: not asked, or no usable answer.
    identity_said: bool | None = None
    issued_to: tuple[str, int] | None = None  # (agency code, station digit)

    @property
    def clock_off(self) -> bool:
        return clock_is_off(self.skew_s)

    def token_is_for(self, agency_code: str, station_digit: int) -> bool | None:
        """Whether the token belongs to this very counter; None when unknown."""
        if self.issued_to is None:
            return None
        return self.issued_to == (agency_code.upper(), station_digit)


def check_link(url: str, token: str = "", ca_bundle: str = "", *,
               enrolment: Enrolment | None = None, spend_enrolment: bool = True,
               timeout: Timeout = PROBE_TIMEOUT, clock: Clock | None = None) -> LinkCheck:
    """Health and clock, then (with a token, or one obtained from ``enrolment`` when
    ``spend_enrolment``: the code is single-use) whether the gateway accepts it and
    whose it is. Never raises for what the gateway or the link does."""
    result = LinkCheck(url)
    client = GatewayClient(url, token, ca_bundle, timeout=timeout)
    try:
        try:
            health = client.health(timeout)
        except SyncError as exc:
            result.tls_error = "TLS" in exc.detail
            result.error_vi, result.error_detail = exc.message_vi, exc.detail
            log.info("gateway %s not reachable: %s", url, exc.detail)
            return result
        result.reachable = True
        result.api_version = health.api_version
        result.skew_s = clock_skew_seconds(health.server_time, (clock or SystemClock()).now())
        if not token and enrolment is not None:
            token = _enrol(client, enrolment, result, spend_enrolment)
        if token:
            result.token = token
            _check_token(client, result)
    finally:
        client.close()
    return result


def _enrol(client: GatewayClient, enrolment: Enrolment, result: LinkCheck,
           spend: bool) -> str:
    if not spend:
        result.enrol = EnrolState.DEFERRED
        return ""
    try:
        answer = client.enrol(enrolment.agency_code, enrolment.station_digit, enrolment.code)
    except EnrolmentUnsupported as exc:
        result.enrol, result.enrol_detail = EnrolState.UNSUPPORTED, exc.detail
        log.warning("enrolment: %s", exc.detail)
        return ""
    except Refused as exc:
        result.enrol, result.enrol_detail = EnrolState.REFUSED, f"HTTP {exc.status}"
        log.warning("enrolment refused: %s", exc.detail)
        return ""
    except SyncError as exc:
        result.enrol, result.enrol_detail = EnrolState.FAILED, exc.detail
        log.warning("enrolment failed: %s", exc.detail)
        return ""
    result.enrol = EnrolState.EXCHANGED
    log.info("enrolment code exchanged for a station token")
    client.use_token(answer.token)
    return answer.token


def _check_token(client: GatewayClient, result: LinkCheck) -> None:
    try:
        client.check_token()
    except AuthFailed as exc:
        result.token_accepted = False
        result.token_error_vi = exc.message_vi
        log.warning("token refused: %s", exc.detail)
        return
    except SyncError as exc:
        result.token_error_vi = exc.message_vi
        log.warning("token not checked: %s", exc.detail)
        return
    result.token_accepted = True
    try:
        who = client.whoami()
    except SyncError as exc:
        log.info("station identity not read: %s", exc.detail)
        return
    result.identity_said = who is not None
    if who is not None:
        result.issued_to = (who.agency_code.upper(), who.station_digit)
