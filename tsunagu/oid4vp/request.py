"""The Authorization Request (OpenID4VP 1.0 §5) as a signed Request Object passed by reference.

Verifier: :func:`request_object_claims` → :func:`sign_request_object` (header ``typ``
``oauth-authz-req+jwt`` and the certificate chain in ``x5c``), served at a ``request_uri`` with
content type ``application/oauth-authz-req+jwt`` (§5.10.1); :func:`build_authorization_request_uri`
gives the ``openid4vp://?client_id=...&request_uri=...`` link for the QR code.

Wallet: :func:`parse_authorization_request_uri`, fetch the ``request_uri``, then
:func:`verify_request_object`, which applies §5 (``typ``), §5.9.3 (the ``x5c`` chain to the
registry's root, the ``client_id`` bound to the leaf certificate), §5.10.1 (same ``client_id`` in
URI and object, ``wallet_nonce``) and §8.2 (``direct_post`` with a ``response_uri``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final, Literal
from urllib.parse import quote, urlencode, urlsplit

from cryptography import x509

from .. import jose
from ..dcql import FORMAT_DC_SD_JWT, DcqlQuery, parse_dcql_query
from ..encoding import json_dumps, json_loads
from ..errors import DcqlError, EncodingError, InvalidSignature, JoseError, UnsupportedAlgorithm
from ..jwk import PrivateJwk
from ..x509 import VerifiedChain, X509Error, verify_x5c_chain
from .client_id import PREFIX_X509_HASH, PREFIX_X509_SAN_DNS, parse_client_id
from .errors import (
    ClientIdMismatch,
    InvalidRequest,
    InvalidRequestUriMethod,
    InvalidTransactionData,
    RequestObjectInvalid,
    ResponseUriNotAllowed,
    VerifierCertificateInvalid,
    VpFormatsNotSupported,
)
from .form import parse_form
from .verifier_info import PurposeStatement, VerifierInfo, parse_purpose_statement, parse_verifier_info

__all__ = [
    "unverified_client_id",
    "TYP_REQUEST_OBJECT",
    "MEDIA_TYPE_REQUEST_OBJECT",
    "AUD_SELF_ISSUED",
    "RESPONSE_TYPE_VP_TOKEN",
    "RESPONSE_MODE_DIRECT_POST",
    "OPENID4VP_SCHEME",
    "DEFAULT_CLIENT_METADATA",
    "AuthorizationRequest",
    "VerifiedRequest",
    "AuthorizationRequestReference",
    "RequestUriPost",
    "request_object_claims",
    "request_object_signing_input",
    "sign_request_object",
    "build_authorization_request_uri",
    "parse_authorization_request_uri",
    "build_request_uri_post",
    "parse_request_uri_post",
    "verify_request_object",
    "origin_of",
]

TYP_REQUEST_OBJECT: Final = "oauth-authz-req+jwt"
MEDIA_TYPE_REQUEST_OBJECT: Final = "application/oauth-authz-req+jwt"
#: §5.8: the ``aud`` of a Request Object when the wallet's metadata is static (no discovery).
AUD_SELF_ISSUED: Final = "https://self-issued.me/v2"
RESPONSE_TYPE_VP_TOKEN: Final = "vp_token"
RESPONSE_MODE_DIRECT_POST: Final = "direct_post"
OPENID4VP_SCHEME: Final = "openid4vp://"
#: §5.1 ``client_metadata``: with x509 prefixes all metadata but the key comes from here (§5.9.3).
DEFAULT_CLIENT_METADATA: Final[Mapping[str, Any]] = {
    "vp_formats_supported": {
        FORMAT_DC_SD_JWT: {"sd-jwt_alg_values": ["ES256", "ES384", "ES512", "EdDSA"],
                           "kb-jwt_alg_values": ["ES256", "ES384", "ES512", "EdDSA"]},
    },
}

# §5.2: nonce and state "MUST only contain ASCII URL safe characters".
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")
_MAX_PARAM = 512
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """The parameters of a verified Request Object that a wallet acts on."""

    client_id: str
    response_uri: str
    nonce: str
    state: str | None
    dcql_query: DcqlQuery
    #: The query as sent, for storing with a consent record.
    dcql_query_json: Mapping[str, Any]
    verifier_info: tuple[VerifierInfo, ...]
    purpose: PurposeStatement | None
    client_metadata: Mapping[str, Any] | None
    wallet_nonce: str | None
    iat: datetime | None
    exp: datetime | None


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    request: AuthorizationRequest
    #: The verifier's certificate chain, validated to the trust registry's root.
    chain: VerifiedChain


@dataclass(frozen=True, slots=True)
class AuthorizationRequestReference:
    """What an ``openid4vp://`` link carries: who asks, and where the signed request is (or the request itself)."""

    client_id: str
    request_uri: str | None
    request_uri_method: Literal["get", "post"] | None
    request: str | None


