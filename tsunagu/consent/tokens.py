"""Signing and reading the consent tokens: the JWS framing, key selection, the verifier's
certificate chain, and strict readers for claims. Shared by ``receipt`` and ``events``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from cryptography import x509

from .. import jose
from ..errors import JoseError
from ..jwk import PrivateJwk, PublicJwk, select_key
from ..oid4vp.client_id import PREFIX_X509_HASH, PREFIX_X509_SAN_DNS, parse_client_id
from ..oid4vp.errors import ClientIdError
from ..trust import LocalizedText
from ..x509 import VerifiedChain, X509Error, verify_x5c_chain
from .errors import (
    ConsentAudienceMismatch,
    ConsentCertificateInvalid,
    ConsentClientIdMismatch,
    ConsentIssuerMismatch,
    ConsentKeyNotFound,
    ConsentSignatureInvalid,
    ConsentTokenExpired,
    ConsentTokenInvalid,
    ConsentTokenNotYetValid,
    InvalidConsentData,
)

_T = TypeVar("_T")


def sign_token(typ: str, claims: Mapping[str, Any], key: PrivateJwk, *, x5c: Sequence[str] | None = None) -> str:
    header: dict[str, Any] = {"typ": typ}
    if x5c is not None:
        if not x5c:
            raise InvalidConsentData("x5c must hold at least the leaf certificate")
        header["x5c"] = list(x5c)
    elif key.kid is None:
        raise InvalidConsentData("the wallet's signing key needs a kid, so verifiers can find it in the JWK Set")
    return jose.sign_compact(header, claims, key)


def parse_token(token: str, typ: str) -> jose.CompactJws:
    try:
        return jose.parse_compact(token, typ=typ)
    except JoseError as exc:
        raise ConsentTokenInvalid(f"the {typ} token is not acceptable: {exc.reason}") from None


def verify_with_jwks(token: str, typ: str, keys: Collection[PublicJwk]) -> Mapping[str, Any]:
    jws = parse_token(token, typ)
    kid = jws.header.get("kid")
    key = select_key(keys, kid=kid if isinstance(kid, str) else None, alg=jws.alg)
    if key is None:
        raise ConsentKeyNotFound(f"no key of the wallet's JWK Set has kid {kid!r} and alg {jws.alg}", kid=kid)
    try:
        jose.verify_signature(jws, key)
    except JoseError as exc:
        raise ConsentSignatureInvalid(f"the {typ} signature is not valid: {exc.reason}") from None
    return jws.payload


def verify_with_x5c(
    token: str, typ: str, trust_anchor: x509.Certificate, expected_client_id: str | None, now: datetime
) -> tuple[Mapping[str, Any], VerifiedChain]:
    jws = parse_token(token, typ)
    if "x5c" not in jws.header:
        raise ConsentCertificateInvalid(f"the {typ} token carries no certificate chain (x5c)")
    try:
        chain = verify_x5c_chain(jws.header["x5c"], root=trust_anchor, now=now)
    except X509Error as exc:
        raise ConsentCertificateInvalid(f"the verifier's certificate is not trusted: {exc.reason}") from None
    try:
        jose.verify_signature(jws, chain.public_key)
    except JoseError as exc:
        raise ConsentSignatureInvalid(f"the {typ} token is not signed by its certificate's key: {exc.reason}") from None
    claims = jws.payload
    client_id = claims.get("client_id")
    if expected_client_id is not None and client_id != expected_client_id:
        raise ConsentClientIdMismatch(f"the token names the client {client_id!r}, expected {expected_client_id!r}")
    # OpenID4VP 1.0 §5.9.3: the certificate authenticates the client_id, by dNSName or by hash.
    try:
        prefix, value = parse_client_id(client_id)
    except ClientIdError as exc:
        raise ConsentClientIdMismatch(exc.reason) from None
    if (prefix == PREFIX_X509_SAN_DNS and value not in chain.dns_names) or (
        prefix == PREFIX_X509_HASH and value != chain.x509_hash
    ):
        raise ConsentClientIdMismatch(f"the signing certificate does not authenticate the client {client_id!r}")
    return claims, chain


def check_aud_iss(claims: Mapping[str, Any], expected_aud: str, expected_iss: str | None) -> None:
    if claims.get("aud") != expected_aud:
        raise ConsentAudienceMismatch(f"the token is addressed to {claims.get('aud')!r}, not {expected_aud!r}")
    if expected_iss is not None and claims.get("iss") != expected_iss:
        raise ConsentIssuerMismatch(f"the token was issued by {claims.get('iss')!r}, not {expected_iss!r}")


def check_iat(issued_at: datetime, now: datetime, skew: timedelta) -> None:
    if issued_at > now + skew:
        raise ConsentTokenNotYetValid("the token is issued in the future", iat=issued_at.isoformat())


def check_exp(expires_at: datetime, now: datetime, skew: timedelta, what: str) -> None:
    if now >= expires_at + skew:
        raise ConsentTokenExpired(f"the {what} has expired", exp=expires_at.isoformat())


def construct(make: Callable[[], _T]) -> _T:
    try:
        return make()
    except InvalidConsentData as exc:
        raise ConsentTokenInvalid(f"the token's content is not valid: {exc.reason}") from None


def require_text(value: object, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidConsentData(f"{name} must be a non-empty string")


def is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def whole_seconds(moment: object, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidConsentData(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def numeric_date(moment: datetime) -> int:
    return int(moment.timestamp())


def read_str(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise ConsentTokenInvalid(f"the claim {name!r} must be a non-empty string")
    return value


def read_int(obj: Mapping[str, Any], name: str) -> int:
    value = obj.get(name)
    if not is_count(value):
        raise ConsentTokenInvalid(f"the claim {name!r} must be a non-negative integer")
    assert isinstance(value, int)
    return value


def read_time(obj: Mapping[str, Any], name: str) -> datetime:
    value = read_int(obj, name)
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ConsentTokenInvalid(f"the claim {name!r} is not a usable time") from None


def read_obj(obj: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = obj.get(name)
    if not isinstance(value, Mapping):
        raise ConsentTokenInvalid(f"the claim {name!r} must be a JSON object")
    return value


def read_list(obj: Mapping[str, Any], name: str) -> list[Any]:
    value = obj.get(name)
    if not isinstance(value, list) or not value:
        raise ConsentTokenInvalid(f"the claim {name!r} must be a non-empty array")
    return value


def read_text(obj: Mapping[str, Any], name: str) -> LocalizedText:
    text = read_obj(obj, name)
    return LocalizedText(en=read_str(text, "en"), ja=read_str(text, "ja"))
