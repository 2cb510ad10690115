"""Credential Issuer Identifiers and the well-known URLs derived from them.

OpenID4VCI 1.0 §12.2.1: an identifier is a case-sensitive ``https`` URL with scheme, host,
optional port and path, and no query or fragment. Metadata lives where the well-known suffix
is inserted between host and path (§12.2.2; RFC 8414 §3.1 for the authorization server; SD-JWT
VC §5 for ``jwt-vc-issuer``), which is what lets one host serve several issuers ("tenants"):
``https://issuer.example/employer`` → ``https://issuer.example/.well-known/openid-credential-issuer/employer``.

Plain ``http`` is accepted only when the caller allows it and the host is a loopback address,
for a demo on 127.0.0.1; production identifiers are always ``https``.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit, urlunsplit

from ..errors import TsunaguError
from ..urls import is_loopback_host
from .errors import InvalidIssuerIdentifier

__all__ = [
    "CREDENTIAL_ISSUER_WELL_KNOWN",
    "OAUTH_AUTHORIZATION_SERVER_WELL_KNOWN",
    "is_loopback_host",
    "check_url",
    "check_identifier",
    "well_known_url",
    "credential_issuer_metadata_url",
    "authorization_server_metadata_url",
]

CREDENTIAL_ISSUER_WELL_KNOWN: Final = "/.well-known/openid-credential-issuer"
OAUTH_AUTHORIZATION_SERVER_WELL_KNOWN: Final = "/.well-known/oauth-authorization-server"



def check_url(
    url: object,
    *,
    what: str,
    error: type[TsunaguError],
    allow_http_loopback: bool = False,
    allow_query: bool = True,
) -> str:
    """``url`` if it is an absolute ``https`` URL (or ``http`` on loopback, when allowed).

    Raises:
        ``error``: not a string, not absolute, wrong scheme, a fragment, or a query where none may be.
    """
    if not isinstance(url, str) or not url:
        raise error(f"{what} must be a URL string")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise error(f"{what} is not a valid URL") from None
    if not host or any(ch.isspace() for ch in url):
        raise error(f"{what} must be an absolute URL with a host")
    if parts.scheme == "http" and not (allow_http_loopback and is_loopback_host(host)):
        raise error(f"{what} must use https (plain http is allowed only on a loopback host in a demo)")
    if parts.scheme not in ("https", "http"):
        raise error(f"{what} must use https")
    if parts.username is not None or parts.password is not None:
        raise error(f"{what} must not carry user information")
    if parts.fragment or "#" in url:
        raise error(f"{what} must not have a fragment")
    if not allow_query and (parts.query or "?" in url):
        raise error(f"{what} must not have a query")
    return url


def check_identifier(
    identifier: object, *, what: str, error: type[TsunaguError], allow_http_loopback: bool = False
) -> str:
    """§12.2.1 / RFC 8414 §2: an issuer identifier, ``https`` with no query or fragment."""
    return check_url(identifier, what=what, error=error, allow_http_loopback=allow_http_loopback, allow_query=False)


def well_known_url(identifier: str, suffix: str) -> str:
    """Insert ``suffix`` (``/.well-known/...``) between host and path; a terminating ``/`` is dropped first."""
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, suffix + path, "", ""))


def credential_issuer_metadata_url(credential_issuer: str, *, allow_http_loopback: bool = False) -> str:
    """OpenID4VCI 1.0 §12.2.2: where the Credential Issuer Metadata of ``credential_issuer`` lives.

    Raises:
        InvalidIssuerIdentifier: not a valid Credential Issuer Identifier.
    """
    check_identifier(
        credential_issuer, what="the credential issuer", error=InvalidIssuerIdentifier, allow_http_loopback=allow_http_loopback
    )
    return well_known_url(credential_issuer, CREDENTIAL_ISSUER_WELL_KNOWN)


def authorization_server_metadata_url(issuer: str, *, allow_http_loopback: bool = False) -> str:
    """RFC 8414 §3.1: where the metadata of the authorization server ``issuer`` lives."""
    check_identifier(issuer, what="the authorization server", error=InvalidIssuerIdentifier, allow_http_loopback=allow_http_loopback)
    return well_known_url(issuer, OAUTH_AUTHORIZATION_SERVER_WELL_KNOWN)


