"""Keys as JWKs (RFC 7517): generation, import, export and RFC 7638 thumbprints.

Only the key types our tokens may be signed with are accepted: EC P-256/P-384/P-521 and the
OKP curve Ed25519. Symmetric (``oct``) and RSA keys are refused on import, so no code path can
ever verify an ES256-looking token with an HMAC secret derived from a public key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .encoding import b64url_decode, b64url_encode, json_dumps
from .errors import EncodingError, InvalidJwk, UnsupportedKeyType

__all__ = [
    "Algorithm",
    "PublicJwk",
    "PrivateJwk",
    "generate_key",
    "parse_jwk",
    "parse_public_jwk",
    "parse_private_jwk",
    "parse_jwks",
    "jwk_thumbprint",
    "select_key",
]

Algorithm: TypeAlias = Literal["ES256", "ES384", "ES512", "EdDSA"]
PublicKey: TypeAlias = ec.EllipticCurvePublicKey | Ed25519PublicKey
PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | Ed25519PrivateKey

# crv name -> (cryptography curve, coordinate length in bytes, the JWS alg that goes with it)
_EC_CURVES: dict[str, tuple[ec.EllipticCurve, int, Algorithm]] = {
    "P-256": (ec.SECP256R1(), 32, "ES256"),
    "P-384": (ec.SECP384R1(), 48, "ES384"),
    "P-521": (ec.SECP521R1(), 66, "ES512"),
}
_ALG_TO_CRV: dict[str, str] = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519"}


@dataclass(frozen=True, slots=True)
class PublicJwk:
    """A public key ready for signature verification, with the JWS ``alg`` it is used with."""

    key: PublicKey
    alg: Algorithm
    kid: str | None = None
    _members: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def to_jwk(self) -> dict[str, str]:
        """The public JWK, with ``kid`` and ``alg`` when known."""
        out = dict(self._members) if self._members else _public_members(self.key)
        if self.kid is not None:
            out["kid"] = self.kid
        out.setdefault("alg", self.alg)
        return out

    def thumbprint(self) -> str:
        return jwk_thumbprint(self.to_jwk())


@dataclass(frozen=True, slots=True)
class PrivateJwk:
    """A private signing key. ``public`` is what may be published or put in ``cnf``."""

    key: PrivateKey
    alg: Algorithm
    kid: str | None = None

    @property
    def public(self) -> PublicJwk:
        pub = self.key.public_key()
        return PublicJwk(key=pub, alg=self.alg, kid=self.kid, _members=_public_members(pub))

    def to_jwk(self, *, include_private: bool = False) -> dict[str, str]:
        out = self.public.to_jwk()
        if include_private:
            if isinstance(self.key, Ed25519PrivateKey):
                from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

                raw = self.key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
                out["d"] = b64url_encode(raw)
            else:
                size = _EC_CURVES[_crv_name(self.key.curve)][1]
                out["d"] = b64url_encode(self.key.private_numbers().private_value.to_bytes(size, "big"))
        return out

    def thumbprint(self) -> str:
        return jwk_thumbprint(self.public.to_jwk())


def generate_key(alg: Algorithm = "ES256", *, kid: str | None = None) -> PrivateJwk:
    """A fresh key for ``alg``. ``kid`` defaults to the RFC 7638 thumbprint."""
    key: PrivateKey
    if alg == "EdDSA":
        key = Ed25519PrivateKey.generate()
    elif alg in _ALG_TO_CRV:
        key = ec.generate_private_key(_EC_CURVES[_ALG_TO_CRV[alg]][0])
    else:
        raise UnsupportedKeyType(f"cannot generate a key for algorithm {alg!r}", alg=alg)
    private = PrivateJwk(key=key, alg=alg, kid=None)
    return PrivateJwk(key=key, alg=alg, kid=kid if kid is not None else private.thumbprint())


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members only."""
    kty = jwk.get("kty")
    required: tuple[str, ...]
    if kty == "EC":
        required = ("crv", "kty", "x", "y")
    elif kty == "OKP":
        required = ("crv", "kty", "x")
    else:
        raise UnsupportedKeyType(f"no thumbprint for key type {kty!r}", kty=kty)
    try:
        members = {name: jwk[name] for name in required}
    except KeyError as exc:
        raise InvalidJwk(f"the JWK lacks the member {exc.args[0]!r}") from None
    if not all(isinstance(v, str) for v in members.values()):
        raise InvalidJwk("JWK members must be strings")
    canonical = json_dumps(dict(sorted(members.items())))
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def parse_public_jwk(jwk: object) -> PublicJwk:
    """Import a public JWK (private members, if any, are ignored).

    Raises:
        InvalidJwk: not a JWK object, or coordinates that are malformed or not on the curve.
        UnsupportedKeyType: ``oct``, ``RSA`` or an unknown curve.
    """
    obj = _as_jwk_object(jwk)
    kty = obj.get("kty")
    kid = _optional_str(obj, "kid")
    if kty == "EC":
        crv = obj.get("crv")
        if crv not in _EC_CURVES:
            raise UnsupportedKeyType(f"unsupported EC curve {crv!r}", crv=crv)
        curve, size, alg = _EC_CURVES[crv]
        _check_alg(obj, alg)
        x = _coordinate(obj, "x", size)
        y = _coordinate(obj, "y", size)
        try:
            # The uncompressed SEC1 point; cryptography checks that it lies on the curve.
            key: PublicKey = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
        except ValueError:
            raise InvalidJwk("the EC point is not on the curve") from None
        members = {"kty": "EC", "crv": crv, "x": obj["x"], "y": obj["y"]}
        return PublicJwk(key, alg, kid, members)
    if kty == "OKP":
        crv = obj.get("crv")
        if crv != "Ed25519":
            raise UnsupportedKeyType(f"unsupported OKP curve {crv!r}", crv=crv)
        _check_alg(obj, "EdDSA")
        x = _coordinate(obj, "x", 32)
        key = Ed25519PublicKey.from_public_bytes(x)
        return PublicJwk(key=key, alg="EdDSA", kid=kid, _members={"kty": "OKP", "crv": crv, "x": obj["x"]})
    raise UnsupportedKeyType(f"unsupported key type {kty!r}; only EC and OKP keys sign Tsunagu tokens", kty=kty)


