"""X.509 certificates for verifier authentication (OpenID4VP 1.0 §5.9.3 ``x509_san_dns``, ``x509_hash``).

The trust registry runs a small private PKI: a self-signed root CA, and under it one leaf
certificate per verifier, naming the verifier's DNS name in a ``dNSName`` SAN. A verifier signs
its request objects with the leaf's key and sends the chain in the ``x5c`` JOSE header (RFC 7515
§4.1.6: leaf first, each entry standard base64 — not base64url — of the DER). The wallet checks
that chain against the registry's root with :func:`verify_x5c_chain` and only then trusts the key.

Path validation is deliberately narrow, for a chain of at most a few certificates under one
known root: names chain, every signature verifies, every certificate is valid at ``now``, every
issuer is a CA allowed to sign certificates (basic constraints, ``pathLenConstraint``, key usage),
the leaf may sign (``digitalSignature``), and no certificate carries a critical extension we do
not process. Revocation of verifier certificates is handled by removing the verifier from the
registry, not by CRLs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtensionOID, NameOID

from .encoding import b64url_encode
from .errors import TsunaguError
from .jwk import Algorithm, PrivateJwk, PublicJwk

__all__ = [
    "X509Error",
    "MalformedCertificate",
    "CertificateChainInvalid",
    "CertificateExpired",
    "CertificateNotYetValid",
    "CertificateNotCa",
    "CertificateKeyUsageInvalid",
    "UnsupportedCertificateKey",
    "UnhandledCriticalExtension",
    "MAX_CHAIN_LENGTH",
    "VerifiedChain",
    "create_root_ca",
    "issue_verifier_certificate",
    "certificate_to_x5c",
    "certificate_to_pem",
    "parse_x5c_certificate",
    "parse_pem_certificate",
    "x509_hash",
    "certificate_public_jwk",
    "san_dns_names",
    "verify_x5c_chain",
]

#: More certificates than this in an ``x5c`` is refused before any parsing (leaf + intermediates).
MAX_CHAIN_LENGTH: Final = 5
#: A certificate larger than this (DER) is refused; ours are about 500 bytes.
MAX_CERTIFICATE_BYTES: Final = 16 * 1024

# Extensions whose meaning the checks below implement; any other critical extension is refused
# (RFC 5280 §4.2: a certificate-using system MUST reject a certificate with an unrecognised one).
_PROCESSED: Final = frozenset({
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
})
_CURVE_ALG: Final[dict[str, Algorithm]] = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class X509Error(TsunaguError):
    code = "x509.invalid"


class MalformedCertificate(X509Error):
    """Not standard base64, not DER, too large, or an ``x5c`` that is not a short non-empty array."""

    code = "x509.malformed"


class CertificateChainInvalid(X509Error):
    """The chain does not lead to the trusted root: a name or a signature does not chain."""

    code = "x509.chain_invalid"


class CertificateExpired(X509Error):
    code = "x509.expired"


class CertificateNotYetValid(X509Error):
    code = "x509.not_yet_valid"


class CertificateNotCa(X509Error):
    """A certificate that signed another is not a CA, or its path length constraint is exceeded."""

    code = "x509.not_ca"


class CertificateKeyUsageInvalid(X509Error):
    """A CA without ``keyCertSign``, or a leaf whose key may not make signatures (``digitalSignature``)."""

    code = "x509.key_usage"


class UnsupportedCertificateKey(X509Error):
    """The leaf's key is not one Tsunagu signs with (EC P-256/384/521 or Ed25519)."""

    code = "x509.unsupported_key"


class UnhandledCriticalExtension(X509Error):
    code = "x509.unhandled_critical_extension"


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """A chain that validated to the trusted root: the leaf, its key, and what identifies it."""

    leaf: x509.Certificate
    public_key: PublicJwk
    #: OpenID4VP §5.9.3: base64url(SHA-256(DER of the leaf)), the ``x509_hash`` client identifier.
    x509_hash: str
    #: The leaf's ``dNSName`` SAN entries, for the ``x509_san_dns`` client identifier.
    dns_names: tuple[str, ...]


# --- issuing (the registry's side) --------------------------------------------------------------


