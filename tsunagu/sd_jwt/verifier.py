"""The SD-JWT verifier role (RFC 9901 §7.1 and §7.3).

``verify_sd_jwt`` checks the issuer signature with a key the *caller* resolves (never one named
by the token itself), recomputes every digest, rebuilds the disclosed claims and, when the
verifier asks for it, checks the Key Binding JWT. It reads the compact serialization and the JWS
JSON Serialization (§8), which it turns into the compact form before processing.
``reconstruct_claims`` is the digest processing alone; the holder uses it too, to see what it holds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Final, Protocol

from .. import jose
from ..errors import (
    ClaimNameCollision,
    CredentialExpired,
    CredentialNotYetValid,
    DisclosureNotReferenced,
    DisclosureTypeMismatch,
    DuplicateDigest,
    InvalidJwk,
    InvalidSignature,
    IssuerKeyNotFound,
    IssuerSignatureInvalid,
    JwkError,
    KbHolderKeyMissing,
    KbJwtMissing,
    MalformedSdJwt,
    SdJwtTooLarge,
)
from ..jwk import PublicJwk, parse_public_jwk
from ..kb_jwt import KbExpectation, KeyBinding, compute_sd_hash, verify_kb_jwt
from .compact import DEFAULT_MAX_DISCLOSURES, DEFAULT_MAX_SD_JWT_BYTES, SdJwt, parse_sd_jwt
from .disclosure import DEFAULT_HASH_ALG, Disclosure, hash_function, parse_disclosures
from .json_serialization import SdJwtJson, parse_sd_jwt_json

__all__ = [
    "IssuerKeyResolver",
    "VerifyPolicy",
    "VerifiedSdJwt",
    "verify_sd_jwt",
    "reconstruct_claims",
    "hash_alg_of",
    "holder_key_of",
]

#: Nesting deeper than this (objects, arrays and disclosures inside disclosures) is refused.
DEFAULT_MAX_DEPTH: Final = 32


class IssuerKeyResolver(Protocol):
    """Finds the issuer's public key for a token: from configuration, a JWKS or issuer metadata.

    It receives the unverified header and payload (for ``kid`` and ``iss``) and must raise a
    ``TsunaguError`` when it knows no suitable key. It must never return a key taken from the
    token itself.
    """

    def __call__(self, header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicJwk: ...


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """The verifier's tolerances. The defaults suit presentations made moments ago."""

    algorithms: Collection[str] = jose.ALLOWED_ALGORITHMS
    clock_skew: timedelta = timedelta(seconds=60)
    kb_max_age: timedelta = timedelta(minutes=5)
    max_bytes: int = DEFAULT_MAX_SD_JWT_BYTES
    max_disclosures: int = DEFAULT_MAX_DISCLOSURES
    max_depth: int = DEFAULT_MAX_DEPTH
    #: ``typ`` values accepted for the issuer-signed JWT; ``None`` accepts any (plain SD-JWT).
    typ: Collection[str] | None = None


@dataclass(frozen=True, slots=True)
class VerifiedSdJwt:
    """The outcome of a successful verification."""

    header: Mapping[str, Any]
    #: The issuer-signed payload as signed, digests and all.
    payload: Mapping[str, Any]
    #: The processed payload: disclosed claims in place, ``_sd``, ``_sd_alg`` and decoys removed.
    claims: dict[str, Any]
    disclosures: tuple[Disclosure, ...]
    holder_key: PublicJwk | None
    key_binding: KeyBinding | None
    sd_jwt: SdJwt = field(repr=False)


