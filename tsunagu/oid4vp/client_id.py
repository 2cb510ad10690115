"""Client Identifier Prefixes (OpenID4VP 1.0 §5.9): ``x509_san_dns`` and ``x509_hash``.

The prefix is the text before the first ``:`` (§5.9.1). Tsunagu's verifiers authenticate with
certificates issued under the trust registry's root, so these two prefixes are the ones a wallet
accepts; the full ``client_id``, prefix included, is what a presentation's KB-JWT ``aud`` names
(§14.1.2 "Always Use the Full Client Identifier").
"""

from __future__ import annotations

import re
from typing import Final, Literal, TypeAlias

from cryptography import x509

from ..x509 import san_dns_names, x509_hash
from .errors import ClientIdError

__all__ = [
    "PREFIX_X509_SAN_DNS",
    "PREFIX_X509_HASH",
    "ClientIdPrefix",
    "SUPPORTED_PREFIXES",
    "parse_client_id",
    "client_id_for_certificate",
]

PREFIX_X509_SAN_DNS: Final = "x509_san_dns"
PREFIX_X509_HASH: Final = "x509_hash"
ClientIdPrefix: TypeAlias = Literal["x509_san_dns", "x509_hash"]
SUPPORTED_PREFIXES: Final = frozenset({PREFIX_X509_SAN_DNS, PREFIX_X509_HASH})

# RFC 1035/1123 host names, as a dNSName SAN holds them (no IP literals, no trailing dot).
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(\.{_LABEL})*")
_SHA256_B64URL = re.compile(r"[A-Za-z0-9_-]{43}")


def parse_client_id(client_id: object) -> tuple[ClientIdPrefix, str]:
    """Split a ``client_id`` into its prefix and original Client Identifier.

    Raises:
        ClientIdError: no prefix (a pre-registered client, §5.9.2, which Tsunagu wallets do not accept),
            an unsupported prefix, or a value that is not a DNS name / a SHA-256 hash.
    """
    if not isinstance(client_id, str) or not client_id:
        raise ClientIdError("the client_id must be a non-empty string")
    prefix, colon, value = client_id.partition(":")
    if not colon:
        raise ClientIdError(
            f"the client_id {client_id!r} has no Client Identifier Prefix; Tsunagu accepts "
            "x509_san_dns and x509_hash verifiers", client_id=client_id,
        )
    if prefix == PREFIX_X509_SAN_DNS:
        if not _DNS_NAME.fullmatch(value):
            raise ClientIdError(f"the client_id {client_id!r} does not name a DNS host", client_id=client_id)
        return PREFIX_X509_SAN_DNS, value
    if prefix == PREFIX_X509_HASH:
        if not _SHA256_B64URL.fullmatch(value):
            raise ClientIdError(f"the client_id {client_id!r} is not a base64url SHA-256 hash", client_id=client_id)
        return PREFIX_X509_HASH, value
    raise ClientIdError(
        f"the Client Identifier Prefix {prefix!r} is not supported; use x509_san_dns or x509_hash",
        client_id=client_id,
    )


def client_id_for_certificate(prefix: ClientIdPrefix, certificate: x509.Certificate) -> str:
    """The ``client_id`` a verifier with this leaf certificate uses under ``prefix``.

    Raises:
        ClientIdError: ``x509_san_dns`` for a certificate without a ``dNSName`` SAN.
    """
    if prefix == PREFIX_X509_HASH:
        return f"{PREFIX_X509_HASH}:{x509_hash(certificate)}"
    names = san_dns_names(certificate)
    if not names:
        raise ClientIdError("the certificate has no dNSName, so it cannot authenticate an x509_san_dns client_id")
    return f"{PREFIX_X509_SAN_DNS}:{names[0]}"