def parse_private_jwk(jwk: object) -> PrivateJwk:
    """Import a private JWK (with ``d``), checking that it matches its public members."""
    obj = _as_jwk_object(jwk)
    public = parse_public_jwk(obj)
    if "d" not in obj:
        raise InvalidJwk("a private JWK needs the member 'd'")
    key: PrivateKey
    if isinstance(public.key, Ed25519PublicKey):
        key = Ed25519PrivateKey.from_private_bytes(_coordinate(obj, "d", 32))
    else:
        curve, size, _ = _EC_CURVES[obj["crv"]]
        try:
            key = ec.derive_private_key(int.from_bytes(_coordinate(obj, "d", size), "big"), curve)
        except ValueError:
            raise InvalidJwk("the private scalar 'd' is out of range") from None
    if _public_members(key.public_key()) != _public_members(public.key):
        raise InvalidJwk("the private key 'd' does not match the public members")
    return PrivateJwk(key=key, alg=public.alg, kid=public.kid)


def parse_jwk(jwk: object) -> PublicJwk | PrivateJwk:
    obj = _as_jwk_object(jwk)
    return parse_private_jwk(obj) if "d" in obj else parse_public_jwk(obj)


def parse_jwks(jwks: object) -> tuple[PublicJwk, ...]:
    """Import a JWK Set (``{"keys": [...]}``), refusing any private member."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise InvalidJwk('a JWK Set is an object with a "keys" array')
    keys: list[PublicJwk] = []
    for item in jwks["keys"]:
        if isinstance(item, Mapping) and "d" in item:
            raise InvalidJwk("a published JWK Set must not contain private keys")
        keys.append(parse_public_jwk(item))
    return tuple(keys)


def select_key(keys: Iterable[PublicJwk], *, kid: str | None, alg: str | None) -> PublicJwk | None:
    """The key a JWS header names: by ``kid`` when given, else the only key fitting ``alg``."""
    candidates = [k for k in keys if alg is None or k.alg == alg]
    if kid is not None:
        matches = [k for k in candidates if k.kid == kid]
        return matches[0] if len(matches) == 1 else None
    return candidates[0] if len(candidates) == 1 else None


# --- helpers -----------------------------------------------------------------------------------


def _as_jwk_object(jwk: object) -> Mapping[str, Any]:
    if type(jwk) is not dict and not isinstance(jwk, Mapping):  # exact type first: parsed JSON is a dict
        raise InvalidJwk("a JWK is a JSON object")
    return jwk


def _optional_str(obj: Mapping[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidJwk(f"the JWK member {name!r} must be a string")
    return value


def _check_alg(obj: Mapping[str, Any], expected: Algorithm) -> None:
    alg = obj.get("alg")
    if alg is not None and alg != expected:
        raise InvalidJwk(f"the JWK says alg {alg!r}, but its curve is used with {expected}", alg=alg)


def _coordinate(obj: Mapping[str, Any], name: str, size: int) -> bytes:
    value = obj.get(name)
    if not isinstance(value, str):
        raise InvalidJwk(f"the JWK member {name!r} must be a base64url string")
    try:
        raw = b64url_decode(value)
    except EncodingError:
        raise InvalidJwk(f"the JWK member {name!r} is not base64url") from None
    if len(raw) != size:
        raise InvalidJwk(f"the JWK member {name!r} must be {size} bytes, not {len(raw)}")
    return raw


def _crv_name(curve: ec.EllipticCurve) -> str:
    for name, (c, _, _) in _EC_CURVES.items():
        if c.name == curve.name:
            return name
    raise UnsupportedKeyType(f"unsupported EC curve {curve.name}")


def _public_members(key: PublicKey) -> dict[str, str]:
    if isinstance(key, Ed25519PublicKey):
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))}
    crv = _crv_name(key.curve)
    size = _EC_CURVES[crv][1]
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": crv,
        "x": b64url_encode(numbers.x.to_bytes(size, "big")),
        "y": b64url_encode(numbers.y.to_bytes(size, "big")),
    }
