"""Verifier certificates under the trust registry's root: issuing, and validating an ``x5c`` chain."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from tsunagu.encoding import b64url_encode
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.x509 import (
    CertificateChainInvalid,
    CertificateExpired,
    CertificateKeyUsageInvalid,
    CertificateNotCa,
    CertificateNotYetValid,
    MalformedCertificate,
    UnhandledCriticalExtension,
    UnsupportedCertificateKey,
    X509Error,
    certificate_to_pem,
    certificate_to_x5c,
    create_root_ca,
    issue_verifier_certificate,
    parse_pem_certificate,
    verify_x5c_chain,
    x509_hash,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
YEAR = timedelta(days=365)


@pytest.fixture(scope="module")
def root_key() -> PrivateJwk:
    return generate_key("ES256")


@pytest.fixture(scope="module")
def root(root_key: PrivateJwk) -> x509.Certificate:
    return create_root_ca(root_key, common_name="Tsunagu Registry Root", now=NOW, valid_for=10 * YEAR)


@pytest.fixture(scope="module")
def verifier_key() -> PrivateJwk:
    return generate_key("ES256")


@pytest.fixture(scope="module")
def leaf(root_key: PrivateJwk, root: x509.Certificate, verifier_key: PrivateJwk) -> x509.Certificate:
    return issue_verifier_certificate(ca_key=root_key, ca_certificate=root, subject_key=verifier_key.public,
                                      dns_name="landlord.example", organization="Tokyo Homes", now=NOW, valid_for=YEAR)


def test_a_leaf_issued_under_the_root_validates_and_yields_its_key(
    root: x509.Certificate, leaf: x509.Certificate, verifier_key: PrivateJwk
) -> None:
    chain = verify_x5c_chain([certificate_to_x5c(leaf)], root=root, now=NOW)
    assert chain.public_key.thumbprint() == verifier_key.thumbprint()
    assert chain.public_key.alg == "ES256"
    assert chain.dns_names == ("landlord.example",)
    der = leaf.public_bytes(serialization.Encoding.DER)
    assert chain.x509_hash == b64url_encode(hashlib.sha256(der).digest()) == x509_hash(leaf)


def test_the_root_may_travel_at_the_end_of_the_chain(root: x509.Certificate, leaf: x509.Certificate) -> None:
    chain = verify_x5c_chain([certificate_to_x5c(leaf), certificate_to_x5c(root)], root=root, now=NOW)
    assert chain.leaf == leaf


def test_x5c_entries_are_standard_base64_of_der(leaf: x509.Certificate) -> None:
    entry = certificate_to_x5c(leaf)
    assert base64.b64decode(entry, validate=True) == leaf.public_bytes(serialization.Encoding.DER)
    assert parse_pem_certificate(certificate_to_pem(leaf)) == leaf


def test_an_intermediate_ca_is_accepted_when_the_root_allows_one(verifier_key: PrivateJwk) -> None:
    root_key, mid_key = generate_key("ES256"), generate_key("ES256")
    root = _cert(_name("Root"), _name("Root"), root_key, root_key, ca=True, path_length=1)
    mid = _cert(_name("Intermediate"), _name("Root"), mid_key, root_key, ca=True, path_length=0)
    leaf = issue_verifier_certificate(ca_key=mid_key, ca_certificate=mid, subject_key=verifier_key.public,
                                      dns_name="bank.example", organization="Bank", now=NOW, valid_for=YEAR)
    chain = verify_x5c_chain([certificate_to_x5c(leaf), certificate_to_x5c(mid)], root=root, now=NOW)
    assert chain.dns_names == ("bank.example",)


# --- hostile chains -----------------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    subject_key: PrivateJwk | rsa.RSAPrivateKey,
    issuer_key: PrivateJwk,
    *,
    ca: bool | None,
    path_length: int | None = None,
    key_usage: x509.KeyUsage | None = None,
    not_before: datetime = NOW - YEAR,
    not_after: datetime = NOW + YEAR,
    extra: Callable[[x509.CertificateBuilder], x509.CertificateBuilder] = lambda b: b,
) -> x509.Certificate:
    public = subject_key.public_key() if isinstance(subject_key, rsa.RSAPrivateKey) else subject_key.key.public_key()
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public)
        .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), True)
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    private = issuer_key.key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return extra(builder).sign(private, hashes.SHA256())


def _usage(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature, False, False, False, False, cert_sign, cert_sign, False, False)


def _with_tampered_signature(certificate: x509.Certificate) -> str:
    der = bytearray(certificate.public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the ECDSA signature's last integer
    return base64.b64encode(bytes(der)).decode()


def _hostile_cases(
    root_key: PrivateJwk, root: x509.Certificate, leaf: x509.Certificate, leaf_key: PrivateJwk
) -> list[tuple[str, object, datetime, type[X509Error]]]:
    key = generate_key("ES256")
    other_root_key = generate_key("ES256")
    other_root = create_root_ca(other_root_key, common_name="Tsunagu Registry Root", now=NOW, valid_for=YEAR)
    foreign = issue_verifier_certificate(ca_key=other_root_key, ca_certificate=other_root, subject_key=key.public,
                                         dns_name="landlord.example", organization="Impostor", now=NOW, valid_for=YEAR)
    self_signed = _cert(_name("landlord.example"), _name("landlord.example"), key, key, ca=False)
    not_a_ca = _cert(_name("victim.example"), leaf.subject, generate_key("ES256"), leaf_key, ca=False)
    no_signing = _cert(_name("enc.example"), root.subject, key, root_key, ca=False, key_usage=_usage(cert_sign=False))
    unknown_critical = _cert(_name("odd.example"), root.subject, key, root_key, ca=False, extra=lambda b: b.add_extension(
        x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"), critical=True))
    rsa_leaf = _cert(_name("rsa.example"), root.subject, rsa.generate_private_key(65537, 2048), root_key, ca=False)
    expired = _cert(_name("old.example"), root.subject, key, root_key, ca=False, not_after=NOW - timedelta(seconds=1))
    future = _cert(_name("new.example"), root.subject, key, root_key, ca=False, not_before=NOW + timedelta(days=1))
    ok = certificate_to_x5c(leaf)
    url_safe = ok.replace("+", "-").replace("/", "_")
    return [
        ("leaf under another root with the same name", [certificate_to_x5c(foreign)], NOW, CertificateChainInvalid),
        ("self-signed leaf", [certificate_to_x5c(self_signed)], NOW, CertificateChainInvalid),
        ("tampered leaf signature", [_with_tampered_signature(leaf)], NOW, CertificateChainInvalid),
        ("leaf issued by a leaf", [certificate_to_x5c(not_a_ca), certificate_to_x5c(leaf)], NOW, CertificateNotCa),
        ("the root itself as the leaf", [certificate_to_x5c(root)], NOW, CertificateNotCa),
        ("leaf may not sign", [certificate_to_x5c(no_signing)], NOW, CertificateKeyUsageInvalid),
        ("unknown critical extension", [certificate_to_x5c(unknown_critical)], NOW, UnhandledCriticalExtension),
        ("RSA leaf", [certificate_to_x5c(rsa_leaf)], NOW, UnsupportedCertificateKey),
        ("expired leaf", [certificate_to_x5c(expired)], NOW, CertificateExpired),
        ("leaf not yet valid", [certificate_to_x5c(future)], NOW, CertificateNotYetValid),
        ("valid leaf after its expiry", [ok], leaf.not_valid_after_utc + timedelta(seconds=1), CertificateExpired),
        ("root expired", [ok], root.not_valid_after_utc + timedelta(days=1), CertificateExpired),
        ("base64url instead of base64", [url_safe] if url_safe != ok else ["-_-_"], NOW, MalformedCertificate),
        ("not base64", ["not base64!"], NOW, MalformedCertificate),
        ("base64 of something that is not DER", [base64.b64encode(b"hello").decode()], NOW, MalformedCertificate),
        ("x5c is a string", ok, NOW, MalformedCertificate),
        ("x5c is empty", [], NOW, MalformedCertificate),
        ("x5c entry is not a string", [42], NOW, MalformedCertificate),
        ("x5c too long", [ok] * 6, NOW, MalformedCertificate),
    ]


HOSTILE_NAMES = [
    "leaf under another root with the same name", "self-signed leaf", "tampered leaf signature", "leaf issued by a leaf",
    "the root itself as the leaf", "leaf may not sign", "unknown critical extension", "RSA leaf", "expired leaf",
    "leaf not yet valid", "valid leaf after its expiry", "root expired", "base64url instead of base64", "not base64",
    "base64 of something that is not DER", "x5c is a string", "x5c is empty", "x5c entry is not a string",
    "x5c too long",
]


@pytest.fixture(scope="module")
def hostile(
    root_key: PrivateJwk, root: x509.Certificate, leaf: x509.Certificate, verifier_key: PrivateJwk
) -> dict[str, tuple[object, datetime, type[X509Error]]]:
    return {name: (x5c, now, error) for name, x5c, now, error in _hostile_cases(root_key, root, leaf, verifier_key)}


def test_the_hostile_table_is_complete(hostile: dict[str, object]) -> None:
    assert sorted(hostile) == sorted(HOSTILE_NAMES)


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_hostile_chain_is_refused_with_its_own_error(
    case: str, root: x509.Certificate, hostile: dict[str, tuple[object, datetime, type[X509Error]]]
) -> None:
    x5c, now, expected = hostile[case]
    with pytest.raises(X509Error) as raised:
        verify_x5c_chain(x5c, root=root, now=now)
    assert type(raised.value) is expected, raised.value.reason


def test_a_root_that_allows_no_intermediate_refuses_one(root_key: PrivateJwk, root: x509.Certificate) -> None:
    mid_key = generate_key("ES256")
    mid = _cert(_name("Rogue intermediate"), root.subject, mid_key, root_key, ca=True, path_length=0,
                key_usage=_usage(cert_sign=True))
    leaf = issue_verifier_certificate(ca_key=mid_key, ca_certificate=mid, subject_key=generate_key("ES256").public,
                                      dns_name="bank.example", organization="Bank", now=NOW, valid_for=YEAR)
    with pytest.raises(CertificateNotCa, match="at most 0 intermediate"):
        verify_x5c_chain([certificate_to_x5c(leaf), certificate_to_x5c(mid)], root=root, now=NOW)
