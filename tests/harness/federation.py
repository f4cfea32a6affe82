"""Homeservers that federate with each other over loopback.

Synapse speaks federation over TLS to the host and port in the server name.
So each federating homeserver gets a second listener, TLS with a
self-signed certificate made here, serving the federation and key APIs on
the port its server name (`localhost:<port>`) names; clients keep the plain
HTTP listener. Certificates are not verified between test servers
(`federation_verify_certificates: false`), and loopback, which Synapse
refuses to federate with by default, is allowed (`ip_range_whitelist`).
"""

from __future__ import annotations

import datetime
import ipaddress
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness.homeserver import Homeserver, free_port


def self_signed_certificate(
    folder: Path, hostname: str = "localhost"
) -> tuple[Path, Path]:
    """A key and a certificate for `hostname` and 127.0.0.1, valid for a
    day; returns (certificate path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(hostname),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls.crt", folder / "tls.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def federating_homeserver(
    module_config: Mapping[str, Any] | None,
    backend: str,
    name: str,
    extra_config: Mapping[str, Any] | None = None,
    federation_port: int | None = None,
) -> Homeserver:
    """A homeserver (not yet started) whose server name is
    `localhost:<federation port>`, ready to federate with others made here.
    Choose the port beforehand (`free_port()`) when servers must name each
    other in their configs."""
    federation_port = federation_port or free_port()
    cert_path, key_path = self_signed_certificate(
        Path(tempfile.mkdtemp(prefix=f"groupreg-{name}-tls-"))
    )
    return Homeserver(
        module_config,
        backend,
        {
            "tls_certificate_path": str(cert_path),
            "tls_private_key_path": str(key_path),
            "federation_verify_certificates": False,
            "ip_range_whitelist": ["127.0.0.1", "::1"],
            **(extra_config or {}),
        },
        name=name,
        server_name=f"localhost:{federation_port}",
        extra_listeners=[
            {
                "port": federation_port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": True,
                "resources": [{"names": ["federation", "keys"]}],
            }
        ],
    )
