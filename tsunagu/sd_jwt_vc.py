"""SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-19): verifiable credentials as SD-JWTs.

Adds to SD-JWT: ``typ`` ``dc+sd-jwt``; ``vct`` (the credential type); the registered claims
that must stay in the clear; the validity period; and finding the issuer's key through JWT VC
Issuer Metadata (``/.well-known/jwt-vc-issuer``). Fetching that document is the caller's job:
here it is parsed and turned into a key resolver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from .claims_path import ClaimsPath
from .errors import (
    ClaimMustNotBeDisclosable,
    ClaimNotDisclosable,
    InvalidIssuerMetadata,
    IssuerKeyNotFound,
    IssuerMismatch,
    JwkError,
    VctMissing,
)
from .jwk import PrivateJwk, PublicJwk, parse_jwks, select_key
from .kb_jwt import KbExpectation, KeyBinding
from .sd_jwt.compact import SdJwt
from .sd_jwt.disclosure import DEFAULT_HASH_ALG, SaltSource, default_salt
from .sd_jwt.issuer import IssuedSdJwt, issue_sd_jwt
from .sd_jwt.verifier import IssuerKeyResolver, VerifiedSdJwt, VerifyPolicy, verify_sd_jwt
from .urls import is_loopback_host

__all__ = [
    "TYP_DC_SD_JWT",
    "LEGACY_TYP_VC_SD_JWT",
    "NEVER_DISCLOSABLE",
    "JWT_VC_ISSUER_WELL_KNOWN",
    "VerifiedCredential",
    "IssuerMetadata",
    "issue_sd_jwt_vc",
    "verify_sd_jwt_vc",
    "all_claim_paths",
    "jwt_vc_issuer_metadata_url",
    "parse_issuer_metadata",
    "issuer_key_resolver",
]

TYP_DC_SD_JWT: Final = "dc+sd-jwt"
#: The ``typ`` of drafts before -06; -19 no longer asks verifiers to accept it, so it is accepted
#: only when a deployment opts in (``VerifyPolicy.typ``).
LEGACY_TYP_VC_SD_JWT: Final = "vc+sd-jwt"

#: §2.2.2.3: claims that must never be selectively disclosable, nor any of their sub-claims: a
#: verifier needs them to decide whether to trust the credential at all.
NEVER_DISCLOSABLE: Final = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status"})

JWT_VC_ISSUER_WELL_KNOWN: Final = "/.well-known/jwt-vc-issuer"

_VC_POLICY: Final = VerifyPolicy(typ=(TYP_DC_SD_JWT,))
_NEVER_DISCLOSABLE_AT_ISSUANCE: Final = NEVER_DISCLOSABLE | {"iat"}


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    """A verified SD-JWT VC, with the registered claims lifted out for the caller."""

    vct: str
    iss: str | None
    claims: dict[str, Any]
    holder_key: PublicJwk | None
    status: Mapping[str, Any] | None
    key_binding: KeyBinding | None
    sd_jwt: VerifiedSdJwt


def all_claim_paths(claims: Mapping[str, Any], prefix: ClaimsPath = ()) -> list[ClaimsPath]:
    """Every claim, at every depth, as a claims path: the finest selective disclosure."""
    paths: list[ClaimsPath] = []
    for name, value in claims.items():
        path = (*prefix, name)
        paths.append(path)
        paths.extend(_nested_paths(value, path))
    return paths


def _nested_paths(value: Any, path: ClaimsPath) -> list[ClaimsPath]:
    if isinstance(value, Mapping):
        return all_claim_paths(value, path)
    if isinstance(value, list) and value:
        element_path = (*path, None)
        nested = [element_path]
        for element in value:
            for sub in _nested_paths(element, element_path):
                if sub not in nested:
                    nested.append(sub)
        return nested
    return []


def issue_sd_jwt_vc(
    claims: Mapping[str, Any],
    *,
    vct: str,
    key: PrivateJwk,
    issuer: str | None,
    iat: datetime,
    exp: datetime | None = None,
    nbf: datetime | None = None,
    holder_key: PublicJwk | None = None,
    status: Mapping[str, Any] | None = None,
    selectively_disclosable: Iterable[ClaimsPath] | None = None,
    hash_alg: str = DEFAULT_HASH_ALG,
    decoys: int = 0,
    salt: SaltSource = default_salt,
) -> IssuedSdJwt:
    """Issue an SD-JWT VC. ``claims`` are the subject's claims; registered claims come as arguments.

    By default every subject claim, at every depth, is selectively disclosable.

    Raises:
        ClaimNotDisclosable: a registered claim was put in ``claims`` or named as disclosable.
        ClaimNotFound, ReservedClaimName: as ``issue_sd_jwt``.
    """
    clash = NEVER_DISCLOSABLE.intersection(claims)
    if clash:
        raise ClaimNotDisclosable(
            f"pass {', '.join(sorted(clash))} as arguments, not as subject claims", claims=sorted(clash)
        )
    paths = list(all_claim_paths(claims) if selectively_disclosable is None else selectively_disclosable)
    for path in paths:
        if len(path) == 1 and path[0] in _NEVER_DISCLOSABLE_AT_ISSUANCE:
            raise ClaimNotDisclosable(f"the claim {path[0]!r} must not be selectively disclosable")
    payload: dict[str, Any] = {"vct": vct}
    if issuer is not None:
        payload["iss"] = issuer
    payload["iat"] = int(iat.timestamp())
    if nbf is not None:
        payload["nbf"] = int(nbf.timestamp())
    if exp is not None:
        payload["exp"] = int(exp.timestamp())
    if holder_key is not None:
        payload["cnf"] = {"jwk": holder_key.to_jwk()}
    if status is not None:
        payload["status"] = dict(status)
    payload.update(claims)
    return issue_sd_jwt(
        payload,
        key=key,
        header={"typ": TYP_DC_SD_JWT},
        selectively_disclosable=paths,
        hash_alg=hash_alg,
        decoys=decoys,
        salt=salt,
    )


def verify_sd_jwt_vc(
    presentation: str | SdJwt,
    *,
    issuer_key: IssuerKeyResolver | PublicJwk,
    kb: KbExpectation | None,
    now: datetime,
    policy: VerifyPolicy = _VC_POLICY,
) -> VerifiedCredential:
    """Verify an SD-JWT VC presentation: everything ``verify_sd_jwt`` checks, plus the VC rules.

    The policy's ``typ`` defaults to ``dc+sd-jwt``; ``None`` there is replaced by that default,
    because an SD-JWT VC verifier must never accept an arbitrary ``typ``.

    Raises:
        VctMissing: no string ``vct``.
        ClaimMustNotBeDisclosable: ``iss``, ``vct``, ``cnf``, ``status``, ... came as a disclosure.
        and everything ``verify_sd_jwt`` raises.
    """
    if policy.typ is None:
        policy = replace(policy, typ=(TYP_DC_SD_JWT,))
    verified = verify_sd_jwt(presentation, issuer_key=issuer_key, kb=kb, now=now, policy=policy)
    _check_never_disclosable(verified)
    vct = verified.payload.get("vct")
    if not isinstance(vct, str) or not vct:
        raise VctMissing("the credential does not say what type it is (no 'vct')")
    iss = verified.payload.get("iss")
    if iss is not None and not isinstance(iss, str):
        raise IssuerMismatch("'iss' must be a string")
    status = verified.payload.get("status")
    return VerifiedCredential(
        vct,
        iss,
        verified.claims,
        verified.holder_key,
        status if status is not None and isinstance(status, Mapping) else None,
        verified.key_binding,
        verified,
    )


def _check_never_disclosable(verified: VerifiedSdJwt) -> None:
    top_level = verified.payload.get("_sd", ())
    for disclosure in verified.disclosures:
        if disclosure.name in NEVER_DISCLOSABLE and disclosure.digest in top_level:  # the set test first: O(1)
            raise ClaimMustNotBeDisclosable(
                f"the claim {disclosure.name!r} must be in the clear, not selectively disclosed",
                name=disclosure.name,
            )
    for name in NEVER_DISCLOSABLE.intersection(verified.payload):
        value = verified.payload[name]
        if type(value) in (dict, list) and _has_digests(value):  # strings and numbers hold no digests
            raise ClaimMustNotBeDisclosable(
                f"the claim {name!r} must be entirely in the clear, but part of it is selectively disclosable",
                name=name,
            )


def _has_digests(node: Any) -> bool:
    # Parsed JSON, so plain dict and list: exact type checks keep this cheap on every verification.
    if type(node) is dict:
        return "_sd" in node or any(_has_digests(v) for v in node.values() if type(v) in (dict, list))
    if type(node) is list:
        return any(type(v) is dict and ("..." in v or _has_digests(v)) or type(v) is list and _has_digests(v) for v in node)
    return False


# --- JWT VC Issuer Metadata ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuerMetadata:
    """A JWT VC Issuer Metadata document: the issuer and either its keys or where to get them."""

    issuer: str
    jwks: tuple[PublicJwk, ...] | None
    jwks_uri: str | None


def jwt_vc_issuer_metadata_url(iss: str, *, allow_http_loopback: bool = False) -> str:
    """Where an issuer's metadata lives: the well-known suffix goes between host and path.

    ``https://example.com/tenant/1`` → ``https://example.com/.well-known/jwt-vc-issuer/tenant/1``.
    ``allow_http_loopback`` admits ``http`` on 127.0.0.1, localhost and ::1, for a demo on one machine.

    Raises:
        InvalidIssuerMetadata: ``iss`` is not an https URL without query or fragment.
    """
    parts = urlsplit(iss)
    loopback_http = allow_http_loopback and parts.scheme == "http" and is_loopback_host(parts.hostname)
    if (parts.scheme != "https" and not loopback_http) or not parts.netloc or parts.query or parts.fragment:
        raise InvalidIssuerMetadata(f"the issuer {iss!r} is not an https URL without query or fragment")
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, JWT_VC_ISSUER_WELL_KNOWN + path, "", ""))


def parse_issuer_metadata(document: object, *, expected_issuer: str) -> IssuerMetadata:
    """Validate a fetched metadata document.

    Raises:
        InvalidIssuerMetadata: not an object, ``issuer`` differs from ``expected_issuer``, or not
            exactly one of ``jwks`` and ``jwks_uri``, or the JWKS is unusable.
    """
    if not isinstance(document, Mapping):
        raise InvalidIssuerMetadata("the issuer metadata is not a JSON object")
    if document.get("issuer") != expected_issuer:
        raise InvalidIssuerMetadata(
            f"the metadata is for {document.get('issuer')!r}, not for {expected_issuer!r}",
            issuer=document.get("issuer"),
        )
    has_jwks, has_uri = "jwks" in document, "jwks_uri" in document
    if has_jwks == has_uri:
        raise InvalidIssuerMetadata("the issuer metadata must have exactly one of 'jwks' and 'jwks_uri'")
    if has_uri:
        uri = document["jwks_uri"]
        if not isinstance(uri, str) or not uri.startswith("https://"):
            raise InvalidIssuerMetadata("'jwks_uri' must be an https URL")
        return IssuerMetadata(issuer=expected_issuer, jwks=None, jwks_uri=uri)
    try:
        keys = parse_jwks(document["jwks"])
    except JwkError as exc:
        raise InvalidIssuerMetadata(f"the issuer's JWKS is unusable: {exc.reason}") from None
    return IssuerMetadata(issuer=expected_issuer, jwks=keys, jwks_uri=None)


def issuer_key_resolver(issuer: str, keys: Iterable[PublicJwk]) -> IssuerKeyResolver:
    """A resolver that accepts only tokens whose ``iss`` is ``issuer`` and picks the key by ``kid``.

    With several keys and no ``kid``, no key is guessed.
    """
    candidates = tuple(keys)

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicJwk:
        if payload.get("iss") != issuer:
            raise IssuerMismatch(
                f"the credential names the issuer {payload.get('iss')!r}, not {issuer!r}", iss=payload.get("iss")
            )
        kid = header.get("kid")
        key = select_key(candidates, kid=kid if isinstance(kid, str) else None, alg=header.get("alg"))
        if key is None:
            raise IssuerKeyNotFound(
                f"{issuer} publishes no {header.get('alg')} key with kid {kid!r}", kid=kid, alg=header.get("alg")
            )
        return key

    return resolve
