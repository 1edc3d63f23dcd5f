"""Which certificate authorities the station trusts for HTTPS to the gateway.

The operating system's store (the Windows certificate store, the macOS keychain, the
Linux system CAs) through ``truststore``, plus the provincial CA bundle when one is
provisioned: a government CA that IT installed in Windows is trusted without a PEM file,
and a provisioned provincial CA is trusted on a PC whose store lacks it. requests alone
trusts only certifi's list, which has neither.

Set per session (an adapter with its own ``ssl.SSLContext``), never with
``truststore.inject_into_ssl()``: the rest of the process (the gateway in tests, other
libraries) keeps Python's defaults. Verification and hostname checks are always on."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import requests
import truststore
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)


def station_ssl_context(ca_bundle: str = "") -> ssl.SSLContext:
    """The OS store, and the CAs in the PEM file ``ca_bundle`` when given. A bundle that
    cannot be read raises ``OSError``/``ssl.SSLError`` here, not at the first request."""
    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
    if ca_bundle:
        ctx.load_verify_locations(cafile=ca_bundle)
    return ctx


class TrustStoreAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections (direct or through a proxy) verify with one
    context. The per-request ``verify`` is ignored: requests would otherwise add
    certifi's file (``verify=True``) or ``REQUESTS_CA_BUNDLE`` to the context on each
    new connection, and ``verify=False`` would turn verification off."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, ssl_context=self.context,
                                 **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        proxy_kwargs.setdefault("ssl_context", self.context)
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: bool | str = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        return super().send(request, stream=stream, timeout=timeout, verify=True, cert=cert,
                            proxies=proxies)

    def cert_verify(self, conn: Any, url: str, verify: bool | str, cert: Any) -> None:
        if url.lower().startswith("https"):
            conn.cert_reqs = "CERT_REQUIRED"  # CA files stay unset: the context has them


def use_station_trust(session: requests.Session, ca_bundle: str = "") -> None:
    """Make ``session`` trust the OS store and ``ca_bundle`` for https:// URLs."""
    session.mount("https://", TrustStoreAdapter(station_ssl_context(ca_bundle)))
    log.debug("TLS trust: operating system store%s",
             " + provincial CA bundle" if ca_bundle else "")
