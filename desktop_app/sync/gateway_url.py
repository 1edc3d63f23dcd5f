"""The one rule for the address of the provincial gateway: https, or plain http only to
this very machine (a training or test gateway on loopback). The station's bearer token
and citizen data must never cross a network in clear text.

Every path that accepts or uses a gateway address applies it: `motcua sync
--set-gateway`, the first-run wizard and any other save of the station settings
(`desktop_app.station`), the provisioning plan (`setup.plan_file`), and `GatewayClient`
itself right before it sends the token (a setting written before this rule, or copied
into a shared database by an older version, is still refused there)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from desktop_app.domain.errors import DomainError

HTTP_LOOPBACK_VI = ("phải dùng https:// — mã xác thực và dữ liệu công dân chỉ được gửi qua "
                    "kết nối mã hóa (http:// chỉ dùng cho máy chủ thử nghiệm trên chính máy "
                    "này).")


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1 (this machine, never the network)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_problem(value: str, *, allow_http_loopback: bool = True) -> str:
    """"" when ``value`` is a usable https URL (http only to this machine when
    ``allow_http_loopback``), else the problem in Vietnamese (lower case, for a list)."""
    if any(ch.isspace() for ch in value):
        return "địa chỉ không được chứa dấu cách."
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return "địa chỉ phải bắt đầu bằng https:// (ví dụ https://motcua.tinh.gov.vn)."
    host = parts.hostname or ""
    if not host:
        return "địa chỉ thiếu tên máy chủ."
    try:
        _ = parts.port
    except ValueError:
        return "cổng (port) trong địa chỉ không hợp lệ."
    if scheme == "http" and not (allow_http_loopback and is_loopback_host(host)):
        return HTTP_LOOPBACK_VI
    if parts.query or parts.fragment:
        return "địa chỉ không được có phần ?… hoặc #…."
    return ""


class InsecureGateway(DomainError):
    """A gateway address that would send the token in clear text (or is not a URL)."""


def check_gateway_url(url: str) -> str:
    """``url`` without a trailing slash when it passes the rule ("" stays ""), else
    ``InsecureGateway`` with the Vietnamese reason and an English detail naming only the
    scheme and host (never a token)."""
    url = url.strip().rstrip("/")
    if not url:
        return ""
    problem = url_problem(url)
    if problem:
        parts = urlsplit(url)
        raise InsecureGateway(
            f"Địa chỉ hệ thống một cửa của tỉnh “{url}” không dùng được: {problem}",
            f"gateway url refused ({parts.scheme or 'no scheme'}://{parts.hostname or '?'}):"
            " https required, http only to a loopback host")
    return url
