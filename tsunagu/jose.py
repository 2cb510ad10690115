"""Compact JWS (RFC 7515) with the rules of RFC 8725: the only module that calls PyJWT.

We use PyJWT's algorithm objects for the signature arithmetic and do the framing ourselves,
so that the hot path parses each token once, never looks up a key from the token's own header,
and pins ``typ`` and ``crit`` the way each token type requires.

The algorithm allow-list is explicit and has no ``none`` and no HMAC: a public key can never be
misused as an HMAC secret (the classic algorithm-confusion attack).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from jwt.algorithms import ECAlgorithm, OKPAlgorithm
from jwt.exceptions import InvalidKeyError

from .encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from .errors import (
    EncodingError,
    InvalidSignature,
    MalformedJws,
    UnexpectedTyp,
    UnsupportedAlgorithm,
    UnsupportedCriticalHeader,
)
from .jwk import PrivateJwk, PublicJwk

__all__ = [
    "ALLOWED_ALGORITHMS",
    "DEFAULT_MAX_JWS_BYTES",
    "CompactJws",
    "parse_compact",
    "verify_signature",
    "signing_input",
    "sign",
    "assemble",
    "sign_compact",
]

#: Every JWS algorithm Tsunagu will ever accept. Callers narrow it further, never widen it.
ALLOWED_ALGORITHMS: Final[frozenset[str]] = frozenset({"ES256", "ES384", "ES512", "EdDSA"})

#: A JWS larger than this is refused before any parsing (1 MiB; a credential is a few KiB).
DEFAULT_MAX_JWS_BYTES: Final[int] = 1 << 20

_ALGORITHMS: Final[Mapping[str, ECAlgorithm | OKPAlgorithm]] = {
    "ES256": ECAlgorithm(ECAlgorithm.SHA256),
    "ES384": ECAlgorithm(ECAlgorithm.SHA384),
    "ES512": ECAlgorithm(ECAlgorithm.SHA512),
    "EdDSA": OKPAlgorithm(),
}

# ECDSA is every credential's hot path (two verifications per presentation), so ES* signs and
# verifies with ``cryptography`` directly, with the exact arithmetic of PyJWT's ECAlgorithm
# (raw R || S <-> DER, the length check) minus its per-call allocations; EdDSA goes through PyJWT.
# The message is hashed with hashlib and handed over as Prehashed: the same ECDSA over the same
# digest, but hashlib's one call is cheaper than cryptography's hash object (about 1 µs a time).
_ECDSA: Final[Mapping[str, tuple[Callable[[bytes], Any], ec.ECDSA]]] = {
    "ES256": (hashlib.sha256, ec.ECDSA(Prehashed(hashes.SHA256()))),
    "ES384": (hashlib.sha384, ec.ECDSA(Prehashed(hashes.SHA384()))),
    "ES512": (hashlib.sha512, ec.ECDSA(Prehashed(hashes.SHA512()))),
}


@dataclass(frozen=True, slots=True)
class CompactJws:
    """A parsed but not yet verified compact JWS. ``payload`` is the decoded JSON object."""

    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header["alg"])


def parse_compact(
    token: str,
    *,
    typ: str | Collection[str] | None,
    understood_crit: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_JWS_BYTES,
) -> CompactJws:
    """Split, decode and check the header of a compact JWS; the signature is not checked here.

    ``typ`` pins the header's ``typ`` (RFC 8725 §3.11): a string or set of accepted values, or
    ``None`` to accept any (only for tokens whose profile defines none).

    Raises:
        MalformedJws: not three base64url parts, header or payload not a JSON object, oversized.
        UnsupportedAlgorithm: ``alg`` missing or not on the allow-list (``none``, HMAC, RSA ...).
        UnexpectedTyp: ``typ`` absent or different from the one this token type requires.
        UnsupportedCriticalHeader: a ``crit`` extension that is not understood, or a malformed ``crit``.
    """
    if not isinstance(token, str):
        raise MalformedJws("a JWS must be a string")
    if len(token) > max_bytes:
        raise MalformedJws(f"the JWS is {len(token)} bytes, more than the {max_bytes} allowed")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedJws(f"a compact JWS has 3 parts separated by '.', this one has {len(parts)}")
    header_b64, payload_b64, signature_b64 = parts
    try:
        header = json_loads(b64url_decode(header_b64))
        payload = json_loads(b64url_decode(payload_b64))
        signature = b64url_decode(signature_b64)
    except (EncodingError, UnicodeEncodeError) as exc:
        reason = exc.reason if isinstance(exc, EncodingError) else "non-ASCII characters"
        raise MalformedJws(f"the JWS is not well-formed: {reason}") from None
    if not isinstance(header, dict):
        raise MalformedJws("the JWS header is not a JSON object")
    if not isinstance(payload, dict):
        raise MalformedJws("the JWS payload is not a JSON object")

    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise UnsupportedAlgorithm(
            f"the signing algorithm {alg!r} is not accepted; accepted are {', '.join(sorted(ALLOWED_ALGORITHMS))}",
            alg=alg,
        )
    if typ is not None:
        actual = header.get("typ")
        if not (actual == typ if isinstance(typ, str) else actual in typ):
            accepted = [typ] if isinstance(typ, str) else sorted(typ)
            raise UnexpectedTyp(
                f"the token type is {actual!r}, expected {' or '.join(repr(t) for t in accepted)}",
                typ=actual,
                expected=accepted,
            )
    if "crit" in header:
        _check_crit(header, understood_crit)
    return CompactJws(header, payload, f"{header_b64}.{payload_b64}".encode("ascii"), signature)


def verify_signature(jws: CompactJws, key: PublicJwk, *, algorithms: Collection[str] = ALLOWED_ALGORITHMS) -> None:
    """Check the signature of ``jws`` with ``key``; the key, never the header, decides the algorithm.

    Raises:
        UnsupportedAlgorithm: the header's ``alg`` is not in ``algorithms`` or does not fit the key.
        InvalidSignature: the signature does not verify.
    """
    alg = jws.header.get("alg")
    if alg not in algorithms or alg not in ALLOWED_ALGORITHMS:
        raise UnsupportedAlgorithm(f"the signing algorithm {alg!r} is not accepted here", alg=alg)
    if alg != key.alg:
        raise UnsupportedAlgorithm(
            f"the token says {alg} but the key is a {key.alg} key", alg=alg, key_alg=key.alg
        )
    ecdsa = _ECDSA.get(alg)
    try:
        if ecdsa is not None:
            ok = _verify_ecdsa(jws.signing_input, key.key, jws.signature, *ecdsa)
        else:
            ok = _ALGORITHMS[alg].verify(jws.signing_input, key.key, jws.signature)  # type: ignore[arg-type]
    except InvalidKeyError:
        raise UnsupportedAlgorithm(f"the key cannot verify {alg} signatures", alg=alg) from None
    if not ok:
        raise InvalidSignature("the signature does not match the signed content and key")


def signing_input(header: Mapping[str, Any], payload: Mapping[str, Any]) -> bytes:
    """The ASCII bytes that get signed: ``base64url(header) || '.' || base64url(payload)``."""
    return (
        b64url_encode(json_dumps(header).encode("utf-8")) + "." + b64url_encode(json_dumps(payload).encode("utf-8"))
    ).encode("ascii")


def sign(data: bytes, key: PrivateJwk) -> bytes:
    """The raw JWS signature over ``data`` (R || S for ECDSA, RFC 7518 §3.4)."""
    ecdsa = _ECDSA.get(key.alg)
    if ecdsa is not None and isinstance(key.key, ec.EllipticCurvePrivateKey):
        hasher, prehashed = ecdsa
        r, s = decode_dss_signature(key.key.sign(hasher(data).digest(), prehashed))
        size = (key.key.key_size + 7) >> 3
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return _ALGORITHMS[key.alg].sign(data, key.key)  # type: ignore[arg-type]


def _verify_ecdsa(
    data: bytes, key: object, signature: bytes, hasher: Callable[[bytes], Any], prehashed: ec.ECDSA
) -> bool:
    if not isinstance(key, ec.EllipticCurvePublicKey):  # one ABC check in the usual case
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise InvalidKeyError("not an EC key")
        key = key.public_key()
    size = (key.key_size + 7) >> 3
    if len(signature) != 2 * size:  # RFC 7518 §3.4: exactly R || S, each as long as the curve's order
        return False
    der = encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
    try:
        key.verify(der, hasher(data).digest(), prehashed)
    except _CryptoInvalidSignature:
        return False
    return True


def assemble(data: bytes, signature: bytes) -> str:
    return data.decode("ascii") + "." + b64url_encode(signature)


def sign_compact(header: Mapping[str, Any], payload: Mapping[str, Any], key: PrivateJwk) -> str:
    """Sign a JWS; ``alg`` (and ``kid`` when the key has one) are set from the key."""
    full_header = {"alg": key.alg, **({"kid": key.kid} if key.kid is not None else {}), **header}
    if full_header["alg"] != key.alg:
        raise UnsupportedAlgorithm(f"a {key.alg} key cannot sign with alg {full_header['alg']}")
    data = signing_input(full_header, payload)
    return assemble(data, sign(data, key))


def _check_crit(header: Mapping[str, Any], understood: Collection[str]) -> None:
    crit = header.get("crit")
    if crit is None and "crit" not in header:
        return
    crit = header["crit"]
    if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
        raise UnsupportedCriticalHeader("'crit' must be a non-empty array of header parameter names")
    for name in crit:
        if name not in understood:
            raise UnsupportedCriticalHeader(f"the critical header extension {name!r} is not understood", name=name)
        if name not in header:
            raise UnsupportedCriticalHeader(f"'crit' names {name!r} but the header lacks it", name=name)
