"""Key Binding JWT (RFC 9901 §4.3, §7.3): the holder's proof that it holds the ``cnf`` key.

The KB-JWT signs the verifier's ``nonce`` and ``aud`` and, through ``sd_hash``, the exact
SD-JWT (issuer JWT and chosen disclosures) it travels with, so a presentation can neither be
replayed to another verifier nor have disclosures added or removed in transit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from . import jose
from .encoding import b64url_encode, json_dumps
from .errors import (
    InvalidSignature,
    JoseError,
    KbAudienceMismatch,
    KbIssuedAtOutOfWindow,
    KbJwtMalformed,
    KbNonceMismatch,
    KbSdHashMismatch,
    KbSignatureInvalid,
    UnsupportedAlgorithm,
)
from .jwk import PrivateJwk, PublicJwk
from .sd_jwt.disclosure import DEFAULT_HASH_ALG, digest_of

__all__ = [
    "TYP_KB_JWT",
    "KbExpectation",
    "KeyBindingRequest",
    "KeyBinding",
    "compute_sd_hash",
    "kb_jwt_claims",
    "create_kb_jwt",
    "verify_kb_jwt",
]

TYP_KB_JWT: Final = "kb+jwt"

#: ``base64url(header) + "."`` of the KB-JWT for each algorithm, as jose.signing_input encodes it.
_KB_HEADERS: Final[dict[str, str]] = {
    alg: b64url_encode(json_dumps({"typ": TYP_KB_JWT, "alg": alg}).encode("utf-8")) + "."
    for alg in jose.ALLOWED_ALGORITHMS
}


@dataclass(frozen=True, slots=True)
class KbExpectation:
    """What the verifier expects the holder to have signed: its own ``nonce`` and audience."""

    nonce: str
    aud: str


@dataclass(frozen=True, slots=True)
class KeyBindingRequest:
    """What the holder signs: for whom (``aud``), the verifier's ``nonce``, and when."""

    holder_key: PrivateJwk
    aud: str
    nonce: str
    iat: datetime


@dataclass(frozen=True, slots=True)
class KeyBinding:
    """A verified Key Binding JWT."""

    iat: datetime
    aud: str
    nonce: str
    sd_hash: str
    header: Mapping[str, Any]
    payload: Mapping[str, Any]


def compute_sd_hash(sd_jwt_without_kb: str, hash_alg: str = DEFAULT_HASH_ALG) -> str:
    """``sd_hash``: the digest, with the SD-JWT's ``_sd_alg``, of ``<JWT>~<D1>~...~<Dn>~``."""
    return digest_of(sd_jwt_without_kb, hash_alg)


def kb_jwt_claims(sd_jwt_without_kb: str, *, aud: str, nonce: str, iat: datetime, hash_alg: str) -> dict[str, Any]:
    return {
        "iat": int(iat.timestamp()),
        "aud": aud,
        "nonce": nonce,
        "sd_hash": compute_sd_hash(sd_jwt_without_kb, hash_alg),
    }


def create_kb_jwt(sd_jwt_without_kb: str, request: KeyBindingRequest, *, hash_alg: str = DEFAULT_HASH_ALG) -> str:
    """Sign a KB-JWT over ``sd_jwt_without_kb`` (which must end with ``~``)."""
    claims = kb_jwt_claims(
        sd_jwt_without_kb, aud=request.aud, nonce=request.nonce, iat=request.iat, hash_alg=hash_alg
    )
    # RFC 9901 §4.3: the header carries typ and alg only; the key is known from cnf, never sent here.
    # It is the same for every KB-JWT of an algorithm, so its encoding is computed once.
    encoded_header = _KB_HEADERS.get(request.holder_key.alg)
    if encoded_header is None:
        data = jose.signing_input({"typ": TYP_KB_JWT, "alg": request.holder_key.alg}, claims)
    else:
        data = (encoded_header + b64url_encode(json_dumps(claims).encode("utf-8"))).encode("ascii")
    return jose.assemble(data, jose.sign(data, request.holder_key))


def verify_kb_jwt(
    kb_jwt: str,
    *,
    holder_key: PublicJwk,
    expect: KbExpectation | None,
    sd_hash: str,
    now: datetime,
    max_age: timedelta,
    clock_skew: timedelta,
    algorithms: Collection[str] = jose.ALLOWED_ALGORITHMS,
) -> KeyBinding:
    """Verify a KB-JWT (RFC 9901 §7.3 step 5).

    ``expect=None`` checks signature, ``sd_hash`` and ``iat`` but neither nonce nor audience:
    only for looking at a presentation, never for accepting one.

    Raises:
        KbJwtMalformed: not a JWS with ``typ`` ``kb+jwt``, or required claims missing or mistyped.
        KbSignatureInvalid: not signed by the ``cnf`` key, or with an algorithm that is not accepted.
        KbIssuedAtOutOfWindow: ``iat`` in the future or older than ``max_age``.
        KbNonceMismatch, KbAudienceMismatch, KbSdHashMismatch.
    """
    try:
        jws = jose.parse_compact(kb_jwt, typ=TYP_KB_JWT)
    except UnsupportedAlgorithm as exc:
        raise KbSignatureInvalid(f"the key binding JWT: {exc.reason}") from None
    except JoseError as exc:
        raise KbJwtMalformed(f"the key binding JWT is not well-formed: {exc.reason}") from None
    try:
        jose.verify_signature(jws, holder_key, algorithms=algorithms)
    except (InvalidSignature, UnsupportedAlgorithm) as exc:
        raise KbSignatureInvalid(
            "the key binding JWT was not signed by the key the credential is bound to: " + exc.reason
        ) from None

    payload = jws.payload
    iat = payload.get("iat")
    if type(iat) is not int and (not isinstance(iat, (int, float)) or isinstance(iat, bool)):
        raise KbJwtMalformed("the key binding JWT has no numeric 'iat'")
    aud, nonce, signed_sd_hash = payload.get("aud"), payload.get("nonce"), payload.get("sd_hash")
    if not isinstance(aud, str):
        raise KbJwtMalformed("the key binding JWT has no string 'aud'")
    if not isinstance(nonce, str):
        raise KbJwtMalformed("the key binding JWT has no string 'nonce'")
    if not isinstance(signed_sd_hash, str):
        raise KbJwtMalformed("the key binding JWT has no string 'sd_hash'")
    try:
        issued = datetime.fromtimestamp(iat, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise KbIssuedAtOutOfWindow("the key binding JWT's 'iat' is not a usable time") from None
    if issued > now + clock_skew:
        raise KbIssuedAtOutOfWindow(
            f"the key binding JWT was issued in the future ({issued.isoformat()})", iat=issued.isoformat()
        )
    if issued < now - max_age - clock_skew:
        raise KbIssuedAtOutOfWindow(
            f"the key binding JWT was issued at {issued.isoformat()}, longer ago than the "
            f"{int(max_age.total_seconds())} s a presentation stays fresh",
            iat=issued.isoformat(),
        )
    if expect is not None:
        if nonce != expect.nonce:
            raise KbNonceMismatch("the presentation was made for a different request (nonce mismatch)")
        if aud != expect.aud:
            raise KbAudienceMismatch(f"the presentation was made for {aud!r}, not for {expect.aud!r}", aud=aud)
    if signed_sd_hash != sd_hash:
        raise KbSdHashMismatch(
            "the key binding JWT does not cover these disclosures: they were changed after the holder signed"
        )
    return KeyBinding(issued, aud, nonce, signed_sd_hash, jws.header, payload)