def create_root_ca(
    key: PrivateJwk, *, common_name: str, now: datetime, valid_for: timedelta, serial_number: int | None = None
) -> x509.Certificate:
    """A self-signed root CA certificate for the trust registry (``pathLenConstraint`` 0: leaves only)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    public = key.key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(serial_number if serial_number is not None else x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return builder.sign(key.key, _hash_for(key))


def issue_verifier_certificate(
    *,
    ca_key: PrivateJwk,
    ca_certificate: x509.Certificate,
    subject_key: PublicJwk,
    dns_name: str,
    organization: str,
    now: datetime,
    valid_for: timedelta,
    serial_number: int | None = None,
) -> x509.Certificate:
    """A verifier's leaf certificate: ``dNSName`` SAN ``dns_name``, not a CA, ``digitalSignature`` only."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, dns_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ])
    ca_public = ca_key.key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_certificate.subject)
        .public_key(subject_key.key)
        .serial_number(serial_number if serial_number is not None else x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + valid_for, ca_certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False)
    )
    return builder.sign(ca_key.key, _hash_for(ca_key))


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _hash_for(key: PrivateJwk) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    if isinstance(key.key, Ed25519PrivateKey):
        return None  # Ed25519 signs the message itself
    if key.alg == "ES384":
        return hashes.SHA384()
    return hashes.SHA512() if key.alg == "ES512" else hashes.SHA256()


# --- encoding ---------------------------------------------------------------------------------


def certificate_to_x5c(certificate: x509.Certificate) -> str:
    """One ``x5c`` entry: standard base64 (with padding, RFC 7515 §4.1.6) of the DER."""
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def certificate_to_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def parse_x5c_certificate(entry: object) -> x509.Certificate:
    """Decode one ``x5c`` entry.

    Raises:
        MalformedCertificate: not a string of standard base64, too large, or not a DER certificate.
    """
    if not isinstance(entry, str) or not entry:
        raise MalformedCertificate("an x5c entry must be a non-empty string of base64")
    if len(entry) > MAX_CERTIFICATE_BYTES * 4 // 3 + 4:
        raise MalformedCertificate("the certificate is larger than any verifier certificate should be")
    try:
        der = base64.b64decode(entry, validate=True)  # '-' and '_' (base64url) are rejected here
    except (binascii.Error, ValueError):
        raise MalformedCertificate(
            "an x5c entry must be standard base64 (not base64url) of a DER certificate"
        ) from None
    return _load_der(der)


