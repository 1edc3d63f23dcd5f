"""HTTP connector to the provincial gateway (wire contract v1, `wire.py`).

Only the expected status with a JSON body that validates counts as an answer: a captive
portal's `200 text/html` or a body cut short by the link is a transport failure, retried
later like a timeout. Every request has a timeout (the commune link stalls for minutes)."""

from __future__ import annotations

import json
import logging
import os
import re
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ValidationError

from desktop_app import __version__
from desktop_app.clock import VN_TZ
from desktop_app.domain.errors import DomainError
from desktop_app.sync.gateway_url import InsecureGateway, check_gateway_url
from desktop_app.sync.tls_trust import use_station_trust
from sync_contract import text_rules, wire

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

CONNECT_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 60.0
HEALTH_READ_TIMEOUT_S = 20.0
# An authenticated request that returns (almost) nothing: the change feed past its end.
AUTH_PROBE_SINCE = 2**31 - 1

Timeout = tuple[float, float]  # connect, read (seconds)


def fitted(document: dict[str, Any], what: str) -> dict[str, Any]:
    """`document` within the gateway's text rules (`sync_contract.text_rules`): a queued
    document written before those rules, or a note pasted with control characters, is sent
    fitted rather than refused. The same input always gives the same body, so a resend of
    a revision stays identical."""
    out = text_rules.fit_document(document)
    if out != document:
        changed = sorted(k for k in document if out.get(k) != document[k])
        log.warning("%s: field(s) %s fitted to the wire text rules", what, ", ".join(changed))
    return out


def encode_dossier(document: dict[str, Any]) -> bytes:
    """A dossier document as it travels in a batch: fitted to the text rules, compact
    UTF-8 JSON (Vietnamese letters as themselves, not 6-byte escapes). The gateway
    compares parsed documents, so a batch and a PUT of one revision are the same body."""
    out = fitted(document, f"dossier {document.get('ClientId')}")
    try:
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate fitting left (in a key): escaped, as a
        # PUT sends it; the gateway refuses the batch and each dossier goes by PUT
        return json.dumps(out, separators=(",", ":"), allow_nan=False).encode("ascii")


_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")

class SyncError(DomainError):
    """Base of every sync failure; ``retry`` says whether backing off and trying again
    can help."""

    retry = True


class LinkDown(SyncError):
    """No answer: connection refused or cut, timeout, TLS failure, captive portal."""


class ServerBusy(SyncError):
    """5xx or 429: the gateway is there but cannot take the request now."""


class AuthFailed(SyncError):
    retry = False


class Refused(SyncError):
    """The gateway answered and refused this item for good (conflict, wrong agency,
    invalid body): a supervisor has to look at it."""

    retry = False

    def __init__(self, message_vi: str, detail: str, status: int, body: dict[str, Any]
                 ) -> None:
        super().__init__(message_vi, detail)
        self.status = status
        self.body = body


class MissingBlobs(SyncError):
    def __init__(self, missing: list[str]) -> None:
        super().__init__("Tỉnh chưa có đủ tệp của hồ sơ; sẽ gửi tệp trước.",
                         f"gateway lacks {len(missing)} blob(s)")
        self.missing = missing


class BatchUnsupported(SyncError):
    """The gateway did not take a dossier batch as a batch: one of contract 1.0 (404 or 405
    on the route), or it refused the envelope (413, 422). Its dossiers go one PUT each."""


class NotYet(SyncError):
    """The gateway does not know the dossier an event belongs to yet."""


class InsecureLink(LinkDown):
    """The gateway address is plain http to another machine: nothing is sent, so the
    token never crosses the network in clear text. Retrying cannot help."""

    retry = False


class EnrolmentUnsupported(SyncError):
    """A gateway older than the enrolment endpoint (it answers 404 there)."""

    retry = False


def server_date(resp: requests.Response) -> datetime | None:
    """The gateway's time of ``resp`` (its Date header, RFC 9110) as naive Vietnamese
    time like every time the station records; None without a readable one, and for an
    answer that is not JSON (a captive portal's page tells its own time, not the
    gateway's)."""
    if not resp.headers.get("Content-Type", "").startswith("application/json"):
        return None
    raw = resp.headers.get("Date", "")
    try:
        when = parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return when.astimezone(VN_TZ).replace(tzinfo=None)


@dataclass(frozen=True)
class Fetched:
    """A conditional GET: ``body`` is None when the gateway answered 304."""

    body: BaseModel | None
    etag: str


