"""DPoP proofs (RFC 9449 §4): a client's proof verifies for its request; every mismatch is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tsunagu import jose
from tsunagu.dpop import (
    DpopAccessTokenMismatch,
    DpopAlgorithmNotAllowed,
    DpopClaimsInvalid,
    DpopIssuedAtOutOfWindow,
    DpopKeyInvalid,
    DpopMethodMismatch,
    DpopProofRejectedAtResource,
    DpopSignatureInvalid,
    DpopTypMismatch,
    DpopUriMismatch,
    InvalidDpopProof,
    access_token_hash,
    build_dpop_proof,
    normalize_htu,
    verify_dpop_proof,
)
from tsunagu.encoding import b64url_encode
from tsunagu.jwk import PrivateJwk, generate_key

URL = "https://issuer.example/employer/credential"


@pytest.fixture(scope="module")
def client_key() -> PrivateJwk:
    return generate_key("ES256")


def test_rfc9449_ath_example() -> None:
    # RFC 9449 §7.1: the access token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU" has this ath.
    assert access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    token = "abc"
    assert access_token_hash(token) == b64url_encode(hashlib.sha256(b"abc").digest())


def test_proof_at_the_token_endpoint_returns_the_thumbprint(client_key: PrivateJwk, now: datetime) -> None:
    proof = build_dpop_proof(client_key, htm="POST", htu="https://issuer.example/employer/token", iat=now, jti="j1")
    verified = verify_dpop_proof(proof, htm="POST", htu="https://issuer.example/employer/token", now=now)
    assert verified.jkt == client_key.thumbprint()
    assert verified.jti == "j1"


def test_proof_at_a_resource_binds_the_access_token(client_key: PrivateJwk, now: datetime) -> None:
    proof = build_dpop_proof(client_key, htm="POST", htu=URL, iat=now, jti="j2", access_token="token-1")
    assert verify_dpop_proof(proof, htm="POST", htu=URL, now=now, access_token="token-1").jkt == client_key.thumbprint()
    with pytest.raises(DpopAccessTokenMismatch):
        verify_dpop_proof(proof, htm="POST", htu=URL, now=now, access_token="token-2")


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("HTTPS://Issuer.Example:443/employer/credential?x=1#f", "https://issuer.example/employer/credential"),
        ("http://127.0.0.1:80/a", "http://127.0.0.1/a"),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/a"),
        ("https://issuer.example", "https://issuer.example/"),
    ],
)
def test_htu_normalisation(given: str, normal: str) -> None:
    assert normalize_htu(given) == normal


def test_htu_comparison_ignores_query_and_default_port(client_key: PrivateJwk, now: datetime) -> None:
    proof = build_dpop_proof(client_key, htm="GET", htu="https://issuer.example:443/employer/credential", iat=now, jti="j")
    assert verify_dpop_proof(proof, htm="GET", htu=URL + "?page=2", now=now).jti == "j"


def signed(key: PrivateJwk, header: dict[str, Any], payload: dict[str, Any]) -> str:
    data = jose.signing_input(header, payload)
    return jose.assemble(data, jose.sign(data, key))


def make(change_header: Callable[[dict[str, Any], PrivateJwk], None] = lambda h, k: None,
         change_payload: Callable[[dict[str, Any], datetime], None] = lambda p, n: None,
         signer: PrivateJwk | None = None) -> Callable[[PrivateJwk, datetime], str]:
    def build(key: PrivateJwk, now: datetime) -> str:
        jwk = key.public.to_jwk()
        jwk.pop("kid")
        header: dict[str, Any] = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
        payload: dict[str, Any] = {"jti": "j", "htm": "POST", "htu": URL, "iat": int(now.timestamp()), "ath": access_token_hash("tok")}
        change_header(header, key)
        change_payload(payload, now)
        return signed(signer or key, header, payload)

    return build


HOSTILE: list[tuple[str, Callable[[PrivateJwk, datetime], str], type[InvalidDpopProof]]] = [
    ("typ JWT", make(lambda h, k: h.update(typ="JWT")), DpopTypMismatch),
    ("typ of a key proof", make(lambda h, k: h.update(typ="openid4vci-proof+jwt")), DpopTypMismatch),
    ("alg HS256", make(lambda h, k: h.update(alg="HS256")), DpopAlgorithmNotAllowed),
    ("alg RS256", make(lambda h, k: h.update(alg="RS256")), DpopAlgorithmNotAllowed),
    ("EdDSA not allowed here", make(lambda h, k: h.update(alg="EdDSA")), DpopAlgorithmNotAllowed),
    ("no jwk", make(lambda h, k: h.pop("jwk")), DpopKeyInvalid),
    ("private jwk", make(lambda h, k: h.update(jwk=k.to_jwk(include_private=True))), DpopKeyInvalid),
    ("oct jwk", make(lambda h, k: h.update(jwk={"kty": "oct", "k": "AAAA"})), DpopKeyInvalid),
    ("signed by another key", make(signer=generate_key("ES256")), DpopSignatureInvalid),
    ("no jti", make(change_payload=lambda p, n: p.pop("jti")), DpopClaimsInvalid),
    ("jti not a string", make(change_payload=lambda p, n: p.update(jti=7)), DpopClaimsInvalid),
    ("no htm", make(change_payload=lambda p, n: p.pop("htm")), DpopClaimsInvalid),
    ("no htu", make(change_payload=lambda p, n: p.pop("htu")), DpopClaimsInvalid),
    ("no iat", make(change_payload=lambda p, n: p.pop("iat")), DpopClaimsInvalid),
    ("htm GET", make(change_payload=lambda p, n: p.update(htm="GET")), DpopMethodMismatch),
    ("htm lower case", make(change_payload=lambda p, n: p.update(htm="post")), DpopMethodMismatch),
    ("htu another endpoint", make(change_payload=lambda p, n: p.update(htu="https://issuer.example/employer/nonce")), DpopUriMismatch),
    ("htu another tenant", make(change_payload=lambda p, n: p.update(htu="https://issuer.example/tax-office/credential")), DpopUriMismatch),
    ("htu another host", make(change_payload=lambda p, n: p.update(htu="https://evil.example/employer/credential")), DpopUriMismatch),
    ("htu bad port", make(change_payload=lambda p, n: p.update(htu="https://issuer.example:99999/x")), DpopUriMismatch),
    ("iat stale", make(change_payload=lambda p, n: p.update(iat=int((n - timedelta(minutes=10)).timestamp()))), DpopIssuedAtOutOfWindow),
    ("iat future", make(change_payload=lambda p, n: p.update(iat=int((n + timedelta(minutes=5)).timestamp()))), DpopIssuedAtOutOfWindow),
    ("ath missing", make(change_payload=lambda p, n: p.pop("ath")), DpopAccessTokenMismatch),
    ("ath of another token", make(change_payload=lambda p, n: p.update(ath=access_token_hash("other"))), DpopAccessTokenMismatch),
]


@pytest.mark.parametrize(("case", "build", "error"), HOSTILE, ids=[c for c, _, _ in HOSTILE])
def test_hostile_dpop_proof_refused(case: str, build: Callable[[PrivateJwk, datetime], str], error: type[InvalidDpopProof], client_key: PrivateJwk, now: datetime) -> None:
    with pytest.raises(error) as caught:
        verify_dpop_proof(build(client_key, now), htm="POST", htu=URL, now=now, access_token="tok")
    assert type(caught.value) is error
    assert (caught.value.error, caught.value.status_code) == ("invalid_dpop_proof", 400)


@pytest.mark.parametrize("garbage", ["", "a.b.c", "a" * 9000, "one.two"])
def test_garbage_is_invalid_dpop_proof(garbage: str, now: datetime) -> None:
    with pytest.raises(InvalidDpopProof):
        verify_dpop_proof(garbage, htm="POST", htu=URL, now=now)


def test_resource_server_answers_401_with_a_dpop_challenge() -> None:
    error = DpopProofRejectedAtResource("stale proof", algs=("ES256",))
    assert (error.status_code, error.error) == (401, "invalid_dpop_proof")
    assert error.headers() == {"WWW-Authenticate": 'DPoP error="invalid_dpop_proof", algs="ES256"'}