def parse_pem_certificate(pem: str | bytes) -> x509.Certificate:
    """Raises: MalformedCertificate."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise MalformedCertificate("not a PEM certificate") from None


def _load_der(der: bytes) -> x509.Certificate:
    if len(der) > MAX_CERTIFICATE_BYTES:
        raise MalformedCertificate("the certificate is larger than any verifier certificate should be")
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise MalformedCertificate("the x5c entry is not a DER-encoded X.509 certificate") from None


def x509_hash(certificate: x509.Certificate) -> str:
    """OpenID4VP 1.0 §5.9.3: base64url of the SHA-256 of the DER-encoded certificate."""
    return b64url_encode(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())


def san_dns_names(certificate: x509.Certificate) -> tuple[str, ...]:
    """The ``dNSName`` entries of the Subject Alternative Name extension (none without one).

    Raises:
        MalformedCertificate: the extensions cannot be decoded.
    """
    san = _extension(certificate, x509.SubjectAlternativeName)
    return () if san is None else tuple(san.get_values_for_type(x509.DNSName))


def certificate_public_jwk(certificate: x509.Certificate) -> PublicJwk:
    """The certificate's key as a JWK with the JWS ``alg`` its curve is used with.

    Raises:
        UnsupportedCertificateKey: RSA, DSA, or an unsupported curve.
    """
    try:
        key = certificate.public_key()
    except ValueError:
        raise UnsupportedCertificateKey("the certificate's public key cannot be read") from None
    if isinstance(key, Ed25519PublicKey):
        return PublicJwk(key=key, alg="EdDSA")
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVE_ALG:
        return PublicJwk(key=key, alg=_CURVE_ALG[key.curve.name])
    raise UnsupportedCertificateKey(
        f"the certificate's key ({type(key).__name__}) is not an EC P-256/384/521 or Ed25519 key"
    )


# --- path validation (the wallet's side) ------------------------------------------------------------


def verify_x5c_chain(x5c: object, *, root: x509.Certificate, now: datetime) -> VerifiedChain:
    """Validate an ``x5c`` chain (leaf first) up to ``root`` and return the leaf's key.

    The root may be sent as the last entry or left out (RFC 7515 §4.1.6 allows both); either way
    only the configured ``root`` is trusted.

    Raises:
        MalformedCertificate: ``x5c`` not a non-empty array of at most ``MAX_CHAIN_LENGTH`` base64 DER certificates.
        CertificateChainInvalid: an issuer name or signature does not chain up to ``root``.
        CertificateExpired, CertificateNotYetValid: a certificate (the root included) is not valid at ``now``.
        CertificateNotCa, CertificateKeyUsageInvalid: a certificate is used for what it may not do.
        UnhandledCriticalExtension: a critical extension this module does not process.
        UnsupportedCertificateKey: the leaf's key type.
    """
    if not isinstance(x5c, (list, tuple)) or not x5c:
        raise MalformedCertificate("'x5c' must be a non-empty array of certificates")
    if len(x5c) > MAX_CHAIN_LENGTH:
        raise MalformedCertificate(f"'x5c' has {len(x5c)} certificates; at most {MAX_CHAIN_LENGTH} are accepted")
    chain = [parse_x5c_certificate(entry) for entry in x5c]
    root_der = root.public_bytes(serialization.Encoding.DER)
    if len(chain) > 1 and chain[-1].public_bytes(serialization.Encoding.DER) == root_der:
        chain.pop()  # the anchor itself travelled along; it is checked as the configured root below
    issuers = [*chain[1:], root]
    # Authenticity first: a chain that is not ours is reported as such, not as "expired".
    for depth, (certificate, issuer) in enumerate(zip(chain, issuers)):
        _check_signed_by(certificate, issuer)
        _check_ca(issuer, intermediates_below=depth)  # ``depth`` intermediates lie between issuer and leaf
    for certificate in [*chain, root]:
        _check_critical_extensions(certificate)
        _check_validity(certificate, now)
    leaf = chain[0]
    _check_leaf(leaf)
    return VerifiedChain(leaf=leaf, public_key=certificate_public_jwk(leaf), x509_hash=x509_hash(leaf),
                         dns_names=san_dns_names(leaf))


def _describe(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string() or "(empty subject)"


def _check_validity(certificate: x509.Certificate, now: datetime) -> None:
    # RFC 5280 §4.1.2.5: both bounds are inclusive.
    if now < certificate.not_valid_before_utc:
        raise CertificateNotYetValid(
            f"the certificate {_describe(certificate)} is valid only from "
            f"{certificate.not_valid_before_utc.isoformat()}"
        )
    if now > certificate.not_valid_after_utc:
        raise CertificateExpired(
            f"the certificate {_describe(certificate)} expired at {certificate.not_valid_after_utc.isoformat()}"
        )


def _check_critical_extensions(certificate: x509.Certificate) -> None:
    try:
        extensions = certificate.extensions
    except ValueError:  # duplicate or undecodable extensions
        raise MalformedCertificate(f"the certificate {_describe(certificate)} has malformed extensions") from None
    for extension in extensions:
        if extension.critical and extension.oid not in _PROCESSED:
            raise UnhandledCriticalExtension(
                f"the certificate {_describe(certificate)} has a critical extension {extension.oid.dotted_string} "
                "that is not understood"
            )


def _check_signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> None:
    try:
        certificate.verify_directly_issued_by(issuer)
    except ValueError:
        raise CertificateChainInvalid(
            f"the certificate {_describe(certificate)} was not issued by {_describe(issuer)}; "
            "the chain does not lead to the trust registry's root"
        ) from None
    except InvalidSignature:
        raise CertificateChainInvalid(
            f"the signature on {_describe(certificate)} does not verify with the key of {_describe(issuer)}"
        ) from None
    except TypeError:
        raise CertificateChainInvalid(
            f"the signature on {_describe(certificate)} uses an unsupported algorithm"
        ) from None


def _check_ca(issuer: x509.Certificate, *, intermediates_below: int) -> None:
    constraints = _extension(issuer, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        raise CertificateNotCa(f"{_describe(issuer)} signed a certificate but is not a certificate authority")
    if constraints.path_length is not None and intermediates_below > constraints.path_length:
        raise CertificateNotCa(
            f"{_describe(issuer)} may have at most {constraints.path_length} intermediate CAs below it"
        )
    usage = _extension(issuer, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        raise CertificateKeyUsageInvalid(f"{_describe(issuer)} is not allowed to sign certificates (keyCertSign)")


def _check_leaf(leaf: x509.Certificate) -> None:
    constraints = _extension(leaf, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise CertificateNotCa(f"{_describe(leaf)} is a CA certificate; a request must be signed by a leaf")
    usage = _extension(leaf, x509.KeyUsage)
    if usage is not None and not usage.digital_signature:
        raise CertificateKeyUsageInvalid(f"the key of {_describe(leaf)} may not make signatures (digitalSignature)")


_E = TypeVar("_E", bound=x509.ExtensionType)


def _extension(certificate: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # duplicate or undecodable extensions
        raise MalformedCertificate(f"the certificate {_describe(certificate)} has malformed extensions") from None