def verify_sd_jwt(
    presentation: str | SdJwt | Mapping[str, Any],
    *,
    issuer_key: IssuerKeyResolver | PublicJwk,
    kb: KbExpectation | None,
    now: datetime,
    policy: VerifyPolicy = VerifyPolicy(),
) -> VerifiedSdJwt:
    """Verify an SD-JWT or SD-JWT+KB.

    ``kb`` given: key binding is required and must match that nonce and audience. ``kb=None``:
    key binding is not required; a KB-JWT that is present is still checked for signature and
    ``sd_hash`` so that a broken one is never silently accepted.

    ``presentation`` is the compact form, or the JWS JSON Serialization (RFC 9901 §8) as a mapping
    or as text starting with ``{``. For the JSON form, each signature is checked with the key
    ``issuer_key`` resolves from its header (protected and unprotected together, RFC 7515
    §7.2.1: the §8.3 example puts ``kid`` in the unprotected header); a signature whose key the
    resolver does not know (it raises ``IssuerKeyNotFound``) is skipped; with several
    signatures, a fixed key is skipped for a signature whose ``kid`` or ``alg`` names another
    key. The credential is valid when at least one signature verifies and none checked fails
    (RFC 7515 §7.2 leaves this policy to the application). Every signature's protected header must pass the ``alg``,
    ``typ`` and ``crit`` checks, resolved or not. ``sd_hash`` covers the compact form of the
    first signature (§8.1); ``header`` is the protected header of the first verified signature.

    Raises:
        MalformedSdJwt, SdJwtTooLarge: the serialization or payload is malformed.
        IssuerKeyNotFound: no signature of a JSON-serialized SD-JWT is by a key the resolver knows.
        UnsupportedAlgorithm, UnexpectedTyp, UnsupportedCriticalHeader, MalformedJws: header checks.
        IssuerSignatureInvalid: the issuer's signature does not verify with the resolved key.
        CredentialExpired, CredentialNotYetValid: ``exp`` / ``nbf`` (RFC 7519) outside the window.
        MalformedDisclosure, ReservedClaimName, DisclosureNotReferenced, DuplicateDigest,
        DuplicateDisclosure, ClaimNameCollision, DisclosureTypeMismatch, UnsupportedHashAlgorithm.
        KbJwtMissing, KbHolderKeyMissing and the other KbJwtError subclasses.
    """
    sd_json: SdJwtJson | None = None
    if isinstance(presentation, str) and presentation.lstrip()[:1] != "{":  # the compact form, the usual case
        sd_jwt = parse_sd_jwt(presentation, max_bytes=policy.max_bytes, max_disclosures=policy.max_disclosures)
    elif isinstance(presentation, SdJwt):
        sd_jwt = presentation
    elif isinstance(presentation, Mapping) or isinstance(presentation, str):
        sd_json = parse_sd_jwt_json(presentation, max_bytes=policy.max_bytes, max_disclosures=policy.max_disclosures)
        # RFC 9901 §8.1: disclosures, KB-JWT and sd_hash are those of the first signature's compact form.
        sd_jwt = sd_json.to_compact(0)
    else:
        sd_jwt = parse_sd_jwt(presentation, max_bytes=policy.max_bytes, max_disclosures=policy.max_disclosures)
    jws = (
        _verify_issuer_signature(sd_jwt.issuer_jwt, issuer_key, policy)
        if sd_json is None
        else _verify_json_signatures(sd_json, issuer_key, policy)
    )
    payload = jws.payload
    _check_validity_period(payload, now, policy.clock_skew)

    hash_alg = hash_alg_of(payload)
    disclosures = parse_disclosures(sd_jwt.disclosures, hash_alg=hash_alg)
    claims = reconstruct_claims(payload, disclosures, max_depth=policy.max_depth)

    holder_key = holder_key_of(payload)
    key_binding: KeyBinding | None = None
    if sd_jwt.kb_jwt is None:
        if kb is not None:
            raise KbJwtMissing("the verifier requires key binding, but the presentation has no key binding JWT")
    else:
        if holder_key is None:
            raise KbHolderKeyMissing("the presentation has a key binding JWT but the credential names no holder key (cnf)")
        key_binding = verify_kb_jwt(
            sd_jwt.kb_jwt,
            holder_key=holder_key,
            expect=kb,
            sd_hash=compute_sd_hash(sd_jwt.without_kb, hash_alg),
            now=now,
            max_age=policy.kb_max_age,
            clock_skew=policy.clock_skew,
            algorithms=policy.algorithms,
        )
    if kb is not None and holder_key is None:
        raise KbHolderKeyMissing("key binding is required but the credential names no holder key (cnf)")
    return VerifiedSdJwt(jws.header, payload, claims, tuple(disclosures.values()), holder_key, key_binding, sd_jwt)


def _verify_issuer_signature(
    issuer_jwt: str,
    issuer_key: IssuerKeyResolver | PublicJwk,
    policy: VerifyPolicy,
    unprotected: Mapping[str, Any] | None = None,
) -> jose.CompactJws:
    jws = jose.parse_compact(issuer_jwt, typ=policy.typ, max_bytes=policy.max_bytes)
    if isinstance(issuer_key, PublicJwk):
        key = issuer_key
    else:
        # RFC 7515 §7.2.1: the JOSE header of a JSON-serialized signature is the union of both.
        key = issuer_key({**(unprotected or {}), **jws.header}, jws.payload)
    try:
        jose.verify_signature(jws, key, algorithms=policy.algorithms)
    except InvalidSignature:
        raise IssuerSignatureInvalid(
            "the issuer's signature does not verify: the credential was altered or forged"
        ) from None
    return jws


