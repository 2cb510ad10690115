"""tsunagu.status_list: the draft's vectors, bit order, bounds, hostile input, token rules."""

from __future__ import annotations

import functools
import gzip
import hashlib
import hmac
import json
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu import jose
from tsunagu.encoding import b64url_decode, b64url_encode
from tsunagu.errors import (
    InvalidStatusReference,
    MalformedJws,
    MalformedStatusList,
    StatusIndexOutOfRange,
    StatusListSignatureInvalid,
    StatusListSubjectMismatch,
    StatusListTokenExpired,
    StatusListTokenInvalid,
    StatusListTooLarge,
    StatusValueOutOfRange,
    TsunaguError,
    UnexpectedTyp,
    UnsupportedAlgorithm,
    UnsupportedCriticalHeader,
)
from tsunagu.jwk import PrivateJwk, generate_key, parse_public_jwk
from tsunagu.status_list import (
    INVALID,
    SUSPENDED,
    TYP_STATUSLIST_JWT,
    VALID,
    Bits,
    StatusList,
    StatusListToken,
    StatusReference,
    decode_status_list,
    encode_status_list,
    issue_status_list_token,
    parse_status_claim,
    status_list_token_claims,
    status_list_token_signing_input,
    status_of,
    verify_status_list_token,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "status_list"
LIST_VECTORS = sorted(VECTORS.glob("*.json"))
ALL_BITS: tuple[Bits, ...] = (1, 2, 4, 8)
MiB = 1 << 20
URI = "https://issuer.test/statuslists/1"
NOW = datetime(2026, 7, 1, 9, 30, tzinfo=timezone.utc)
ISSUER = generate_key("ES256", kid="status-2026")


def load(vector: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(vector.read_text())
    case["expected"] = {int(i): v for i, v in case["expected"].items()}
    return case


# --- the draft's vectors (§4.1, §4.2, Appendix C, §8.2) ------------------------------------------


def test_there_are_vectors() -> None:
    assert [p.stem for p in LIST_VECTORS] == [
        "appendix_c1_1bit", "appendix_c2_2bit", "appendix_c3_4bit", "appendix_c4_8bit",
        "section_4_1_1bit_16_entries", "section_4_1_2bit_12_entries",
    ]


@pytest.mark.parametrize("vector", LIST_VECTORS, ids=lambda p: p.stem)
def test_status_list_vector_decodes(vector: Path) -> None:
    case = load(vector)
    lst = decode_status_list({"bits": case["bits"], "lst": case["lst"]}, max_bytes=MiB)
    assert {i: lst.get(i) for i in case["expected"]} == case["expected"]
    assert lst.non_valid() == {i: v for i, v in case["expected"].items() if v}  # the rest are VALID
    assert (lst.bits, lst.size) == (case["bits"], case["size"])
    if "byte_array" in case:
        assert lst.to_bytes() == bytes.fromhex(case["byte_array"])
        assert b64url_decode(case["lst"]) == bytes.fromhex(case["compressed_hex"])


@pytest.mark.parametrize("vector", LIST_VECTORS, ids=lambda p: p.stem)
def test_status_list_vector_encodes(vector: Path) -> None:
    """Building the listed statuses gives the draft's list; the lst text may differ between zlib builds."""
    case = load(vector)
    built = StatusList.new(case["size"], case["bits"])
    for idx, value in case["expected"].items():
        built.set(idx, value)
    if "byte_array" in case:
        assert built.to_bytes() == bytes.fromhex(case["byte_array"])
    assert decode_status_list(encode_status_list(built), max_bytes=MiB) == decode_status_list(
        {"bits": case["bits"], "lst": case["lst"]}, max_bytes=MiB)


def test_status_list_token_from_the_draft_verifies() -> None:
    case = json.loads((VECTORS / "tokens" / "section_8_2_jwt.json").read_text())
    jws = jose.parse_compact(case["token"], typ=TYP_STATUSLIST_JWT)
    assert (dict(jws.header), dict(jws.payload)) == (case["expected_header"], case["expected_claims"])
    token = verify_status_list_token(case["token"], key=parse_public_jwk(case["public_jwk"]),
                                     expected_sub="https://example.com/statuslists/1", now=NOW, max_bytes=MiB)
    assert token.status_list.non_valid() == {int(i): v for i, v in case["expected_non_valid"].items()}
    assert (token.iat, token.exp, token.ttl) == (
        datetime(2023, 6, 16, 12, 56, 10, tzinfo=timezone.utc), datetime(2042, 8, 15, 12, 56, 10, tzinfo=timezone.utc),
        43200)


# --- bit order, get/set, bounds --------------------------------------------------------------------


@pytest.mark.parametrize(("bits", "idx", "value", "expected_bytes"), [
    (1, 0, 1, "0100"), (1, 7, 1, "8000"), (1, 8, 1, "0001"),
    (2, 0, 3, "0300"), (2, 3, 1, "4000"), (2, 4, 2, "0002"),
    (4, 0, 0xA, "0a00"), (4, 1, 0xA, "a000"), (4, 3, 0xF, "00f0"),
    (8, 1, 0xC9, "00c9"),
])
def test_index_zero_is_the_least_significant_bits_of_byte_zero(bits: Bits, idx: int, value: int,
                                                               expected_bytes: str) -> None:
    status_list = StatusList.new(16 // bits, bits)
    status_list.set(idx, value)
    assert status_list.to_bytes().hex() == expected_bytes


@pytest.mark.parametrize("bits", ALL_BITS)
def test_every_value_at_every_position_of_a_byte(bits: Bits) -> None:
    per_byte = 8 // bits
    for value in range(1 << bits):
        for idx in range(per_byte, 2 * per_byte):
            status_list = StatusList.new(3 * per_byte, bits)
            status_list.set(idx, value)
            assert [status_list.get(i) for i in range(status_list.size)] == [
                value if i == idx else VALID for i in range(3 * per_byte)]
            status_list.set(idx, VALID)
            assert status_list.to_bytes() == bytes(3)


@pytest.mark.parametrize("bits", ALL_BITS)
def test_round_trip_keeps_size_padding_valid(bits: Bits) -> None:
    status_list = StatusList.new(1001, bits)
    status_list.set(1000, INVALID)
    decoded = decode_status_list(encode_status_list(status_list), max_bytes=MiB)
    assert decoded.size == len(status_list.to_bytes()) * 8 // bits  # the wire carries no size
    assert decoded.non_valid() == {1000: INVALID}


@pytest.mark.parametrize("bits", ALL_BITS)
@pytest.mark.parametrize("idx", [-1, 100, 10**30, True, 1.0, "0"])
def test_index_outside_the_list_is_refused(bits: Bits, idx: Any) -> None:
    status_list = StatusList.new(100, bits)
    with pytest.raises(StatusIndexOutOfRange):
        status_list.get(idx)
    with pytest.raises(StatusIndexOutOfRange):
        status_list.set(idx, VALID)
    with pytest.raises(StatusIndexOutOfRange):
        status_of(status_list, idx)


@pytest.mark.parametrize("bits", ALL_BITS)
@pytest.mark.parametrize("value", ["too_big", -1, True, 1.0, None])
def test_value_that_does_not_fit_the_bits_is_refused(bits: Bits, value: Any) -> None:
    status_list = StatusList.new(8, bits)
    with pytest.raises(StatusValueOutOfRange):
        status_list.set(3, 1 << bits if value == "too_big" else value)
    assert status_list.to_bytes() == bytes(len(status_list.to_bytes()))


@pytest.mark.parametrize(("size", "bits"), [(0, 1), (-8, 1), (True, 1), (8.0, 1), (8, 3), (8, 0), (8, 16), (8, 2.0)])
def test_new_refuses_impossible_lists(size: Any, bits: Any) -> None:
    with pytest.raises(MalformedStatusList):
        StatusList.new(size, bits)


def test_entries_past_the_size_are_not_statuses() -> None:
    status_list = StatusList(b"\xff\xff", 1, size=12)  # a stored byte array with junk in the padding
    assert status_list.non_valid() == {i: INVALID for i in range(12)}
    with pytest.raises(StatusIndexOutOfRange):
        status_list.get(12)


@pytest.mark.parametrize(("data", "size"), [(b"", None), (b"\x00", 9), (b"\x00\x00", 8), (b"\x00", 0)])
def test_byte_array_must_match_the_size(data: bytes, size: int | None) -> None:
    with pytest.raises(MalformedStatusList):
        StatusList(data, 1, size=size)


def test_aggregation_uri_is_carried_through() -> None:
    status_list = StatusList.new(8, 1, aggregation_uri="https://issuer.test/statuslists")
    obj = encode_status_list(status_list)
    assert obj["aggregation_uri"] == "https://issuer.test/statuslists"
    assert decode_status_list(obj, max_bytes=MiB).aggregation_uri == "https://issuer.test/statuslists"


@pytest.mark.parametrize("bits", ALL_BITS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_any_statuses_round_trip(bits: Bits, data: st.DataObject) -> None:
    statuses = data.draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=1, max_size=3000))
    status_list = StatusList.new(len(statuses), bits)
    for idx, value in enumerate(statuses):
        status_list.set(idx, value)
    decoded = decode_status_list(encode_status_list(status_list), max_bytes=MiB)
    assert [decoded.get(i) for i in range(decoded.size)] == statuses + [VALID] * (decoded.size - len(statuses))
    assert decoded.non_valid() == {i: v for i, v in enumerate(statuses) if v}


# --- hostile status lists --------------------------------------------------------------------------


def zlib_zeros(mebibytes: int) -> bytes:
    """A valid ZLIB stream of ``mebibytes`` MiB of zeros, built without ever holding them in memory.

    After a full flush the compressor has no history, so every further MiB compresses to the same
    bytes; the stream ends with an empty final block and the Adler-32 of the whole.
    """
    chunk = bytes(MiB)
    compressor = zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(mebibytes):
        adler = zlib.adler32(chunk, adler)
    return first + repeat * (mebibytes - 1) + b"\x03\x00" + adler.to_bytes(4, "big")


@functools.cache
def gigabyte_bomb() -> dict[str, Any]:
    return {"bits": 1, "lst": b64url_encode(zlib_zeros(1024))}


def test_the_bomb_builder_makes_valid_streams() -> None:
    """So that the bomb below is refused for its size, not for being broken."""
    assert zlib.decompress(zlib_zeros(3)) == bytes(3 * MiB)
    lst = decode_status_list({"bits": 8, "lst": b64url_encode(zlib_zeros(2))}, max_bytes=2 * MiB)
    assert (lst.size, lst.non_valid()) == (2 * MiB, {})


def test_gigabyte_zip_bomb_is_refused() -> None:
    bomb = gigabyte_bomb()
    assert len(bomb["lst"]) < 2 * MiB  # about 1.4 MB of text that would inflate to 1 GiB
    with pytest.raises(StatusListTooLarge):
        decode_status_list(bomb, max_bytes=MiB)


def test_max_bytes_is_exact() -> None:
    obj = encode_status_list(StatusList.new(8 * 1000, 1))  # 1000 bytes
    assert decode_status_list(obj, max_bytes=1000).size == 8000
    with pytest.raises(StatusListTooLarge):
        decode_status_list(obj, max_bytes=999)


def _z(data: bytes) -> str:
    return b64url_encode(zlib.compress(data, 9))


def _raw_deflate(data: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return b64url_encode(compressor.compress(data) + compressor.flush())


_SPEC = zlib.compress(bytes.fromhex("b9a3"), 9)

HOSTILE_LISTS: list[tuple[str, Callable[[], object], type[TsunaguError]]] = [
    ("bad_base64", lambda: {"bits": 1, "lst": "eNrb+RgAAhcBXQ"}, MalformedStatusList),
    ("base64_padding", lambda: {"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}, MalformedStatusList),
    ("non_ascii_lst", lambda: {"bits": 1, "lst": "eNrbuRgAAhcBXQé"}, MalformedStatusList),
    ("not_zlib", lambda: {"bits": 1, "lst": b64url_encode(b"status: all fine")}, MalformedStatusList),
    ("raw_deflate", lambda: {"bits": 1, "lst": _raw_deflate(b"\xb9\xa3")}, MalformedStatusList),
    ("gzip", lambda: {"bits": 1, "lst": b64url_encode(gzip.compress(b"\xb9\xa3"))}, MalformedStatusList),
    ("trailing_garbage", lambda: {"bits": 1, "lst": b64url_encode(_SPEC + b"\x00")}, MalformedStatusList),
    ("second_stream", lambda: {"bits": 1, "lst": b64url_encode(_SPEC + _SPEC)}, MalformedStatusList),
    ("truncated", lambda: {"bits": 1, "lst": b64url_encode(_SPEC[:-4])}, MalformedStatusList),
    ("bad_checksum", lambda: {"bits": 1, "lst": b64url_encode(_SPEC[:-1] + b"\x00")}, MalformedStatusList),
    ("empty_list", lambda: {"bits": 1, "lst": _z(b"")}, MalformedStatusList),
    ("bits_3", lambda: {"bits": 3, "lst": _z(b"\x00")}, MalformedStatusList),
    ("bits_16", lambda: {"bits": 16, "lst": _z(b"\x00")}, MalformedStatusList),
    ("bits_string", lambda: {"bits": "1", "lst": _z(b"\x00")}, MalformedStatusList),
    ("bits_true", lambda: {"bits": True, "lst": _z(b"\x00")}, MalformedStatusList),
    ("bits_float", lambda: {"bits": 1.0, "lst": _z(b"\x00")}, MalformedStatusList),
    ("bits_missing", lambda: {"lst": _z(b"\x00")}, MalformedStatusList),
    ("lst_missing", lambda: {"bits": 1}, MalformedStatusList),
    ("lst_bytes", lambda: {"bits": 1, "lst": zlib.compress(b"\x00")}, MalformedStatusList),
    ("aggregation_uri_not_string", lambda: {"bits": 1, "lst": _z(b"\x00"), "aggregation_uri": 7}, MalformedStatusList),
    ("not_an_object", lambda: [1, _z(b"\x00")], MalformedStatusList),
    ("gigabyte_bomb", gigabyte_bomb, StatusListTooLarge),
]


@pytest.mark.parametrize(("mutation", "error"), [(m, e) for _, m, e in HOSTILE_LISTS],
                         ids=[name for name, _, _ in HOSTILE_LISTS])
def test_hostile_status_list_is_refused(mutation: Callable[[], object], error: type[TsunaguError]) -> None:
    with pytest.raises(error):
        decode_status_list(mutation(), max_bytes=MiB)


# --- status reference in a credential (§6.2) -------------------------------------------------------


def test_status_claim_parses() -> None:
    claim = {"status_list": {"idx": 0, "uri": "https://example.com/statuslists/1", "future": True}, "other": {}}
    assert parse_status_claim(claim) == StatusReference(idx=0, uri="https://example.com/statuslists/1")


@pytest.mark.parametrize("claim", [
    None, "https://example.com/statuslists/1", {}, {"status_list": []},
    {"status_list": {"uri": URI}}, {"status_list": {"idx": -1, "uri": URI}}, {"status_list": {"idx": True, "uri": URI}},
    {"status_list": {"idx": 1.0, "uri": URI}}, {"status_list": {"idx": "1", "uri": URI}},
    {"status_list": {"idx": 1}}, {"status_list": {"idx": 1, "uri": ""}}, {"status_list": {"idx": 1, "uri": 7}},
    {"status_list": {"idx": 1, "uri": "/statuslists/1"}}, {"status_list": {"idx": 1, "uri": "issuer.test/lists/1"}},
    {"status_list": {"idx": 1, "uri": "https://issuer.test/status lists/1"}},
    {"status_list": {"idx": 1, "uri": "https://発行者.test/1"}},
], ids=lambda c: json.dumps(c, ensure_ascii=True)[:60])
def test_malformed_status_claim_is_refused(claim: object) -> None:
    with pytest.raises(InvalidStatusReference):
        parse_status_claim(claim)


# --- status list tokens (§5.1, §8.3) ---------------------------------------------------------------


def a_list() -> StatusList:
    status_list = StatusList.new(1024, 2)
    status_list.set(5, INVALID)
    status_list.set(6, SUSPENDED)
    return status_list


def test_issue_and_verify() -> None:
    token = issue_status_list_token(a_list(), key=ISSUER, sub=URI, iat=NOW - timedelta(minutes=5),
                                    exp=NOW + timedelta(hours=1), ttl=600)
    jws = jose.parse_compact(token, typ=TYP_STATUSLIST_JWT)
    assert dict(jws.header) == {"alg": "ES256", "typ": "statuslist+jwt", "kid": "status-2026"}
    assert set(jws.payload) == {"sub", "iat", "exp", "ttl", "status_list"}
    verified = verify_status_list_token(token, key=ISSUER.public, expected_sub=URI, now=NOW, max_bytes=MiB)
    assert verified == StatusListToken(sub=URI, iat=NOW - timedelta(minutes=5), exp=NOW + timedelta(hours=1),
                                       ttl=600, status_list=a_list())
    assert [status_of(verified, i) for i in (4, 5, 6)] == [VALID, INVALID, SUSPENDED]


def test_split_signing_matches_issue() -> None:
    claims = status_list_token_claims(a_list(), sub=URI, iat=NOW)
    assert claims == {"sub": URI, "iat": int(NOW.timestamp()), "status_list": encode_status_list(a_list())}
    data = status_list_token_signing_input(claims, alg=ISSUER.alg, kid="k1")
    token = jose.assemble(data, jose.sign(data, ISSUER))
    assert verify_status_list_token(token, key=ISSUER.public, expected_sub=URI, now=NOW, max_bytes=MiB).exp is None


def test_key_resolver_sees_the_header_and_payload() -> None:
    seen: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []

    def resolver(header: Mapping[str, Any], payload: Mapping[str, Any]) -> Any:
        seen.append((header, payload))
        return ISSUER.public

    token = issue_status_list_token(a_list(), key=ISSUER, sub=URI, iat=NOW, exp=None, ttl=None)
    verify_status_list_token(token, key=resolver, expected_sub=URI, now=NOW, max_bytes=MiB)
    assert [(h["kid"], p["sub"]) for h, p in seen] == [("status-2026", URI)]


@pytest.mark.parametrize(("exp_offset", "expired"), [(timedelta(seconds=-59), False), (timedelta(seconds=-60), True)])
def test_expiry_allows_the_clock_skew_and_no_more(exp_offset: timedelta, expired: bool) -> None:
    token = issue_status_list_token(a_list(), key=ISSUER, sub=URI, iat=NOW - timedelta(hours=1),
                                    exp=NOW + exp_offset, ttl=None)
    if expired:
        with pytest.raises(StatusListTokenExpired, match="expired at 2026-07-01T09:29:00"):
            verify_status_list_token(token, key=ISSUER.public, expected_sub=URI, now=NOW, max_bytes=MiB)
    else:
        verify_status_list_token(token, key=ISSUER.public, expected_sub=URI, now=NOW, max_bytes=MiB)


def test_ttl_written_as_a_float_is_the_same_number() -> None:
    claims = status_list_token_claims(a_list(), sub=URI, iat=NOW) | {"ttl": 43200.0}
    token = jose.sign_compact({"typ": TYP_STATUSLIST_JWT}, claims, ISSUER)
    assert verify_status_list_token(token, key=ISSUER.public, expected_sub=URI, now=NOW, max_bytes=MiB).ttl == 43200


@pytest.mark.parametrize("kwargs", [
    {"sub": "statuslists/1"}, {"sub": ""}, {"exp": NOW}, {"exp": NOW - timedelta(seconds=1)},
    {"ttl": 0}, {"ttl": -5}, {"ttl": 1.5}, {"ttl": True},
])
def test_issuing_refuses_a_token_no_verifier_would_accept(kwargs: dict[str, Any]) -> None:
    with pytest.raises(StatusListTokenInvalid):
        status_list_token_claims(a_list(), **({"sub": URI, "iat": NOW} | kwargs))


def test_naive_datetimes_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        status_list_token_claims(a_list(), sub=URI, iat=NOW.replace(tzinfo=None))
    token = issue_status_list_token(a_list(), key=ISSUER, sub=URI, iat=NOW, exp=None, ttl=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_status_list_token(token, key=ISSUER.public, expected_sub=URI, now=NOW.replace(tzinfo=None), max_bytes=MiB)


DELETE = object()
OTHER_KEY = generate_key("ES256")


def _signed(header: Mapping[str, Any] | None = None, claims: Mapping[str, Any] | None = None,
            key: PrivateJwk = ISSUER) -> str:
    base_claims = status_list_token_claims(a_list(), sub=URI, iat=NOW - timedelta(minutes=1),
                                           exp=NOW + timedelta(hours=1), ttl=300)
    full_header = {"alg": key.alg, "kid": key.kid, "typ": TYP_STATUSLIST_JWT, **(header or {})}
    full_claims = {**base_claims, **(claims or {})}
    data = jose.signing_input({k: v for k, v in full_header.items() if v is not DELETE},
                              {k: v for k, v in full_claims.items() if v is not DELETE})
    return jose.assemble(data, jose.sign(data, key))


def _alg_none() -> str:
    return jose.signing_input({"alg": "none", "typ": TYP_STATUSLIST_JWT},
                              status_list_token_claims(a_list(), sub=URI, iat=NOW)).decode() + "."


def _hs256_with_the_public_key() -> str:
    """The algorithm-confusion attack: an HMAC keyed with the issuer's public key bytes."""
    data = jose.signing_input({"alg": "HS256", "typ": TYP_STATUSLIST_JWT}, status_list_token_claims(a_list(), sub=URI, iat=NOW))
    secret = json.dumps(ISSUER.public.to_jwk()).encode()
    return jose.assemble(data, hmac.new(secret, data, hashlib.sha256).digest())


def _list_swapped() -> str:
    """A valid signature over another payload: the 'nothing is revoked' forgery."""
    header, _, signature = _signed().split(".")
    _, forged_payload, _ = _signed(claims={"status_list": encode_status_list(StatusList.new(1024, 2))}).split(".")
    return f"{header}.{forged_payload}.{signature}"


HOSTILE_TOKENS: list[tuple[str, Callable[[], str], type[TsunaguError]]] = [
    ("typ_JWT", lambda: _signed(header={"typ": "JWT"}), UnexpectedTyp),
    ("typ_missing", lambda: _signed(header={"typ": DELETE}), UnexpectedTyp),
    ("typ_application_media_type", lambda: _signed(header={"typ": "application/statuslist+jwt"}), UnexpectedTyp),
    ("alg_none", _alg_none, UnsupportedAlgorithm),
    ("alg_HS256_public_key_as_secret", _hs256_with_the_public_key, UnsupportedAlgorithm),
    ("unknown_crit", lambda: _signed(header={"crit": ["urn:x"], "urn:x": 1}), UnsupportedCriticalHeader),
    ("not_a_jws", lambda: "eyJhbGciOiJFUzI1NiJ9.e30", MalformedJws),
    ("wrong_signing_key", lambda: _signed(key=OTHER_KEY), StatusListSignatureInvalid),
    ("list_swapped_under_the_signature", _list_swapped, StatusListSignatureInvalid),
    ("sub_mismatch", lambda: _signed(claims={"sub": "https://issuer.test/statuslists/2"}), StatusListSubjectMismatch),
    ("sub_missing", lambda: _signed(claims={"sub": DELETE}), StatusListTokenInvalid),
    ("expired", lambda: _signed(claims={"iat": int(NOW.timestamp()) - 7200, "exp": int(NOW.timestamp()) - 3600}),
     StatusListTokenExpired),
    ("iat_missing", lambda: _signed(claims={"iat": DELETE}), StatusListTokenInvalid),
    ("iat_string", lambda: _signed(claims={"iat": "2026-07-01"}), StatusListTokenInvalid),
    ("iat_in_the_future", lambda: _signed(claims={"iat": int(NOW.timestamp()) + 3600}), StatusListTokenInvalid),
    ("iat_absurd", lambda: _signed(claims={"iat": 10**20}), StatusListTokenInvalid),
    ("nbf_in_the_future", lambda: _signed(claims={"nbf": int(NOW.timestamp()) + 3600}), StatusListTokenInvalid),
    ("exp_not_a_number", lambda: _signed(claims={"exp": "tomorrow"}), StatusListTokenInvalid),
    ("ttl_zero", lambda: _signed(claims={"ttl": 0}), StatusListTokenInvalid),
    ("ttl_negative", lambda: _signed(claims={"ttl": -300}), StatusListTokenInvalid),
    ("ttl_string", lambda: _signed(claims={"ttl": "300"}), StatusListTokenInvalid),
    ("status_list_missing", lambda: _signed(claims={"status_list": DELETE}), StatusListTokenInvalid),
    ("status_list_bits_3", lambda: _signed(claims={"status_list": {"bits": 3, "lst": _z(b"\x00")}}),
     MalformedStatusList),
    ("status_list_zip_bomb", lambda: _signed(claims={"status_list": {"bits": 1, "lst": b64url_encode(zlib_zeros(64))}}),
     StatusListTooLarge),
]


@pytest.mark.parametrize(("mutation", "error"), [(m, e) for _, m, e in HOSTILE_TOKENS],
                         ids=[name for name, _, _ in HOSTILE_TOKENS])
def test_hostile_status_list_token_is_refused(mutation: Callable[[], str], error: type[TsunaguError]) -> None:
    with pytest.raises(error):
        verify_status_list_token(mutation(), key=ISSUER.public, expected_sub=URI, now=NOW, max_bytes=MiB)


def test_the_unmutated_token_of_the_hostile_table_verifies() -> None:
    """Each row above fails for its mutation alone."""
    assert verify_status_list_token(_signed(), key=ISSUER.public, expected_sub=URI, now=NOW, max_bytes=MiB).ttl == 300


def test_failures_explain_themselves() -> None:
    with pytest.raises(StatusListSubjectMismatch) as mismatch:
        verify_status_list_token(_signed(), key=ISSUER.public, expected_sub="https://issuer.test/statuslists/9",
                                 now=NOW, max_bytes=MiB)
    assert mismatch.value.reason == (
        "the status list token is for 'https://issuer.test/statuslists/1', "
        "but the credential refers to 'https://issuer.test/statuslists/9'")
    with pytest.raises(StatusIndexOutOfRange) as out_of_range:
        status_of(a_list(), 1024)
    assert out_of_range.value.details == {"idx": 1024, "size": 1024}
