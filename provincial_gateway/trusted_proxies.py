"""`serve --trusted-proxy`: whose X-Forwarded-For / X-Forwarded-Proto the gateway believes.

Behind a reverse proxy every caller reaches uvicorn from the proxy's address, so the
enrolment guess limits (`enrolment_limits`) and the access log would see one caller.
uvicorn's proxy-headers middleware, given the proxies' addresses, takes the caller from
X-Forwarded-For instead: the right-most address that is not a trusted proxy, so a station
that sends its own X-Forwarded-For through nginx (`$proxy_add_x_forwarded_for` appends
the real peer) cannot choose its address. From anybody else the headers are ignored.

Nothing is trusted by default. Each entry must be an IP address or a network in CIDR
form: uvicorn would silently take anything else (a host name, "10.0.0.1/24") as a
literal that never matches, or "*" as "trust everyone"."""

from __future__ import annotations

import ipaddress

ENV_TRUSTED_PROXIES = "MOTCUA_GATEWAY_TRUSTED_PROXIES"


class TrustedProxyError(ValueError):
    """A refused --trusted-proxy entry, with a Vietnamese message."""


def parse(values: list[str] | str | None) -> list[str]:
    """Comma-separated entries (one string, or several given one flag each) as the
    canonical strings uvicorn's `forwarded_allow_ips` takes; [] when none is given."""
    if values is None:
        return []
    texts = [values] if isinstance(values, str) else values
    entries = [e.strip() for text in texts for e in text.split(",") if e.strip()]
    return [_canonical(e) for e in entries]


def _canonical(entry: str) -> str:
    if "/" not in entry:
        try:
            return str(ipaddress.ip_address(entry))
        except ValueError:
            raise TrustedProxyError(
                f"“{entry}” không phải địa chỉ IP hay dải mạng CIDR (--trusted-proxy "
                "nhận địa chỉ IP của reverse proxy, ví dụ 10.0.0.5 hoặc 10.0.0.0/24, "
                "không nhận tên máy).") from None
    try:
        return str(ipaddress.ip_network(entry))
    except ValueError:
        pass
    try:  # host bits set: say which network was probably meant rather than guess
        meant = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise TrustedProxyError(
            f"“{entry}” không phải dải mạng CIDR hợp lệ (--trusted-proxy, ví dụ "
            "10.0.0.0/24).") from None
    raise TrustedProxyError(
        f"Dải mạng “{entry}” có phần địa chỉ máy khác 0 (--trusted-proxy); "
        f"có phải ý là {meant}?")