def _verify_json_signatures(
    sd_json: SdJwtJson, issuer_key: IssuerKeyResolver | PublicJwk, policy: VerifyPolicy
) -> jose.CompactJws:
    """The first verified signature; the policy is in ``verify_sd_jwt``'s docstring."""
    several = len(sd_json.signatures) > 1
    resolver = _fixed_key_resolver(issuer_key) if several and isinstance(issuer_key, PublicJwk) else issuer_key
    verified: jose.CompactJws | None = None
    for index, signature in enumerate(sd_json.signatures):
        try:
            jws = _verify_issuer_signature(sd_json.to_compact(index).issuer_jwt, resolver, policy, signature.header)
        except IssuerKeyNotFound:
            if not several:
                raise
            continue
        verified = verified or jws
    if verified is None:
        raise IssuerKeyNotFound(
            f"none of the {len(sd_json.signatures)} signatures is by a key the verifier knows",
            kids=[s.header.get("kid") for s in sd_json.signatures],
        )
    return verified


def _fixed_key_resolver(key: PublicJwk) -> IssuerKeyResolver:
    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicJwk:
        kid = header.get("kid")
        if header.get("alg") != key.alg or (key.kid is not None and kid is not None and kid != key.kid):
            raise IssuerKeyNotFound(f"the signature with kid {kid!r} is not by the given key", kid=kid)
        return key

    return resolve


def hash_alg_of(payload: Mapping[str, Any]) -> str:
    """The payload's ``_sd_alg`` (RFC 9901 §4.1.1), SHA-256 when absent."""
    hash_alg = payload.get("_sd_alg", DEFAULT_HASH_ALG)
    hash_function(hash_alg)
    return str(hash_alg)


def holder_key_of(payload: Mapping[str, Any]) -> PublicJwk | None:
    """The holder's key from ``cnf.jwk`` (RFC 7800), the only place a token may name a key."""
    cnf = payload.get("cnf")
    if cnf is None:
        return None
    if (type(cnf) is not dict and not isinstance(cnf, Mapping)) or "jwk" not in cnf:
        raise MalformedSdJwt("'cnf' must be an object with a 'jwk' member")
    try:
        return parse_public_jwk(cnf["jwk"])
    except JwkError as exc:
        raise InvalidJwk(f"the holder key in 'cnf' is unusable: {exc.reason}") from None


def reconstruct_claims(
    payload: Mapping[str, Any], disclosures: Mapping[str, Disclosure], *, max_depth: int = DEFAULT_MAX_DEPTH
) -> dict[str, Any]:
    """Replace digests by the disclosed claims (RFC 9901 §7.1 step 3).

    ``disclosures`` maps digest to disclosure. Undisclosed digests and decoys vanish, ``_sd`` and
    the top-level ``_sd_alg`` are removed.

    Raises:
        DuplicateDigest: a digest appears twice in the payload and the disclosures together.
        ClaimNameCollision: a disclosed name already exists at its level.
        DisclosureTypeMismatch: an array-element disclosure behind ``_sd`` or the reverse.
        DisclosureNotReferenced: a disclosure no digest refers to.
        MalformedSdJwt: ``_sd`` not an array of strings; ``...`` outside an array element; too deep.
    """
    walker = _Walker(disclosures, max_depth)
    claims = walker.object(payload, depth=0, top=True)
    if len(walker.used) != len(disclosures):
        unused = [d for digest, d in disclosures.items() if digest not in walker.used]
        raise DisclosureNotReferenced(
            f"{len(unused)} disclosure(s) are not referenced by the credential: they were not issued with it",
            claims=[d.name for d in unused],
        )
    return claims