class GatewayClient:
    def __init__(self, base_url: str, token: str, ca_bundle: str = "",
                 timeout: Timeout = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"motcua-offline/{__version__}"
        self.use_token(token)
        # The OS store plus the provincial CA bundle (`tls_trust`); verification is never
        # off. A bundle that cannot be read fails each request, not the constructor.
        self.trust_problem = ""
        try:
            use_station_trust(self.session, ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            self.trust_problem = f"CA bundle {ca_bundle} unreadable: {exc}"
            log.error("TLS trust: %s", self.trust_problem)
        # Called with the gateway's time (naive, Vietnamese) from each answer's Date header:
        # how far off this PC's clock is (`clock_offset.OffsetRecorder`).
        self.on_server_date: Callable[[datetime], None] | None = None

    def use_token(self, token: str) -> None:
        """Send ``token`` from now on (a token just obtained by enrolment)."""
        self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    # --- transport -----------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        # Defence in depth: whatever stored or passed this address, refuse it here, before
        # the bearer token (or an enrolment code) leaves the machine.
        try:
            check_gateway_url(self.base_url)
        except InsecureGateway as exc:
            log.error("%s %s not sent: %s", method, path, exc.detail)
            raise InsecureLink(exc.message_vi, f"{method} {path}: {exc.detail}") from exc
        if self.trust_problem and self.base_url.lower().startswith("https:"):
            raise LinkDown("Không đọc được tệp chứng chỉ (CA) của tỉnh trên máy này. Hãy báo "
                           "kỹ thuật viên cài lại chứng chỉ.",
                           f"{method} {path}: TLS {self.trust_problem}")
        kwargs.setdefault("timeout", self.timeout)
        try:
            resp = self.session.request(method, self.url(path), **kwargs)
        except requests.exceptions.SSLError as exc:
            raise LinkDown("Không xác thực được chứng chỉ bảo mật của hệ thống tỉnh. Hãy "
                           "báo kỹ thuật viên kiểm tra chứng chỉ (CA) và đồng hồ máy.",
                           f"{method} {path}: TLS error {exc}") from exc
        except requests.exceptions.Timeout as exc:
            raise LinkDown("Đường truyền quá chậm, hết thời gian chờ; sẽ thử lại.",
                           f"{method} {path}: timeout {exc}") from exc
        except requests.exceptions.RequestException as exc:
            raise LinkDown("Không kết nối được hệ thống một cửa của tỉnh; sẽ thử lại khi "
                           "có mạng.", f"{method} {path}: {type(exc).__name__}: {exc}"
                           ) from exc
        if self.on_server_date is not None and (when := server_date(resp)) is not None:
            self.on_server_date(when)
        return resp

    @staticmethod
    def _json(resp: requests.Response, what: str) -> dict[str, Any]:
        ctype = resp.headers.get("Content-Type", "")
        if not ctype.startswith("application/json"):
            raise LinkDown(
                "Mạng đang chuyển hướng sang một trang khác (có thể là trang đăng nhập "
                "Wi-Fi); chưa gửi được.",
                f"{what}: HTTP {resp.status_code} with {ctype or 'no content type'}, "
                f"{len(resp.content)} bytes")
        try:
            data = resp.json()
        except (ValueError, json.JSONDecodeError) as exc:
            raise LinkDown("Câu trả lời của hệ thống tỉnh bị cắt giữa chừng; sẽ thử lại.",
                           f"{what}: HTTP {resp.status_code}, unparsable JSON "
                           f"({len(resp.content)} bytes)") from exc
        if not isinstance(data, dict):
            raise LinkDown("Câu trả lời của hệ thống tỉnh không đúng định dạng; sẽ thử lại.",
                           f"{what}: JSON is {type(data).__name__}, not an object")
        return data

    def _model(self, model: type[M], resp: requests.Response, what: str) -> M:
        data = self._json(resp, what)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise LinkDown("Câu trả lời của hệ thống tỉnh không đúng định dạng; sẽ thử lại.",
                           f"{what}: body does not match {model.__name__}: "
                           f"{exc.error_count()} error(s)") from exc

    def _fail(self, resp: requests.Response, what: str) -> SyncError:
        """The exception for an unexpected status."""
        status = resp.status_code
        if status >= 500 or status == 429:
            return self._refusal(status, {}, what)
        try:
            body = self._json(resp, what)
        except LinkDown as exc:
            return exc
        return self._refusal(status, body, what)

    @staticmethod
    def _refusal(status: int, body: dict[str, Any], what: str) -> SyncError:
        """What a status and its ErrorBody mean for the item (a request's, or one item's
        of a dossier batch)."""
        if status >= 500 or status == 429:
            return ServerBusy("Hệ thống một cửa của tỉnh đang bận hoặc bảo trì; sẽ thử lại.",
                              f"{what}: HTTP {status}")
        code = str(body.get("code", ""))
        if status == 401:
            return AuthFailed(
                "Hệ thống tỉnh không chấp nhận mã xác thực của quầy này (có thể đã bị thu "
                "hồi). Đồng bộ đã dừng; hãy báo kỹ thuật viên cấp lại mã.",
                f"{what}: HTTP 401 {code}")
        if status == 422 and code == wire.E_MISSING_BLOBS:
            return MissingBlobs([str(x) for x in body.get("missing", [])])
        if status == 404 and code == wire.E_UNKNOWN_DOSSIER:
            return NotYet("Hồ sơ chưa lên tỉnh; sự kiện sẽ gửi sau.", f"{what}: 404 {code}")
        if status == 409 and code == wire.E_REVISION_JUMP:
            msg = ("Hệ thống tỉnh từ chối: số phiên bản của hồ sơ tăng bất thường so với bản "
                   "đã gửi trước. Hãy báo kỹ thuật viên; dữ liệu trên máy vẫn giữ nguyên.")
        elif status == 409:
            msg = ("Hồ sơ đã có trên hệ thống tỉnh với nội dung khác. Cần lãnh đạo bộ phận "
                   "một cửa xem xét; dữ liệu trên máy vẫn giữ nguyên.")
        elif status == 403 and code == wire.E_NOT_OWNER:
            msg = ("Hệ thống tỉnh từ chối: hồ sơ hoặc mã hồ sơ này thuộc một quầy khác, không "
                   "khớp với mã xác thực của quầy này. Hãy báo kỹ thuật viên kiểm tra số hiệu "
                   "quầy; dữ liệu trên máy vẫn giữ nguyên.")
        elif status == 422 and code == wire.E_INVALID:
            msg = ("Hệ thống tỉnh từ chối vì dữ liệu không hợp lệ; hãy báo kỹ thuật viên. "
                   + str(body.get("message") or ""))
        elif status == 403 and code == wire.E_AGENCY:
            msg = ("Hệ thống tỉnh từ chối: mã cơ quan của hồ sơ không phải của quầy này. "
                   "Hãy báo kỹ thuật viên kiểm tra cấu hình quầy.")
        else:
            msg = str(body.get("message") or "Hệ thống tỉnh từ chối yêu cầu.")
        return Refused(msg, f"{what}: HTTP {status} {code}", status, body)

    # --- endpoints -----------------------------------------------------------------------

    def range_chunk(self, path: str, sha256: str, first: int, last: int, what: str,
                    total: int | None = None) -> bytes:
        """Bytes ``first``..``last`` of a stored file (a resumable download). A 200, or a
        206 that is not the file's bytes (a proxy or captive portal that ignored the
        range), or a short or misplaced answer is ``LinkDown``: retried later. Other
        codes map as every request's do (401 stops, 5xx retries, others refuse).
        ``total``: the file's size, checked against the answer's Content-Range."""
        resp = self.request("GET", path, headers={
            "Range": f"bytes={first}-{last}", "If-Range": f'"{sha256}"'})
        ctype = resp.headers.get("Content-Type", "")
        if resp.status_code == 200 or (resp.status_code == 206
                                       and not ctype.startswith("application/octet-stream")):
            raise LinkDown("Đường truyền trả về nội dung lạ; sẽ thử lại.",
                           f"{what} chunk: HTTP {resp.status_code} {ctype or '-'}")
        if resp.status_code != 206:
            raise self._fail(resp, f"{what} download")
        match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        data = resp.content
        if (match is None or int(match.group(1)) != first
                or (total is not None and int(match.group(3)) != total)
                or len(data) != last - first + 1):
            raise LinkDown("Phần tải về bị cắt giữa chừng; sẽ thử lại.",
                           f"{what} chunk {first}-{last}: got {len(data)} bytes, "
                           f"Content-Range {resp.headers.get('Content-Range')!r}")
        return data

    def health(self, timeout: Timeout | None = None) -> wire.Health:
        """Reachable, and the gateway's clock. Read timeout at most 20 s: a probe, not a
        transfer."""
        connect, read = self.timeout
        resp = self.request("GET", wire.HEALTH,
                            timeout=timeout or (connect, min(read, HEALTH_READ_TIMEOUT_S)))
        if resp.status_code != 200:
            raise self._fail(resp, "health")
        return self._model(wire.Health, resp, "health")

    def check_token(self) -> None:
        """Returns when the gateway accepts the token; ``AuthFailed`` when it refuses it.
        Works on every gateway of contract v1 (the change feed past its end)."""
        self.changes(since=AUTH_PROBE_SINCE, limit=1)

    def whoami(self) -> wire.StationIdentity | None:
        """The station the token was issued to; None from a gateway that does not say
        (one older than `GET /station` answers 404 there)."""
        resp = self.request("GET", wire.STATION)
        if resp.status_code != 200 or not resp.headers.get("Content-Type", "").startswith(
                "application/json"):
            log.info("gateway exposes no station identity (HTTP %s at %s)", resp.status_code,
                     wire.STATION)
            return None
        return self._model(wire.StationIdentity, resp, "station")

    def enrol(self, agency_code: str, station_digit: int, code: str) -> wire.EnrolResponse:
        """Exchange a one-time enrolment code for the station token (no bearer needed).
        ``EnrolmentUnsupported`` from a gateway without the endpoint; ``Refused`` for a
        wrong, expired, used or locked code."""
        body = {"agency_code": agency_code, "station_digit": station_digit,
                "enrolment_code": code}
        resp = self.request("POST", wire.ENROL, json=body)
        if resp.status_code == 404:
            raise EnrolmentUnsupported(
                "Hệ thống tỉnh chưa hỗ trợ mã đăng ký.", f"no enrolment endpoint ({wire.ENROL})")
        if resp.status_code not in (200, 201):
            refused = self._fail(resp, "enrol")
            if isinstance(refused, Refused | AuthFailed):
                raise Refused(refused.message_vi, refused.detail, resp.status_code, {})
            raise refused
        return self._model(wire.EnrolResponse, resp, "enrol")

    def put_key_escrow(self, envelope: str) -> None:
        """Leave the data key wrapped under the recovery code with the province."""
        resp = self.request("PUT", wire.KEY_ESCROW, json={"wrapped": envelope})
        if resp.status_code != 204:
            raise self._fail(resp, "key escrow")

    def key_escrows(self) -> list[str]:
        """This station's wrapped data keys kept by the province, newest first."""
        resp = self.request("GET", wire.KEY_ESCROW)
        if resp.status_code != 200:
            raise self._fail(resp, "key escrow")
        return [e.wrapped for e in self._model(wire.KeyEscrowList, resp, "key escrow").escrows]

    def citizen_documents(self, id_number: str, timeout: Timeout | None = None
                          ) -> list[wire.CitizenDocument]:
        """The citizen's documents on file at the province for this agency (contract 1.3;
        only call when /health announces FEATURE_CITIZEN_DOCUMENTS)."""
        resp = self.request("GET", wire.CITIZEN_DOCUMENTS.format(id_number=id_number),
                            timeout=timeout or self.timeout)
        if resp.status_code != 200:
            raise self._fail(resp, "citizen documents")
        return self._model(wire.CitizenDocuments, resp, "citizen documents").documents

    def missing_blobs(self, hashes: list[str]) -> set[str]:
        out: set[str] = set()
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            resp = self.request("POST", wire.BLOBS_MISSING, json={"sha256": chunk})
            if resp.status_code != 200:
                raise self._fail(resp, "blobs/missing")
            out |= set(self._model(wire.MissingBlobsResponse, resp, "blobs/missing").missing)
        return out

    def put_dossier(self, document: dict[str, Any]) -> wire.DossierAck:
        client_id = str(document["ClientId"])
        path = wire.DOSSIER.format(client_id=client_id)
        resp = self.request("PUT", path, json=fitted(document, f"dossier {client_id}"))
        if resp.status_code not in (200, 201):
            raise self._fail(resp, f"PUT dossier {client_id}")
        ack = self._model(wire.DossierAck, resp, f"PUT dossier {client_id}")
        if ack.ClientId != client_id:
            raise LinkDown("Câu trả lời của hệ thống tỉnh không khớp hồ sơ đã gửi; sẽ thử lại.",
                           f"PUT dossier {client_id}: ack for {ack.ClientId}")
        return ack

    def put_dossiers(self, encoded: Sequence[tuple[str, bytes]]
                     ) -> list[wire.DossierAck | SyncError]:
        """One dossier batch (contract 1.1): ``encoded`` is (ClientId, `encode_dossier`
        output) per document. Returns, in the same order, each document's ack or the
        error its single PUT would have raised. The whole request fails as a PUT does
        (LinkDown, AuthFailed, ServerBusy); ``BatchUnsupported`` when the gateway would
        not take it as a batch."""
        what = f"dossier batch of {len(encoded)}"
        body = b'{"dossiers":[' + b",".join(doc for _, doc in encoded) + b"]}"
        resp = self.request("POST", wire.DOSSIER_BATCH, data=body,
                            headers={"Content-Type": "application/json"})
        if resp.status_code != 200:
            failure = self._fail(resp, what)
            if isinstance(failure, Refused):
                raise BatchUnsupported("Hệ thống tỉnh không nhận gửi gộp; gửi từng hồ sơ.",
                                       failure.detail) from failure
            raise failure
        answer = self._model(wire.DossierBatchResult, resp, what)
        if len(answer.results) != len(encoded):
            raise LinkDown("Câu trả lời của hệ thống tỉnh không khớp các hồ sơ đã gửi; sẽ "
                           "thử lại.", f"{what}: {len(answer.results)} results")
        out: list[wire.DossierAck | SyncError] = []
        for (client_id, _), item in zip(encoded, answer.results, strict=True):
            if item.ClientId != client_id or (item.ack is not None
                                              and item.ack.ClientId != client_id):
                raise LinkDown("Câu trả lời của hệ thống tỉnh không khớp hồ sơ đã gửi; sẽ "
                               "thử lại.", f"{what}: result for {item.ClientId} in the "
                               f"place of {client_id}")
            if item.status == 200 and item.ack is not None:
                out.append(item.ack)
            elif item.status == 200:
                raise LinkDown("Câu trả lời của hệ thống tỉnh không đúng định dạng; sẽ thử "
                               "lại.", f"{what}: status 200 without an ack for {client_id}")
            else:
                error = item.error.model_dump() if item.error is not None else {}
                out.append(self._refusal(item.status, error, f"dossier {client_id} in batch"))
        return out

    def post_event(self, event: dict[str, Any]) -> wire.EventAck:
        resp = self.request("POST", wire.EVENTS,
                            json=fitted(event, f"event {event.get('EventId')}"))
        if resp.status_code not in (200, 201):
            raise self._fail(resp, f"event {event.get('EventId')}")
        ack = self._model(wire.EventAck, resp, "event")
        if ack.EventId != event.get("EventId"):
            raise LinkDown("Câu trả lời của hệ thống tỉnh không khớp sự kiện đã gửi.",
                           f"event ack for {ack.EventId}")
        return ack

    def changes(self, since: int, limit: int = 200) -> wire.ChangesBody:
        resp = self.request("GET", wire.CHANGES, params={"since": since, "limit": limit})
        if resp.status_code != 200:
            raise self._fail(resp, "changes")
        return self._model(wire.ChangesBody, resp, "changes")

    def fetch(self, path: str, model: type[M], etag: str = "") -> Fetched:
        headers = {"If-None-Match": etag} if etag else {}
        resp = self.request("GET", path, headers=headers)
        if resp.status_code == 304:
            return Fetched(None, etag)
        if resp.status_code != 200:
            raise self._fail(resp, path)
        return Fetched(self._model(model, resp, path), resp.headers.get("ETag", ""))

    def register_bundle_key(self, public_key: str) -> wire.BundleKeyResponse:
        resp = self.request("PUT", wire.BUNDLE_KEY, json={"public_key": public_key})
        if resp.status_code != 200:
            raise self._fail(resp, "bundle key")
        return self._model(wire.BundleKeyResponse, resp, "bundle key")

    def post_bundle(self, source: Path) -> wire.BundleReceipt:
        """Forward a bundle file, streamed from the stick (never read into memory)."""
        with source.open("rb") as f:
            resp = self.request("POST", wire.BUNDLES, data=f,
                                headers={"Content-Type": "application/octet-stream",
                                         "Content-Length": str(os.fstat(f.fileno()).st_size)},
                                timeout=(CONNECT_TIMEOUT_S, 600.0))
        if resp.status_code not in (200, 201):
            raise self._fail(resp, "bundle")
        return self._model(wire.BundleReceipt, resp, "bundle")
