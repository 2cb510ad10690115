"""DPoP (RFC 9449): access tokens bound to a key the client proves it holds, on every request.

A DPoP proof is a JWT typed ``dpop+jwt``, signed by the client's key and carrying that public
key in its ``jwk`` header; its claims bind it to one HTTP request (``htm``, ``htu``), a time
(``iat``), a unique id (``jti``) and, at a protected resource, the access token (``ath``). The
authorization server binds the token it issues to the key's RFC 7638 thumbprint (``jkt``,
§6.1); a resource server accepts the token only with a fresh proof by that key.

:func:`verify_dpop_proof` runs the checks of §4.3 that need no state; refusing a ``jti`` seen
before (§11.1) and comparing ``jkt`` with the token's binding are the service's, against its
database. Server-provided DPoP nonces (§8, §9) are not used by Tsunagu.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit, urlunsplit

from . import jose
from .encoding import b64url_encode
from .errors import InvalidSignature, JoseError, JwkError, ProtocolError, UnexpectedTyp, UnsupportedAlgorithm
from .jwk import PrivateJwk, PublicJwk, parse_public_jwk
from .oid4vci.errors import safe_description

__all__ = [
    "TYP_DPOP_JWT",
    "InvalidDpopProof",
    "DpopTypMismatch",
    "DpopAlgorithmNotAllowed",
    "DpopKeyInvalid",
    "DpopSignatureInvalid",
    "DpopClaimsInvalid",
    "DpopMethodMismatch",
    "DpopUriMismatch",
    "DpopIssuedAtOutOfWindow",
    "DpopAccessTokenMismatch",
    "DpopProofRejectedAtResource",
    "VerifiedDpopProof",
    "access_token_hash",
    "normalize_htu",
    "build_dpop_proof",
    "verify_dpop_proof",
]

TYP_DPOP_JWT: Final = "dpop+jwt"
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MAX_PROOF_BYTES: Final = 8 * 1024
_MAX_JTI_LENGTH: Final = 256
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class InvalidDpopProof(ProtocolError):
    """RFC 9449 §5, §7.1: ``invalid_dpop_proof``. At the token endpoint, a 400 error response."""

    code = "dpop.invalid_proof"
    error = "invalid_dpop_proof"
    status_code: ClassVar[int] = 400


class DpopTypMismatch(InvalidDpopProof):
    code = "dpop.typ_mismatch"


class DpopAlgorithmNotAllowed(InvalidDpopProof):
    code = "dpop.alg_not_allowed"


class DpopKeyInvalid(InvalidDpopProof):
    """§4.3 step 7: no public ``jwk`` header, or one with private key material."""

    code = "dpop.key_invalid"


class DpopSignatureInvalid(InvalidDpopProof):
    code = "dpop.signature_invalid"


class DpopClaimsInvalid(InvalidDpopProof):
    """§4.3 step 3: a required claim (``jti``, ``htm``, ``htu``, ``iat``) missing or mistyped."""

    code = "dpop.claims_invalid"


class DpopMethodMismatch(InvalidDpopProof):
    code = "dpop.htm_mismatch"


class DpopUriMismatch(InvalidDpopProof):
    code = "dpop.htu_mismatch"


class DpopIssuedAtOutOfWindow(InvalidDpopProof):
    code = "dpop.iat_out_of_window"


class DpopAccessTokenMismatch(InvalidDpopProof):
    """§4.3 step 12: ``ath`` missing or not the hash of the access token presented with the proof."""

    code = "dpop.ath_mismatch"


class DpopProofRejectedAtResource(ProtocolError):
    """§7.1: at a protected resource the same failure is a 401 with a ``DPoP`` challenge."""

    code = "dpop.rejected_at_resource"
    error = "invalid_dpop_proof"
    status_code: ClassVar[int] = 401

    def __init__(self, reason: str, *, algs: Collection[str] = ("ES256",), **details: object) -> None:
        super().__init__(reason, **details)
        self.algs = tuple(algs)

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'DPoP error="invalid_dpop_proof", algs="{" ".join(self.algs)}"'}


@dataclass(frozen=True, slots=True)
class VerifiedDpopProof:
    """A proof that passed the stateless checks; ``jkt`` binds tokens, ``jti`` goes to the replay table."""

    jkt: str
    jti: str
    iat: datetime
    public_key: PublicJwk
    payload: Mapping[str, Any]


def access_token_hash(access_token: str) -> str:
    """§4.2 ``ath``: base64url of the SHA-256 of the ASCII access token."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