@dataclass(frozen=True, slots=True)
class RequestUriPost:
    """§5.10: the body a wallet may POST to the ``request_uri``."""

    wallet_nonce: str | None
    wallet_metadata: Mapping[str, Any] | None


# --- the verifier's side ------------------------------------------------------------------------


def request_object_claims(
    *,
    client_id: str,
    response_uri: str,
    nonce: str,
    state: str | None,
    dcql_query: Mapping[str, Any],
    verifier_info: Sequence[VerifierInfo] = (),
    iat: datetime,
    exp: datetime,
    client_metadata: Mapping[str, Any] | None = DEFAULT_CLIENT_METADATA,
    wallet_nonce: str | None = None,
) -> dict[str, Any]:
    """The Request Object payload: §5.1, §5.2, §5.8 (``aud``) and §8.2 (``response_uri``).

    Raises:
        InvalidDcqlQuery: ``dcql_query`` is not a valid DCQL query (checked before anything is signed).
        RequestObjectInvalid: ``nonce`` or ``state`` not URL-safe.
    """
    parse_dcql_query(dcql_query)
    for name, value in (("nonce", nonce), ("state", state), ("wallet_nonce", wallet_nonce)):
        if value is not None and not _URL_SAFE.fullmatch(value):
            raise RequestObjectInvalid(f"{name} must only contain ASCII URL-safe characters")
    claims: dict[str, Any] = {
        "iss": client_id,  # §5: ignored by wallets, but JAR libraries expect it
        "aud": AUD_SELF_ISSUED,
        "client_id": client_id,
        "response_type": RESPONSE_TYPE_VP_TOKEN,
        "response_mode": RESPONSE_MODE_DIRECT_POST,
        "response_uri": response_uri,
        "nonce": nonce,
        "dcql_query": dict(dcql_query),
        "iat": int(iat.timestamp()),
        "exp": int(exp.timestamp()),
    }
    if state is not None:
        claims["state"] = state
    if verifier_info:
        claims["verifier_info"] = [entry.to_json() for entry in verifier_info]
    if client_metadata is not None:
        claims["client_metadata"] = dict(client_metadata)
    if wallet_nonce is not None:
        claims["wallet_nonce"] = wallet_nonce
    return claims


def request_object_signing_input(claims: Mapping[str, Any], *, alg: str, x5c: Sequence[str]) -> bytes:
    """What the verifier's key signs; finish with ``jose.assemble(data, signature)``."""
    return jose.signing_input({"alg": alg, "typ": TYP_REQUEST_OBJECT, "x5c": list(x5c)}, claims)


def sign_request_object(claims: Mapping[str, Any], *, key: PrivateJwk, x5c: Sequence[str]) -> str:
    data = request_object_signing_input(claims, alg=key.alg, x5c=x5c)
    return jose.assemble(data, jose.sign(data, key))


def build_authorization_request_uri(
    *,
    client_id: str,
    request_uri: str,
    request_uri_method: Literal["get", "post"] | None = None,
    authorization_endpoint: str = OPENID4VP_SCHEME,
) -> str:
    """``openid4vp://?client_id=...&request_uri=...`` (§5.10, §11; RFC 9101 §5.2)."""
    params = {"client_id": client_id, "request_uri": request_uri}
    if request_uri_method is not None:
        params["request_uri_method"] = request_uri_method
    return f"{authorization_endpoint}?{urlencode(params, quote_via=quote, safe='')}"


def build_request_uri_post(*, wallet_nonce: str | None = None, wallet_metadata: Mapping[str, Any] | None = None) -> str:
    """The wallet's form body for ``request_uri_method=post`` (§5.10).

    Send it with ``Accept: application/oauth-authz-req+jwt``.
    """
    params: dict[str, str] = {}
    if wallet_metadata is not None:
        params["wallet_metadata"] = json_dumps(dict(wallet_metadata))
    if wallet_nonce is not None:
        params["wallet_nonce"] = wallet_nonce
    return urlencode(params)


