"""Self-signed certificates: they parse, name the service, and belong to their key."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from license_service.tls.certificates import generate_self_signed, local_names, service_dns_names

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_service_names_cover_every_way_to_reach_it_in_its_namespace() -> None:
    assert service_dns_names("licensing") == (
        "ibm-licensing-service-instance",
        "ibm-licensing-service-instance.licensing",
        "ibm-licensing-service-instance.licensing.svc",
        "ibm-licensing-service-instance.licensing.svc.cluster.local",
    )


def test_a_generated_certificate_names_the_service_and_is_valid_from_now() -> None:
    pems = generate_self_signed(dns_names=service_dns_names("licensing"), now=NOW)

    certificate = x509.load_pem_x509_certificate(pems.certificate)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == list(service_dns_names("licensing"))
    assert certificate.issuer == certificate.subject
    assert certificate.not_valid_before_utc <= NOW
    assert certificate.not_valid_after_utc == NOW + timedelta(days=825)


def test_a_generated_key_is_the_key_of_its_certificate() -> None:
    pems = generate_self_signed(dns_names=["localhost"], now=NOW)

    key = serialization.load_pem_private_key(pems.private_key, password=None)
    certificate = x509.load_pem_x509_certificate(pems.certificate)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(serialization.Encoding.DER, public) == (
        certificate.public_key().public_bytes(serialization.Encoding.DER, public)
    )


def test_local_certificates_name_the_loopback_addresses() -> None:
    dns_names, addresses = local_names()

    pems = generate_self_signed(dns_names=dns_names, ip_addresses=addresses, now=NOW)

    names = (
        x509.load_pem_x509_certificate(pems.certificate)
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]


def test_the_private_key_is_not_shown_in_its_representation() -> None:
    pems = generate_self_signed(dns_names=["localhost"], now=NOW)

    assert "PRIVATE" not in repr(pems)