def normalize_htu(uri: str) -> str:
    """The request URI as ``htu`` compares it (§4.2, §4.3 step 9): no query or fragment, and the
    syntax- and scheme-based normalisation of RFC 3986 §6.2.2-6.2.3 (lower-case scheme and host,
    default port dropped, empty path as ``/``).
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def build_dpop_proof(
    key: PrivateJwk,
    *,
    htm: str,
    htu: str,
    iat: datetime,
    jti: str,
    access_token: str | None = None,
    nonce: str | None = None,
) -> str:
    """Sign a DPoP proof (§4.2) for one request; pass ``access_token`` at a protected resource (``ath``)."""
    jwk = key.public.to_jwk()
    jwk.pop("kid", None)
    header = {"typ": TYP_DPOP_JWT, "alg": key.alg, "jwk": jwk}
    payload: dict[str, Any] = {"jti": jti, "htm": htm, "htu": normalize_htu(htu), "iat": int(iat.timestamp())}
    if access_token is not None:
        payload["ath"] = access_token_hash(access_token)
    if nonce is not None:
        payload["nonce"] = nonce
    data = jose.signing_input(header, payload)
    return jose.assemble(data, jose.sign(data, key))


def verify_dpop_proof(
    proof: str,
    *,
    htm: str,
    htu: str,
    now: datetime,
    access_token: str | None = None,
    algorithms: Collection[str] = ("ES256",),
    max_age: timedelta = timedelta(minutes=5),
    clock_skew: timedelta = timedelta(seconds=60),
) -> VerifiedDpopProof:
    """Check a DPoP proof against the request it came with (RFC 9449 §4.3, steps 2-9, 11, 12).

    With ``access_token`` (a protected resource), ``ath`` must be its hash; without it (the token
    endpoint), an ``ath`` is ignored.

    Raises:
        DpopTypMismatch, DpopAlgorithmNotAllowed, DpopKeyInvalid, DpopSignatureInvalid,
        DpopClaimsInvalid, DpopMethodMismatch, DpopUriMismatch, DpopIssuedAtOutOfWindow,
        DpopAccessTokenMismatch; InvalidDpopProof when the proof is not a JWS at all.
    """
    if not isinstance(proof, str) or not proof or len(proof) > _MAX_PROOF_BYTES:
        raise InvalidDpopProof("the DPoP header is not a single JWT of reasonable size")
    try:
        jws = jose.parse_compact(proof, typ=TYP_DPOP_JWT, max_bytes=_MAX_PROOF_BYTES)
    except UnexpectedTyp:
        raise DpopTypMismatch(f"a DPoP proof must have typ {TYP_DPOP_JWT}") from None
    except UnsupportedAlgorithm:
        raise DpopAlgorithmNotAllowed("the DPoP proof's alg is not an accepted asymmetric algorithm") from None
    except JoseError as exc:
        raise InvalidDpopProof(f"the DPoP proof is not a well-formed JWT: {safe_description(exc.reason)}") from None
    if jws.header.get("alg") not in algorithms:
        raise DpopAlgorithmNotAllowed(f"the DPoP proof's alg is not among {', '.join(sorted(algorithms))}")
    key = _proof_key(jws.header)
    try:
        jose.verify_signature(jws, key, algorithms=algorithms)
    except UnsupportedAlgorithm:
        raise DpopAlgorithmNotAllowed("the DPoP proof's alg does not fit the key in its jwk header") from None
    except InvalidSignature:
        raise DpopSignatureInvalid("the DPoP proof's signature does not verify with its jwk") from None

    payload = jws.payload
    jti, claimed_htm, claimed_htu, iat = (payload.get(n) for n in ("jti", "htm", "htu", "iat"))
    if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI_LENGTH:
        raise DpopClaimsInvalid("the DPoP proof has no usable jti")
    if not isinstance(claimed_htm, str) or not isinstance(claimed_htu, str):
        raise DpopClaimsInvalid("the DPoP proof lacks htm or htu")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool):
        raise DpopClaimsInvalid("the DPoP proof has no numeric iat")
    if claimed_htm != htm:
        raise DpopMethodMismatch("the DPoP proof was made for another HTTP method (htm)")
    try:
        matches = normalize_htu(claimed_htu) == normalize_htu(htu)
    except ValueError:
        matches = False
    if not matches:
        raise DpopUriMismatch("the DPoP proof was made for another URL (htu)")
    try:
        issued = datetime.fromtimestamp(iat, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise DpopIssuedAtOutOfWindow("the DPoP proof's iat is not a usable time") from None
    if issued > now + clock_skew or issued < now - max_age - clock_skew:
        raise DpopIssuedAtOutOfWindow("the DPoP proof is not fresh (iat outside the accepted window)")
    if access_token is not None and payload.get("ath") != access_token_hash(access_token):
        raise DpopAccessTokenMismatch("the DPoP proof was not made for this access token (ath)")
    return VerifiedDpopProof(jkt=key.thumbprint(), jti=jti, iat=issued, public_key=key, payload=payload)


def _proof_key(header: Mapping[str, Any]) -> PublicJwk:
    jwk = header.get("jwk")
    if not isinstance(jwk, Mapping):
        raise DpopKeyInvalid("the DPoP proof has no jwk header")
    if _PRIVATE_MEMBERS.intersection(jwk):
        raise DpopKeyInvalid("the DPoP proof's jwk contains private key material")
    try:
        return parse_public_jwk(jwk)
    except JwkError as exc:
        raise DpopKeyInvalid(f"the DPoP proof's jwk is not a usable public key: {safe_description(exc.reason)}") from None