def parse_request_uri_post(body: bytes | str) -> RequestUriPost:
    """Read a wallet's POST to the ``request_uri`` (§5.10); unknown parameters are ignored.

    Raises:
        InvalidRequest: not a form, or ``wallet_metadata`` not a JSON object, or ``wallet_nonce`` not URL-safe.
    """
    form = parse_form(body)
    nonce = form.get("wallet_nonce")
    if nonce is not None and (not _URL_SAFE.fullmatch(nonce) or len(nonce) > _MAX_PARAM):
        raise InvalidRequest("wallet_nonce must be a short string of URL-safe characters")
    metadata: Mapping[str, Any] | None = None
    if "wallet_metadata" in form:
        try:
            parsed = json_loads(form["wallet_metadata"])
        except EncodingError:
            parsed = None
        if not isinstance(parsed, dict):
            raise InvalidRequest("wallet_metadata must be a JSON object")
        metadata = parsed
    return RequestUriPost(wallet_nonce=nonce, wallet_metadata=metadata)


# --- the wallet's side -----------------------------------------------------------------------------


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, lower-cased scheme and host (RFC 6454)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def _check_url(url: object, name: str, *, allow_insecure_loopback: bool) -> str:
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise InvalidRequest(f"{name} must be an absolute URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise InvalidRequest(f"{name} is not a valid URL") from None
    if parts.fragment or not parts.hostname:
        raise InvalidRequest(f"{name} must be an absolute URL without a fragment")
    if parts.scheme == "https" or (
        parts.scheme == "http" and allow_insecure_loopback and parts.hostname in _LOOPBACK
    ):
        return url
    raise InvalidRequest(f"{name} must use https")


def parse_authorization_request_uri(
    uri: str, *, allow_insecure_loopback: bool = False
) -> AuthorizationRequestReference:
    """Read an Authorization Request link (``openid4vp://?...`` or a wallet's https link).

    Tsunagu wallets accept signed requests only: by reference (``request_uri``) or by value (``request``).

    Raises:
        InvalidRequest: no ``client_id``, neither or both of ``request_uri`` and ``request``, a repeated
            parameter, an unsigned request, or a ``request_uri`` that is not https.
        InvalidRequestUriMethod: ``request_uri_method`` other than ``get`` or ``post`` (§5.1, §8.5).
    """
    if not isinstance(uri, str) or len(uri) > 8192:
        raise InvalidRequest("the authorization request link is not a string of reasonable length")
    params = parse_form(urlsplit(uri).query)
    client_id = params.get("client_id")
    if not client_id:
        raise InvalidRequest("the authorization request has no client_id")
    request_uri, request = params.get("request_uri"), params.get("request")
    method: Literal["get", "post"] | None = None
    if "request_uri_method" in params:
        if request_uri is None:
            raise InvalidRequest("request_uri_method is present without request_uri")
        given = params["request_uri_method"]
        if given == "get":
            method = "get"
        elif given == "post":
            method = "post"
        else:
            raise InvalidRequestUriMethod(f"request_uri_method must be 'get' or 'post', not {given!r}")
    if (request_uri is None) == (request is None):
        if request_uri is None and "dcql_query" in params:
            raise InvalidRequest("unsigned authorization requests are not accepted; send a signed request object")
        raise InvalidRequest("the authorization request needs exactly one of request_uri and request")
    if request_uri is not None:
        _check_url(request_uri, "request_uri", allow_insecure_loopback=allow_insecure_loopback)
    return AuthorizationRequestReference(
        client_id=client_id,
        request_uri=request_uri,
        request_uri_method=method,
        request=request,
    )


def unverified_client_id(token: str) -> str:
    """The ``client_id`` a request object claims, before anything about it is verified.

    Only for finding which registry entry to verify it against (a wallet given a bare
    ``request_uri`` learns the client_id nowhere else); :func:`verify_request_object` then checks
    the signature and that the certificate is issued to exactly this client_id.

    Raises:
        RequestObjectInvalid: not a request object, or no client_id.
    """
    try:
        client_id = jose.parse_compact(token, typ=TYP_REQUEST_OBJECT).payload.get("client_id")
    except JoseError as exc:
        raise RequestObjectInvalid(f"the request object is not acceptable: {exc.reason}") from None
    if not isinstance(client_id, str) or not client_id:
        raise RequestObjectInvalid("the request object names no client_id")
    return client_id


def verify_request_object(
    token: str,
    *,
    client_id: str,
    trust_anchor: x509.Certificate,
    now: datetime,
    wallet_nonce: str | None = None,
    response_uri_origins: Collection[str] | None = None,
    algorithms: Collection[str] = jose.ALLOWED_ALGORITHMS,
    clock_skew: timedelta = timedelta(seconds=60),
    allow_insecure_loopback: bool = False,
) -> VerifiedRequest:
    """Verify a signed Request Object as a wallet must before showing it to anyone.

    ``client_id`` is the one from the authorization request link. ``response_uri_origins``: the
    origins the trust registry lists for this verifier; without them an ``x509_san_dns`` verifier
    may only use a ``response_uri`` on its own DNS name (§5.9.3).

    Raises:
        RequestObjectInvalid: not a JWS, ``typ`` not ``oauth-authz-req+jwt``, ``alg`` not allowed, bad
            signature, expired, or a required parameter missing or wrong (``response_type``, ``nonce`` ...).
        VerifierCertificateInvalid: ``x5c`` missing, or its chain does not validate to ``trust_anchor``.
        ClientIdError: the ``client_id`` has no supported prefix.
        ClientIdMismatch: URI and object disagree, or the ``client_id`` does not match the leaf certificate.
        ResponseUriNotAllowed: the ``response_uri`` is not the verifier's.
        InvalidRequest: ``redirect_uri`` or ``scope`` present, ``wallet_nonce`` missing or different.
        InvalidTransactionData: ``transaction_data`` present (no type is supported).
        InvalidVerifierInfo: a malformed ``verifier_info`` or purpose statement.
        VpFormatsNotSupported: no Credential Query asks for ``dc+sd-jwt``.
    """
    try:
        jws = jose.parse_compact(token, typ=TYP_REQUEST_OBJECT)
    except JoseError as exc:
        raise RequestObjectInvalid(f"the request object is not acceptable: {exc.reason}") from None
    if jws.header.get("alg") not in algorithms:
        raise RequestObjectInvalid(f"the request object's algorithm {jws.header.get('alg')!r} is not accepted")
    if "x5c" not in jws.header:
        raise VerifierCertificateInvalid("the request object carries no certificate chain (x5c)")
    try:
        chain = verify_x5c_chain(jws.header["x5c"], root=trust_anchor, now=now)
    except X509Error as exc:
        raise VerifierCertificateInvalid(f"the verifier's certificate is not trusted: {exc.reason}") from None
    try:
        jose.verify_signature(jws, chain.public_key, algorithms=algorithms)
    except (InvalidSignature, UnsupportedAlgorithm) as exc:
        raise RequestObjectInvalid(
            f"the request object is not signed by the key of its certificate: {exc.reason}"
        ) from None
    claims = jws.payload

    object_client_id = claims.get("client_id")
    if object_client_id != client_id:  # §5.10.1: identical, prefix included
        raise ClientIdMismatch(
            f"the request link names the client {client_id!r} but the signed request {object_client_id!r}"
        )
    prefix, value = parse_client_id(client_id)
    if prefix == PREFIX_X509_SAN_DNS and value not in chain.dns_names:
        raise ClientIdMismatch(f"the verifier's certificate is not issued to {value!r} (no such dNSName)")
    if prefix == PREFIX_X509_HASH and value != chain.x509_hash:
        raise ClientIdMismatch("the client_id is not the hash of the certificate that signed the request")

    _check_times(claims, now, clock_skew)
    if claims.get("aud", AUD_SELF_ISSUED) != AUD_SELF_ISSUED:
        raise RequestObjectInvalid(f"the request object is addressed to {claims.get('aud')!r}, not to a wallet")
    if wallet_nonce is not None and claims.get("wallet_nonce") != wallet_nonce:
        raise InvalidRequest("the request object does not carry the wallet_nonce this wallet sent (§5.10)")
    if claims.get("response_type") != RESPONSE_TYPE_VP_TOKEN:
        raise RequestObjectInvalid(f"response_type must be 'vp_token', not {claims.get('response_type')!r}")
    if claims.get("response_mode") != RESPONSE_MODE_DIRECT_POST:
        raise RequestObjectInvalid(f"response_mode must be 'direct_post', not {claims.get('response_mode')!r}")
    if "redirect_uri" in claims:
        raise InvalidRequest("redirect_uri must not be present with response_mode direct_post (§8.2)")
    response_uri = _check_url(
        claims.get("response_uri"), "response_uri", allow_insecure_loopback=allow_insecure_loopback
    )
    _check_response_uri(response_uri, prefix, value, response_uri_origins)
    nonce, state = claims.get("nonce"), claims.get("state")
    if not isinstance(nonce, str) or not _URL_SAFE.fullmatch(nonce) or len(nonce) > _MAX_PARAM:
        raise RequestObjectInvalid("the request object needs a nonce of URL-safe characters")
    if state is not None and (not isinstance(state, str) or not _URL_SAFE.fullmatch(state) or len(state) > _MAX_PARAM):
        raise RequestObjectInvalid("state must be a string of URL-safe characters")
    if "transaction_data" in claims:
        raise InvalidTransactionData("this wallet supports no transaction data types")

    query_json, query = _dcql(claims)
    info: tuple[VerifierInfo, ...] = ()
    if "verifier_info" in claims:
        info = parse_verifier_info(claims["verifier_info"], credential_query_ids=[q.id for q in query.credentials])
    metadata = claims.get("client_metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise RequestObjectInvalid("client_metadata must be a JSON object")
    request = AuthorizationRequest(
        client_id=client_id,
        response_uri=response_uri,
        nonce=nonce,
        state=state,
        dcql_query=query,
        dcql_query_json=query_json,
        verifier_info=info,
        purpose=parse_purpose_statement(info, client_id=client_id),
        client_metadata=metadata,
        wallet_nonce=claims.get("wallet_nonce") if isinstance(claims.get("wallet_nonce"), str) else None,
        iat=_time(claims, "iat"),
        exp=_time(claims, "exp"),
    )
    return VerifiedRequest(request=request, chain=chain)


def _time(claims: Mapping[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RequestObjectInvalid(f"'{name}' must be a NumericDate")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise RequestObjectInvalid(f"'{name}' is not a usable time") from None


def _check_times(claims: Mapping[str, Any], now: datetime, skew: timedelta) -> None:
    exp, iat, nbf = _time(claims, "exp"), _time(claims, "iat"), _time(claims, "nbf")
    if exp is not None and now - skew >= exp:
        raise RequestObjectInvalid(f"the request object expired at {exp.isoformat()}")
    if iat is not None and iat > now + skew:
        raise RequestObjectInvalid("the request object claims to be issued in the future")
    if nbf is not None and nbf > now + skew:
        raise RequestObjectInvalid(f"the request object is not valid before {nbf.isoformat()}")


def _check_response_uri(response_uri: str, prefix: str, value: str, origins: Collection[str] | None) -> None:
    if origins is not None:
        allowed = {o.rstrip("/").lower() for o in origins}
        if origin_of(response_uri) not in allowed:
            raise ResponseUriNotAllowed(
                f"the response_uri {response_uri!r} is not at an origin registered for this verifier"
            )
    elif prefix == PREFIX_X509_SAN_DNS and (urlsplit(response_uri).hostname or "").lower() != value.lower():
        raise ResponseUriNotAllowed(f"the response_uri's host must be {value!r}, the verifier's certified name")


def _dcql(claims: Mapping[str, Any]) -> tuple[Mapping[str, Any], DcqlQuery]:
    if "scope" in claims and "dcql_query" in claims:
        raise InvalidRequest("the request has both dcql_query and scope (§8.5)")
    if "dcql_query" not in claims:
        raise InvalidRequest("the request has no dcql_query; scope-based requests are not supported")
    raw = claims["dcql_query"]
    try:
        query = parse_dcql_query(raw)
    except DcqlError as exc:
        raise RequestObjectInvalid(f"the dcql_query is invalid: {exc.reason}") from None
    if not any(q.format == FORMAT_DC_SD_JWT for q in query.credentials):
        raise VpFormatsNotSupported("the request asks only for credential formats this wallet cannot present")
    return raw, query
