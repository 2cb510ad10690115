"""JWS framing and the algorithm allow-list; regressions named after the attacks (RFC 8725 §2)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tsunagu import jose
from tsunagu.encoding import b64url_encode, json_dumps
from tsunagu.errors import (
    InvalidSignature,
    MalformedJws,
    UnexpectedTyp,
    UnsupportedAlgorithm,
    UnsupportedCriticalHeader,
)
from tsunagu.jwk import PrivateJwk, generate_key


def _unsigned(header: dict[str, object], payload: dict[str, object], signature: bytes = b"") -> str:
    return ".".join(
        [b64url_encode(json_dumps(header).encode()), b64url_encode(json_dumps(payload).encode()), b64url_encode(signature)]
    )


def test_sign_then_verify_round_trips(issuer_key: PrivateJwk) -> None:
    token = jose.sign_compact({"typ": "example+jwt"}, {"sub": "山田"}, issuer_key)
    jws = jose.parse_compact(token, typ="example+jwt")
    jose.verify_signature(jws, issuer_key.public)
    assert jws.payload == {"sub": "山田"}
    assert jws.header == {"alg": "ES256", "kid": "employer-2026", "typ": "example+jwt"}


def test_eddsa_round_trips() -> None:
    key = generate_key("EdDSA")
    jws = jose.parse_compact(jose.sign_compact({"typ": "t"}, {"a": 1}, key), typ="t")
    jose.verify_signature(jws, key.public)


def test_alg_none_rejected(issuer_key: PrivateJwk) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        jose.parse_compact(_unsigned({"alg": "none", "typ": "t"}, {"a": 1}), typ="t")


def test_hmac_with_public_key_as_secret_rejected(issuer_key: PrivateJwk) -> None:
    """The algorithm-confusion attack: HS256 keyed with the issuer's published public key."""
    public_bytes = json_dumps(issuer_key.public.to_jwk()).encode()
    header, payload = {"alg": "HS256", "typ": "t"}, {"a": 1}
    data = jose.signing_input(header, payload)
    forged = jose.assemble(data, hmac.new(public_bytes, data, hashlib.sha256).digest())
    with pytest.raises(UnsupportedAlgorithm):
        jose.parse_compact(forged, typ="t")


def test_header_alg_that_does_not_fit_the_key_rejected(issuer_key: PrivateJwk) -> None:
    ed = generate_key("EdDSA")
    jws = jose.parse_compact(jose.sign_compact({"typ": "t"}, {"a": 1}, ed), typ="t")
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_signature(jws, issuer_key.public)


def test_signature_by_other_key_rejected(issuer_key: PrivateJwk) -> None:
    jws = jose.parse_compact(jose.sign_compact({"typ": "t"}, {"a": 1}, generate_key()), typ="t")
    with pytest.raises(InvalidSignature):
        jose.verify_signature(jws, issuer_key.public)


def test_tampered_payload_rejected(issuer_key: PrivateJwk) -> None:
    header_b64, _, signature = jose.sign_compact({"typ": "t"}, {"salary": 3_000_000}, issuer_key).split(".")
    forged = f"{header_b64}.{b64url_encode(json_dumps({'salary': 9_000_000}).encode())}.{signature}"
    with pytest.raises(InvalidSignature):
        jose.verify_signature(jose.parse_compact(forged, typ="t"), issuer_key.public)


def test_wrong_typ_rejected(issuer_key: PrivateJwk) -> None:
    with pytest.raises(UnexpectedTyp):
        jose.parse_compact(jose.sign_compact({"typ": "JWT"}, {}, issuer_key), typ="kb+jwt")


def test_missing_typ_rejected_when_pinned(issuer_key: PrivateJwk) -> None:
    with pytest.raises(UnexpectedTyp):
        jose.parse_compact(jose.sign_compact({}, {}, issuer_key), typ="kb+jwt")


@pytest.mark.parametrize(
    "crit",
    [["urn:example:unknown"], [], "b64", [1]],
    ids=["unknown-extension", "empty", "not-an-array", "not-strings"],
)
def test_unknown_or_malformed_crit_rejected(issuer_key: PrivateJwk, crit: object) -> None:
    token = jose.sign_compact({"typ": "t", "crit": crit, "urn:example:unknown": 1}, {}, issuer_key)
    with pytest.raises(UnsupportedCriticalHeader):
        jose.parse_compact(token, typ="t")


def test_understood_crit_accepted(issuer_key: PrivateJwk) -> None:
    token = jose.sign_compact({"typ": "t", "crit": ["x5t"], "x5t": "abc"}, {}, issuer_key)
    assert jose.parse_compact(token, typ="t", understood_crit={"x5t"}).header["x5t"] == "abc"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.e30.",
        "e30.e30=.",
        b64url_encode(b"[]") + ".e30.",
        b64url_encode(b'"ES256"') + ".e30.",
        "e30." + b64url_encode(b"[1]") + ".",
        b64url_encode(b'{"alg":"ES256","alg":"none"}') + ".e30.",
        b64url_encode(b'{"alg":"ES256"}') + "." + b64url_encode(b'{"a":NaN}') + ".",
        b64url_encode(b"\xff\xfe") + ".e30.",
        "é.e30.",
    ],
    ids=[
        "empty",
        "two-parts",
        "four-parts",
        "not-base64url",
        "padding",
        "header-array",
        "header-not-object",
        "payload-not-object",
        "duplicate-header-member",
        "nan",
        "not-utf8",
        "non-ascii",
    ],
)
def test_malformed_jws_rejected(token: str) -> None:
    with pytest.raises(MalformedJws):
        jose.parse_compact(token, typ=None)


def test_oversized_jws_rejected_before_parsing() -> None:
    with pytest.raises(MalformedJws):
        jose.parse_compact("a" * 2_000_000, typ=None)