class _Walker:
    __slots__ = ("disclosures", "max_depth", "seen", "used")

    def __init__(self, disclosures: Mapping[str, Disclosure], max_depth: int) -> None:
        self.disclosures = disclosures
        self.max_depth = max_depth
        self.seen: set[str] = set()
        self.used: set[str] = set()

    def value(self, node: Any, depth: int) -> Any:
        if isinstance(node, dict):
            return self.object(node, depth + 1, top=False)
        if isinstance(node, list):
            return self.array(node, depth + 1)
        return node

    def _claim(self, digest: object) -> Disclosure | None:
        if not isinstance(digest, str):
            raise MalformedSdJwt("a digest must be a string")
        if digest in self.seen:
            raise DuplicateDigest("a digest appears more than once in the credential", digest=digest)
        self.seen.add(digest)
        disclosure = self.disclosures.get(digest)
        if disclosure is not None:
            self.used.add(digest)
        return disclosure

    def object(self, node: Mapping[str, Any], depth: int, *, top: bool) -> dict[str, Any]:
        if depth > self.max_depth:
            raise SdJwtTooLarge(f"the credential nests more than {self.max_depth} levels deep")
        out: dict[str, Any] = {}
        for name, value in node.items():
            if name == "_sd" or (top and name == "_sd_alg"):
                continue
            if name == "...":
                raise MalformedSdJwt("the key '...' may only appear in an array element digest {\"...\": digest}")
            # self.value inlined for the common leaf: most claims are strings and numbers.
            out[name] = self.value(value, depth) if isinstance(value, (dict, list)) else value
        if "_sd" not in node:
            return out
        digests = node["_sd"]
        if not isinstance(digests, list):
            raise MalformedSdJwt("'_sd' must be an array of digests")
        # self._claim inlined: this loop runs once per digest in the credential.
        seen, used, disclosures = self.seen, self.used, self.disclosures
        for digest in digests:
            if not isinstance(digest, str):
                raise MalformedSdJwt("a digest must be a string")
            if digest in seen:
                raise DuplicateDigest("a digest appears more than once in the credential", digest=digest)
            seen.add(digest)
            disclosure = disclosures.get(digest)
            if disclosure is None:
                continue
            used.add(digest)
            claim = disclosure.name
            if claim is None:
                raise DisclosureTypeMismatch("an array-element disclosure is referenced from an object's '_sd'")
            if claim in out:
                raise ClaimNameCollision(f"the disclosed claim {claim!r} already exists at its level", name=claim)
            value = disclosure.value
            out[claim] = self.value(value, depth) if isinstance(value, (dict, list)) else value
        return out

    def array(self, node: list[Any], depth: int) -> list[Any]:
        if depth > self.max_depth:
            raise SdJwtTooLarge(f"the credential nests more than {self.max_depth} levels deep")
        out: list[Any] = []
        for element in node:
            if isinstance(element, dict) and "..." in element:
                if len(element) != 1:
                    raise MalformedSdJwt("an array element digest must be an object with the single key '...'")
                disclosure = self._claim(element["..."])
                if disclosure is None:
                    continue
                if disclosure.name is not None:
                    raise DisclosureTypeMismatch("an object-property disclosure is referenced from an array element")
                out.append(self.value(disclosure.value, depth))
            else:
                out.append(self.value(element, depth))
        return out


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND: Final = timedelta(microseconds=1)
#: 9999-12-31T23:59:59Z, the last whole second a datetime holds.
_LAST_SECOND: Final = 253402300799


def _check_validity_period(payload: Mapping[str, Any], now: datetime, skew: timedelta) -> None:
    """``exp``, ``nbf`` and ``iat`` against ``now`` (RFC 7519 §4.1.4, §4.1.5, §4.1.6), with ``skew``."""
    exp, nbf, iat = payload.get("exp"), payload.get("nbf"), payload.get("iat")
    if exp is None and nbf is None and iat is None:
        return
    if _whole_second(exp) and _whole_second(nbf) and _whole_second(iat):
        # The usual case, whole seconds: exact integer microseconds instead of three datetimes.
        # Anything else, or any check failing, takes the datetime path below, which raises.
        now_us, skew_us = (now - _EPOCH) // _MICROSECOND, skew // _MICROSECOND
        if (
            (exp is None or now_us - skew_us < exp * 1_000_000)
            and (nbf is None or now_us + skew_us >= nbf * 1_000_000)
            and (iat is None or now_us + skew_us >= iat * 1_000_000)
        ):
            return
    _check_validity_period_slowly(payload, now, skew)


def _whole_second(value: object) -> bool:
    return value is None or (type(value) is int and 0 <= value <= _LAST_SECOND)


def _check_validity_period_slowly(payload: Mapping[str, Any], now: datetime, skew: timedelta) -> None:
    exp = _numeric_date(payload, "exp")
    if exp is not None and now - skew >= exp:
        raise CredentialExpired(f"the credential expired on {exp.isoformat()}", exp=exp.isoformat())
    nbf = _numeric_date(payload, "nbf")
    if nbf is not None and now + skew < nbf:
        raise CredentialNotYetValid(f"the credential is not valid before {nbf.isoformat()}", nbf=nbf.isoformat())
    # RFC 7519 does not forbid a future iat, but a credential "issued" later than now is either
    # a clock fault at the issuer or back-dated trust; npm @sd-jwt refuses it too.
    iat = _numeric_date(payload, "iat")
    if iat is not None and now + skew < iat:
        raise CredentialNotYetValid(f"the credential claims to be issued in the future, at {iat.isoformat()}")


def _numeric_date(payload: Mapping[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise MalformedSdJwt(f"{name!r} must be a NumericDate (seconds since 1970)")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise MalformedSdJwt(f"{name!r} is not a usable time") from None
