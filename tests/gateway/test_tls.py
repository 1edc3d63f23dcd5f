"""HTTPS with a provincial CA generated here: trusted with the CA bundle, refused without."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import auth_headers


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở TT&TT tỉnh mẫu"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(directory: Path, ca_name: str = "CA cổng tỉnh (kiểm thử)"
             ) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost; returns (ca, cert, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(ca_name))
          .issuer_name(_name(ca_name)).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("localhost"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = (directory / "ca.pem", directory / "server.pem",
                                    directory / "server.key")
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_path, cert_path, key_path


def test_tls_with_a_provincial_ca(tmp_path: Path,
                                  gateway_factory: Callable[..., GatewayServer]) -> None:
    ca, cert, key = make_pki(tmp_path)
    gw = gateway_factory(ssl_certfile=cert, ssl_keyfile=key)
    assert gw.url.startswith("https://127.0.0.1:")
    resp = requests.get(gw.url + wire.HEALTH, verify=str(ca), timeout=5)
    assert resp.status_code == 200 and resp.json()["status"] == "ok"
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(gw.url + wire.HEALTH, timeout=5)
    token = gw.add_station("000.00.12.H12", 1)
    changes = requests.get(gw.url + wire.CHANGES, headers=auth_headers(token), verify=str(ca),
                           timeout=5)
    assert changes.status_code == 200
    # Connection faults work the same over TLS.
    gw.faults.add("drop_after", path="/changes", times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(gw.url + wire.CHANGES, headers=auth_headers(token), verify=str(ca),
                     timeout=5)
