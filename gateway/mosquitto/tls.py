"""The site's own CA and the broker's server certificate (EC P-256), made with ``cryptography``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 20 * 365
#: Renewed by `houqin mqtt setup` when fewer than RENEW_DAYS are left (doctor warns before that).
SERVER_DAYS = 825
RENEW_DAYS = 60


@dataclass(frozen=True, slots=True)
class Pem:
    """A certificate and its private key, both PEM."""

    cert: bytes
    key: bytes


def default_hosts() -> list[str]:
    """Names and addresses the Pi is reached by: its host name, ``NAME.local``, localhost and its addresses."""
    name = socket.gethostname()
    hosts = [name, f"{name}.local", "localhost", "127.0.0.1"]
    try:
        for info in socket.getaddrinfo(name, None):
            hosts.append(str(info[4][0]))
    except OSError:
        pass
    return list(dict.fromkeys(hosts))


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Houqin"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(site: str, now: dt.datetime) -> Pem:
    """A new certificate authority for ``site`` (signs the broker's certificate only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"Houqin CA {site}")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _san(hosts: Iterable[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for h in hosts:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            out.append(x509.DNSName(h))
    return out


def make_server(ca: Pem, hosts: list[str], now: dt.datetime) -> Pem:
    """A server certificate for the broker, valid for every name and address in ``hosts``."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert)
    ca_key = serialization.load_pem_private_key(ca.key, None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName(_san(hosts)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def server_needs_renewal(cert_pem: bytes, ca_pem: bytes, hosts: list[str], now: dt.datetime) -> bool:
    """True when the certificate expires within RENEW_DAYS, is not from this CA, or misses a host."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    if cert.issuer != x509.load_pem_x509_certificate(ca_pem).subject:
        return True
    if cert.not_valid_after_utc - now < dt.timedelta(days=RENEW_DAYS):
        return True
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return True
    have = {str(v) for v in san.get_values_for_type(x509.DNSName)}
    have |= {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    return not set(hosts) <= have


def expires(cert_pem: bytes) -> dt.datetime:
    """When a PEM certificate stops being valid (UTC)."""
    return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc
