"""The ``jwt`` key proof (OpenID4VCI 1.0 Appendix F.1, checks of F.4): the holder shows it holds the key.

The wallet signs, with the private key the credential is to be bound to, a JWT typed
``openid4vci-proof+jwt`` that names the Credential Issuer (``aud``), a time (``iat``) and the
issuer's ``c_nonce`` (``nonce``), and carries the public key in its ``jwk`` header. The issuer
checks it and binds the credential (``cnf.jwk``) to exactly that key.

This is one of the few places where a key is taken from a token's own header, because the
protocol says so; the key is then the subject of the proof, never a key anyone trusts. Whether
the ``c_nonce`` is one the issuer handed out and not yet used is the issuer's database's
business: :func:`verify_proof_jwt` returns it for the service to consume.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from .. import jose
from ..errors import InvalidSignature, JoseError, JwkError, UnexpectedTyp, UnsupportedAlgorithm
from ..jwk import PrivateJwk, PublicJwk, parse_public_jwk
from .errors import (
    InvalidProof,
    ProofAlgorithmNotAllowed,
    ProofAudienceMismatch,
    ProofIssuedAtOutOfWindow,
    ProofKeyInvalid,
    ProofNonceMissing,
    ProofSignatureInvalid,
    ProofTypMismatch,
    safe_description,
)

__all__ = [
    "TYP_OPENID4VCI_PROOF_JWT",
    "PRIVATE_JWK_MEMBERS",
    "ProofExpectation",
    "VerifiedProof",
    "build_proof_jwt",
    "verify_proof_jwt",
]

TYP_OPENID4VCI_PROOF_JWT: Final = "openid4vci-proof+jwt"
#: RFC 7518 §6.2.2, §6.3.2, §6.4: members that only a private (or symmetric) key has.
PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MAX_PROOF_BYTES: Final = 8 * 1024


@dataclass(frozen=True, slots=True)
class ProofExpectation:
    """What the issuer accepts: its identifier as ``aud``, its ``proof_signing_alg_values_supported``, a window."""

    audience: str
    algorithms: Collection[str] = ("ES256",)
    #: The issuer has a Nonce Endpoint, so every proof must carry a ``c_nonce`` (Appendix F.1).
    require_nonce: bool = True
    max_age: timedelta = timedelta(minutes=5)
    clock_skew: timedelta = timedelta(seconds=60)
    #: When the token was obtained with a ``client_id``, a proof's ``iss`` (if any) must equal it.
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A key proof whose signature, type, audience and time checked out."""

    holder_key: PublicJwk
    nonce: str | None
    iat: datetime
    header: Mapping[str, Any]
    payload: Mapping[str, Any]

    @property
    def thumbprint(self) -> str:
        """RFC 7638 thumbprint of the holder key: what the issuer records, never the key's owner."""
        return self.holder_key.thumbprint()


def build_proof_jwt(
    holder_key: PrivateJwk,
    *,
    audience: str,
    nonce: str | None,
    iat: datetime,
    client_id: str | None = None,
) -> str:
    """Sign a ``jwt`` key proof (Appendix F.1) with the key the credential is to be bound to.

    ``client_id`` becomes ``iss``; leave it ``None`` after anonymous Pre-Authorized Code access,
    where F.1 says ``iss`` "MUST be omitted". The ``kid`` is not sent: F.1 forbids ``kid`` next to ``jwk``.
    """
    jwk = holder_key.public.to_jwk()
    jwk.pop("kid", None)
    header = {"typ": TYP_OPENID4VCI_PROOF_JWT, "alg": holder_key.alg, "jwk": jwk}
    payload: dict[str, Any] = {"aud": audience, "iat": int(iat.timestamp())}
    if nonce is not None:
        payload["nonce"] = nonce
    if client_id is not None:
        payload["iss"] = client_id
    data = jose.signing_input(header, payload)
    return jose.assemble(data, jose.sign(data, holder_key))


def verify_proof_jwt(proof: str, expect: ProofExpectation, *, now: datetime) -> VerifiedProof:
    """Check a ``jwt`` key proof as Appendix F.4 lists (all but the nonce's freshness, which is the caller's).

    Raises:
        ProofTypMismatch: ``typ`` is not ``openid4vci-proof+jwt``.
        ProofAlgorithmNotAllowed: ``alg`` is ``none``, HMAC, or not in ``expect.algorithms``.
        ProofKeyInvalid: no ``jwk`` header, a ``kid``/``x5c`` instead, private key members, or an unusable key.
        ProofSignatureInvalid: the signature does not verify with the header's key.
        ProofAudienceMismatch: ``aud`` is not the Credential Issuer Identifier.
        ProofIssuedAtOutOfWindow: ``iat`` missing, in the future or too old.
        ProofNonceMissing: no ``nonce`` although the issuer has a Nonce Endpoint.
        InvalidProof: not a JWS at all, a ``crit`` header, or mistyped claims.
    """
    if not isinstance(proof, str) or len(proof) > _MAX_PROOF_BYTES:
        raise InvalidProof("the key proof is not a compact JWT of reasonable size")
    try:
        jws = jose.parse_compact(proof, typ=TYP_OPENID4VCI_PROOF_JWT, max_bytes=_MAX_PROOF_BYTES)
    except UnexpectedTyp:
        raise ProofTypMismatch(f"the key proof must have typ {TYP_OPENID4VCI_PROOF_JWT}") from None
    except UnsupportedAlgorithm:
        raise ProofAlgorithmNotAllowed("the key proof's alg is not an accepted asymmetric algorithm") from None
    except JoseError as exc:
        raise InvalidProof(f"the key proof is not a well-formed JWT: {safe_description(exc.reason)}") from None
    header = jws.header
    if header.get("alg") not in expect.algorithms:
        raise ProofAlgorithmNotAllowed(
            f"the key proof's alg is not among this issuer's {', '.join(sorted(expect.algorithms))}"
        )
    key = _holder_key(header)
    try:
        jose.verify_signature(jws, key, algorithms=expect.algorithms)
    except UnsupportedAlgorithm:
        raise ProofAlgorithmNotAllowed("the key proof's alg does not fit the key in its jwk header") from None
    except InvalidSignature:
        raise ProofSignatureInvalid("the key proof's signature does not verify with the key in its jwk header") from None

    payload = jws.payload
    aud = payload.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if expect.audience not in audiences:
        raise ProofAudienceMismatch("the key proof is addressed to another credential issuer (aud)")
    issued = _issued_at(payload.get("iat"))
    if issued > now + expect.clock_skew:
        raise ProofIssuedAtOutOfWindow("the key proof was made in the future (iat)")
    if issued < now - expect.max_age - expect.clock_skew:
        raise ProofIssuedAtOutOfWindow(
            f"the key proof is older than the {int(expect.max_age.total_seconds())} s this issuer accepts (iat)"
        )
    nonce = payload.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise InvalidProof("the key proof's nonce must be a string")
    if expect.require_nonce and not nonce:
        raise ProofNonceMissing("the key proof carries no c_nonce; get one from the nonce endpoint")
    iss = payload.get("iss")
    if iss is not None and (not isinstance(iss, str) or (expect.client_id is not None and iss != expect.client_id)):
        raise InvalidProof("the key proof's iss is not the client that obtained the access token")
    return VerifiedProof(holder_key=key, nonce=nonce or None, iat=issued, header=header, payload=payload)


def _holder_key(header: Mapping[str, Any]) -> PublicJwk:
    # F.1: kid, jwk and x5c are mutually exclusive; Tsunagu binds to bare keys (metadata: ["jwk"]).
    if "kid" in header or "x5c" in header or "trust_chain" in header:
        raise ProofKeyInvalid("the key proof must carry its key as a jwk header, without kid or x5c")
    jwk = header.get("jwk")
    if not isinstance(jwk, Mapping):
        raise ProofKeyInvalid("the key proof has no jwk header with the key to bind the credential to")
    if PRIVATE_JWK_MEMBERS.intersection(jwk):
        # F.4: "the header parameter does not contain a private key". The key is exposed now; say so.
        raise ProofKeyInvalid("the key proof's jwk header contains private key material; that key is compromised")
    try:
        return parse_public_jwk(jwk)
    except JwkError as exc:
        raise ProofKeyInvalid(f"the key proof's jwk is not a usable public key: {safe_description(exc.reason)}") from None


def _issued_at(iat: object) -> datetime:
    if not isinstance(iat, (int, float)) or isinstance(iat, bool):
        raise ProofIssuedAtOutOfWindow("the key proof has no numeric iat")
    try:
        return datetime.fromtimestamp(iat, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ProofIssuedAtOutOfWindow("the key proof's iat is not a usable time") from None
