"""JWK import/export and RFC 7638 thumbprints."""

from __future__ import annotations

import pytest

from tsunagu.errors import InvalidJwk, UnsupportedKeyType
from tsunagu.jwk import generate_key, jwk_thumbprint, parse_jwks, parse_private_jwk, parse_public_jwk


def test_rfc8037_thumbprint_example() -> None:
    """RFC 8037 §A.3: the RFC 7638 thumbprint of the Ed25519 example key."""
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "EdDSA"])
def test_private_and_public_round_trip(alg: str) -> None:
    key = generate_key(alg)  # type: ignore[arg-type]
    exported = key.to_jwk(include_private=True)
    again = parse_private_jwk(exported)
    assert again.public.to_jwk() == key.public.to_jwk()
    assert parse_public_jwk(key.public.to_jwk()).thumbprint() == key.thumbprint()
    assert "d" not in key.public.to_jwk()


def test_kid_defaults_to_thumbprint() -> None:
    key = generate_key()
    assert key.kid == key.thumbprint()


@pytest.mark.parametrize(
    ("jwk", "error"),
    [
        ({"kty": "oct", "k": "c2VjcmV0"}, UnsupportedKeyType),
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, UnsupportedKeyType),
        ({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}, UnsupportedKeyType),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, InvalidJwk),
        ({"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43}, InvalidJwk),
        ({"kty": "EC", "crv": "P-256", "x": 1, "y": 2}, InvalidJwk),
        ({"kty": "OKP", "crv": "X25519", "x": "A" * 43}, UnsupportedKeyType),
        ("not an object", InvalidJwk),
    ],
    ids=["oct", "rsa", "secp256k1", "short-coordinates", "point-not-on-curve", "numbers", "x25519", "string"],
)
def test_unusable_jwk_rejected(jwk: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_public_jwk(jwk)


def test_alg_member_must_fit_curve() -> None:
    jwk = {**generate_key("ES256").public.to_jwk(), "alg": "ES384"}
    with pytest.raises(InvalidJwk):
        parse_public_jwk(jwk)


def test_private_key_not_matching_public_members_rejected() -> None:
    a, b = generate_key(), generate_key()
    mixed = {**a.public.to_jwk(), "d": b.to_jwk(include_private=True)["d"]}
    with pytest.raises(InvalidJwk):
        parse_private_jwk(mixed)


def test_published_jwks_must_not_contain_private_keys() -> None:
    key = generate_key()
    assert parse_jwks({"keys": [key.public.to_jwk()]})[0].kid == key.kid
    with pytest.raises(InvalidJwk):
        parse_jwks({"keys": [key.to_jwk(include_private=True)]})
