"""The ``jwt`` key proof (OpenID4VCI 1.0 Appendix F): a wallet's proof verifies; every forgery is refused."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tsunagu import jose
from tsunagu.encoding import b64url_encode, json_dumps
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.oid4vci import (
    InvalidProof,
    ProofAlgorithmNotAllowed,
    ProofAudienceMismatch,
    ProofExpectation,
    ProofIssuedAtOutOfWindow,
    ProofKeyInvalid,
    ProofNonceMissing,
    ProofSignatureInvalid,
    ProofTypMismatch,
    build_proof_jwt,
    verify_proof_jwt,
)

AUD = "https://issuer.example/employer"
EXPECT = ProofExpectation(audience=AUD)


def signed(key: PrivateJwk, header: dict[str, Any], payload: dict[str, Any]) -> str:
    data = jose.signing_input(header, payload)
    return jose.assemble(data, jose.sign(data, key))


def parts(key: PrivateJwk, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    jwk = key.public.to_jwk()
    jwk.pop("kid")
    return (
        {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": jwk},
        {"aud": AUD, "iat": int(now.timestamp()), "nonce": "c-nonce-1"},
    )


def test_wallet_proof_verifies_and_binds_its_key(holder_key: PrivateJwk, now: datetime) -> None:
    proof = build_proof_jwt(holder_key, audience=AUD, nonce="c-nonce-1", iat=now)
    verified = verify_proof_jwt(proof, EXPECT, now=now + timedelta(seconds=2))
    assert verified.nonce == "c-nonce-1"
    assert verified.thumbprint == holder_key.thumbprint()
    assert "kid" not in verified.header  # F.1: kid must not accompany jwk
    assert "iss" not in verified.payload  # anonymous pre-authorized access: iss omitted


def test_eddsa_only_when_the_issuer_allows_it(now: datetime) -> None:
    key = generate_key("EdDSA")
    proof = build_proof_jwt(key, audience=AUD, nonce="n", iat=now)
    with pytest.raises(ProofAlgorithmNotAllowed):
        verify_proof_jwt(proof, EXPECT, now=now)
    assert verify_proof_jwt(proof, ProofExpectation(audience=AUD, algorithms=("ES256", "EdDSA")), now=now).nonce == "n"


def test_nonce_optional_only_without_a_nonce_endpoint(holder_key: PrivateJwk, now: datetime) -> None:
    proof = build_proof_jwt(holder_key, audience=AUD, nonce=None, iat=now)
    with pytest.raises(ProofNonceMissing):
        verify_proof_jwt(proof, EXPECT, now=now)
    assert verify_proof_jwt(proof, ProofExpectation(audience=AUD, require_nonce=False), now=now).nonce is None


def test_aud_may_be_an_array_containing_the_issuer(holder_key: PrivateJwk, now: datetime) -> None:
    header, payload = parts(holder_key, now)
    payload["aud"] = [AUD, "https://other.example"]
    assert verify_proof_jwt(signed(holder_key, header, payload), EXPECT, now=now).nonce == "c-nonce-1"


def hs256_forgery(key: PrivateJwk, now: datetime) -> str:
    header, payload = parts(key, now)
    header["alg"] = "HS256"
    data = jose.signing_input(header, payload)
    secret = json_dumps(header["jwk"]).encode()
    return data.decode() + "." + b64url_encode(hmac.new(secret, data, hashlib.sha256).digest())


def alg_none(key: PrivateJwk, now: datetime) -> str:
    header, payload = parts(key, now)
    header["alg"] = "none"
    return jose.signing_input(header, payload).decode() + "."


def with_header(change: Callable[[dict[str, Any], PrivateJwk], None]) -> Callable[[PrivateJwk, datetime], str]:
    def make(key: PrivateJwk, now: datetime) -> str:
        header, payload = parts(key, now)
        change(header, key)
        return signed(key, header, payload)

    return make


def with_payload(change: Callable[[dict[str, Any], datetime], None]) -> Callable[[PrivateJwk, datetime], str]:
    def make(key: PrivateJwk, now: datetime) -> str:
        header, payload = parts(key, now)
        change(payload, now)
        return signed(key, header, payload)

    return make


def signed_by_another_key(key: PrivateJwk, now: datetime) -> str:
    header, payload = parts(key, now)
    return signed(generate_key("ES256"), header, payload)


HOSTILE: list[tuple[str, Callable[[PrivateJwk, datetime], str], type[InvalidProof]]] = [
    ("typ JWT", with_header(lambda h, k: h.update(typ="JWT")), ProofTypMismatch),
    ("typ missing", with_header(lambda h, k: h.pop("typ")), ProofTypMismatch),
    ("typ of a KB-JWT", with_header(lambda h, k: h.update(typ="kb+jwt")), ProofTypMismatch),
    ("alg none", alg_none, ProofAlgorithmNotAllowed),
    ("alg HS256 keyed with the public jwk", hs256_forgery, ProofAlgorithmNotAllowed),
    ("alg says ES384 on a P-256 key", with_header(lambda h, k: h.update(alg="ES384")), ProofAlgorithmNotAllowed),
    ("jwk missing", with_header(lambda h, k: h.pop("jwk")), ProofKeyInvalid),
    ("kid instead of jwk", with_header(lambda h, k: (h.pop("jwk"), h.update(kid="did:example:1#k"))), ProofKeyInvalid),
    ("kid next to jwk", with_header(lambda h, k: h.update(kid="k1")), ProofKeyInvalid),
    ("x5c next to jwk", with_header(lambda h, k: h.update(x5c=["MIIB"])), ProofKeyInvalid),
    ("private key in jwk", with_header(lambda h, k: h.update(jwk=k.to_jwk(include_private=True))), ProofKeyInvalid),
    ("symmetric jwk", with_header(lambda h, k: h.update(jwk={"kty": "oct", "k": "c2VjcmV0"})), ProofKeyInvalid),
    ("RSA jwk", with_header(lambda h, k: h.update(jwk={"kty": "RSA", "n": "AQAB", "e": "AQAB"})), ProofKeyInvalid),
    ("jwk point off the curve", with_header(lambda h, k: h["jwk"].update(y=h["jwk"]["x"])), ProofKeyInvalid),
    ("jwk not an object", with_header(lambda h, k: h.update(jwk="key")), ProofKeyInvalid),
    ("signed by another key", signed_by_another_key, ProofSignatureInvalid),
    ("crit header", with_header(lambda h, k: h.update(crit=["exp"])), InvalidProof),
    ("aud another issuer", with_payload(lambda p, n: p.update(aud="https://issuer.example/tax-office")), ProofAudienceMismatch),
    ("aud missing", with_payload(lambda p, n: p.pop("aud")), ProofAudienceMismatch),
    ("aud prefix of ours", with_payload(lambda p, n: p.update(aud="https://issuer.example")), ProofAudienceMismatch),
    ("iat missing", with_payload(lambda p, n: p.pop("iat")), ProofIssuedAtOutOfWindow),
    ("iat a string", with_payload(lambda p, n: p.update(iat="now")), ProofIssuedAtOutOfWindow),
    ("iat stale", with_payload(lambda p, n: p.update(iat=int((n - timedelta(minutes=7)).timestamp()))), ProofIssuedAtOutOfWindow),
    ("iat in the future", with_payload(lambda p, n: p.update(iat=int((n + timedelta(minutes=3)).timestamp()))), ProofIssuedAtOutOfWindow),
    ("iat absurd", with_payload(lambda p, n: p.update(iat=10**20)), ProofIssuedAtOutOfWindow),
    ("nonce missing", with_payload(lambda p, n: p.pop("nonce")), ProofNonceMissing),
    ("nonce not a string", with_payload(lambda p, n: p.update(nonce=42)), InvalidProof),
    ("iss not a string", with_payload(lambda p, n: p.update(iss=["a"])), InvalidProof),
]


@pytest.mark.parametrize(("case", "make", "error"), HOSTILE, ids=[c for c, _, _ in HOSTILE])
def test_hostile_proof_refused(case: str, make: Callable[[PrivateJwk, datetime], str], error: type[InvalidProof], holder_key: PrivateJwk, now: datetime) -> None:
    with pytest.raises(error) as caught:
        verify_proof_jwt(make(holder_key, now), EXPECT, now=now)
    assert type(caught.value) is error
    assert caught.value.error == "invalid_proof"


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "x" * 9000, "eyJhbGciOiJFUzI1NiJ9.e30.AAAA~"])
def test_not_a_jwt_is_invalid_proof(garbage: str, now: datetime) -> None:
    with pytest.raises(InvalidProof):
        verify_proof_jwt(garbage, EXPECT, now=now)


def test_iss_must_match_the_client_when_one_is_known(holder_key: PrivateJwk, now: datetime) -> None:
    proof = build_proof_jwt(holder_key, audience=AUD, nonce="n", iat=now, client_id="wallet-1")
    assert verify_proof_jwt(proof, ProofExpectation(audience=AUD, client_id="wallet-1"), now=now).payload["iss"] == "wallet-1"
    with pytest.raises(InvalidProof):
        verify_proof_jwt(proof, ProofExpectation(audience=AUD, client_id="wallet-2"), now=now)


def test_reason_never_carries_characters_error_description_forbids(holder_key: PrivateJwk, now: datetime) -> None:
    header, payload = parts(holder_key, now)
    header["jwk"] = {"kty": "EC", "crv": 'P-256"\\日本', "x": "a", "y": "b"}
    with pytest.raises(ProofKeyInvalid) as caught:
        verify_proof_jwt(signed(holder_key, header, payload), EXPECT, now=now)
    assert all(0x20 <= ord(ch) <= 0x7E and ch not in '"\\' for ch in caught.value.reason)
