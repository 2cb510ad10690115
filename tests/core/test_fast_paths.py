"""The hot paths made fast for issue #2 accept and refuse exactly what the plain code does.

Each fast path has a slower, obvious equivalent (the stdlib decoder, ``json_dumps``, datetime
comparisons, PyJWT's ECDSA framing); these tests hold the two to the same answers, at the edges.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tsunagu import jose
from tsunagu.encoding import b64url_decode, b64url_encode, json_dumps
from tsunagu.errors import (
    CredentialExpired,
    CredentialNotYetValid,
    DuplicateDisclosure,
    EncodingError,
    InvalidSignature,
    MalformedDisclosure,
    MalformedSdJwt,
)
from tsunagu.jwk import Algorithm, PrivateJwk, generate_key
from tsunagu.kb_jwt import TYP_KB_JWT, KeyBindingRequest
from tsunagu.sd_jwt.compact import SdJwt, parse_sd_jwt
from tsunagu.sd_jwt.disclosure import make_disclosure
from tsunagu.sd_jwt.holder import present_sd_jwt
from tsunagu.sd_jwt.issuer import issue_sd_jwt
from tsunagu.sd_jwt.verifier import verify_sd_jwt

NOW = datetime(2026, 11, 23, 9, 0, 0, 250_000, tzinfo=timezone.utc)  # not on a whole second
SKEW = 60  # VerifyPolicy's default clock skew, in seconds


# --- base64url ----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", range(0, 49))
def test_b64url_decode_round_trips_every_length(length: int) -> None:
    data = os.urandom(length)
    encoded = b64url_encode(data)
    assert b64url_decode(encoded) == data == base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    assert b64url_decode(encoded.encode("ascii")) == data


@pytest.mark.parametrize(
    "text",
    [
        "QQ==",  # padding
        "QQ=",
        "=QQQ",
        "a+bc",  # the standard alphabet's '+' and '/' are not base64url
        "a/bc",
        "ab c",  # whitespace and line breaks
        "abc\n",
        "ab.c",
        "abcde",  # a length no encoding produces
        "Q",
        "ab\x00c",
    ],
)
def test_b64url_decode_refuses_what_is_not_base64url(text: str) -> None:
    with pytest.raises(EncodingError):
        b64url_decode(text)
    with pytest.raises(EncodingError):
        b64url_decode(text.encode("ascii"))


def test_b64url_decode_refuses_non_ascii_text() -> None:
    with pytest.raises(UnicodeEncodeError):
        b64url_decode("QUJ\u00e9")


# --- disclosures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["MAI", "グエン", 'quote " and \\ backslash', "\x00\x1f\u2028", "", 0, -7, 4_800_000, 10**40,
     True, False, None, 1.5, {"city": "江東区"}, ["vi", "ja"]],
)
@pytest.mark.parametrize("name", ["given_name", "名前", 'a"b', None])
def test_disclosure_encodes_the_json_array_json_dumps_writes(name: str | None, value: Any) -> None:
    disclosure = make_disclosure(name, value)
    expected = [disclosure.salt, value] if name is None else [disclosure.salt, name, value]
    assert b64url_decode(disclosure.encoded) == json_dumps(expected).encode("utf-8")
    assert disclosure.digest == b64url_encode(hashlib.sha256(disclosure.encoded.encode("ascii")).digest())


def test_issuer_salts_are_distinct_and_16_bytes(issuer_key: PrivateJwk) -> None:
    claims = {f"claim_{i}": i for i in range(40)}  # more than one pooled batch of salts
    issued = issue_sd_jwt(claims, key=issuer_key, selectively_disclosable=[(name,) for name in claims])
    salts = [d.salt for d in issued.disclosures]
    assert len(set(salts)) == 40
    assert all(len(b64url_decode(salt)) == 16 for salt in salts)


def test_a_caller_salt_source_is_called_once_per_disclosure_in_order(issuer_key: PrivateJwk) -> None:
    counter = iter(range(100))
    issued = issue_sd_jwt(
        {"a": 1, "b": "x", "c": {"d": 2}},
        key=issuer_key,
        selectively_disclosable=[("a",), ("b",), ("c",), ("c", "d")],
        salt=lambda: next(counter).to_bytes(16, "big"),
    )
    assert [b64url_decode(d.salt)[-1] for d in issued.disclosures] == [0, 1, 2, 3]


# --- presenting from a string ---------------------------------------------------------------------


def _held(issuer_key: PrivateJwk) -> str:
    claims = {"given_name": "MAI", "family_name": "NGUYEN", "annual_salary": 4_800_000}
    return issue_sd_jwt(claims, key=issuer_key, selectively_disclosable=[(n,) for n in claims]).compact


def test_present_refuses_a_malformed_disclosure_it_would_not_show(issuer_key: PrivateJwk) -> None:
    sd_jwt = parse_sd_jwt(_held(issuer_key))
    broken = SdJwt(sd_jwt.issuer_jwt, (*sd_jwt.disclosures, b64url_encode(b'["salt"]'))).serialize()
    with pytest.raises(MalformedDisclosure):
        present_sd_jwt(broken, [("given_name",)])


def test_present_refuses_a_duplicated_disclosure(issuer_key: PrivateJwk) -> None:
    sd_jwt = parse_sd_jwt(_held(issuer_key))
    doubled = SdJwt(sd_jwt.issuer_jwt, (*sd_jwt.disclosures, sd_jwt.disclosures[-1])).serialize()
    with pytest.raises(DuplicateDisclosure):
        present_sd_jwt(doubled, [("given_name",)])


def test_present_from_a_string_keeps_the_issued_order(issuer_key: PrivateJwk, holder_key: PrivateJwk) -> None:
    held = _held(issuer_key)
    issued_order = parse_sd_jwt(held).disclosures
    shown = present_sd_jwt(held, [("annual_salary",), ("given_name",)])
    assert parse_sd_jwt(shown).disclosures == tuple(d for d in issued_order if d in shown)
    kb = KeyBindingRequest(holder_key, "https://bank.example", "n-1", NOW)
    header = b64url_decode(present_sd_jwt(held, [("given_name",)], key_binding=kb).rsplit("~", 1)[1].split(".")[0])
    assert header == json_dumps({"typ": TYP_KB_JWT, "alg": "ES256"}).encode()


# --- validity period: integer fast path against the datetime rule --------------------------------


def _verify_with(issuer_key: PrivateJwk, **times: int) -> None:
    issued = issue_sd_jwt({"iss": "https://hr.example", **times}, key=issuer_key)
    verify_sd_jwt(issued.compact, issuer_key=issuer_key.public, kb=None, now=NOW)


def _second(offset: float) -> int:
    """The whole second ``offset`` seconds from NOW, rounded down."""
    return int((NOW + timedelta(seconds=offset)).timestamp() // 1)


@pytest.mark.parametrize(
    ("times", "error"),
    [
        ({"exp": _second(-SKEW)}, CredentialExpired),  # now - skew >= exp
        ({"exp": _second(-SKEW) + 1}, None),
        ({"nbf": _second(SKEW)}, None),  # now + skew >= nbf
        ({"nbf": _second(SKEW) + 1}, CredentialNotYetValid),
        ({"iat": _second(SKEW)}, None),
        ({"iat": _second(SKEW) + 1}, CredentialNotYetValid),
        ({"exp": _second(3600), "nbf": _second(-3600), "iat": _second(-3600)}, None),
        ({"exp": 253402300799}, None),  # 9999-12-31T23:59:59Z, the last second the fast path takes
        ({"exp": 253402300800}, MalformedSdJwt),  # year 10000: the datetime path decides
        ({"exp": 10**20}, MalformedSdJwt),
        ({"exp": -1}, CredentialExpired),
    ],
)
def test_validity_boundaries(issuer_key: PrivateJwk, times: dict[str, int], error: type[Exception] | None) -> None:
    if error is None:
        _verify_with(issuer_key, **times)
    else:
        with pytest.raises(error):
            _verify_with(issuer_key, **times)


# --- ECDSA framing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_ecdsa_round_trips_and_refuses_other_lengths(alg: Algorithm) -> None:
    key = generate_key(alg)
    jws = jose.parse_compact(jose.sign_compact({"typ": "t"}, {"a": 1}, key), typ="t")
    jose.verify_signature(jws, key.public)
    size = {"ES256": 32, "ES384": 48, "ES512": 66}[alg]
    assert len(jws.signature) == 2 * size
    for signature in (jws.signature[:-1], jws.signature + b"\x00", bytes([jws.signature[0] ^ 1]) + jws.signature[1:]):
        tampered = jose.CompactJws(jws.header, jws.payload, jws.signing_input, signature)
        with pytest.raises(InvalidSignature):
            jose.verify_signature(tampered, key.public)
