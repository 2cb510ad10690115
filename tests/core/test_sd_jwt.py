"""SD-JWT issuer, holder and verifier roles (RFC 9901) on realistic credentials."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tsunagu.errors import ClaimNotFound, KbJwtMissing, ReservedClaimName, UnsupportedHashAlgorithm
from tsunagu.jwk import PrivateJwk
from tsunagu.kb_jwt import KbExpectation, KeyBindingRequest
from tsunagu.sd_jwt.compact import parse_sd_jwt
from tsunagu.sd_jwt.holder import decode_sd_jwt, present_sd_jwt, select_disclosures
from tsunagu.sd_jwt.issuer import issue_sd_jwt
from tsunagu.sd_jwt.verifier import verify_sd_jwt

EMPLOYMENT: dict[str, Any] = {
    "iss": "https://hr.sakura-logistics.example",
    "employee_name": "NGUYEN THI MAI",
    "birthdate": "1994-03-12",
    "employer_name": "さくら物流株式会社",
    "job_title": "Logistics Planner",
    "employment_type": "regular",
    "annual_salary": 4_800_000,
    "work_location": {"prefecture": "東京都", "city": "江東区"},
    "languages": ["vi", "ja", "en"],
}
DISCLOSABLE = [
    ("employee_name",),
    ("birthdate",),
    ("employer_name",),
    ("job_title",),
    ("annual_salary",),
    ("work_location",),
    ("work_location", "city"),
    ("languages", None),
]
VERIFIER = "x509_san_dns:landlord.example"


def _issue(issuer_key: PrivateJwk, holder_key: PrivateJwk, **kwargs: Any) -> str:
    claims = {**EMPLOYMENT, "cnf": {"jwk": holder_key.public.to_jwk()}}
    return issue_sd_jwt(claims, key=issuer_key, selectively_disclosable=DISCLOSABLE, **kwargs).compact


def _present(held: str, holder_key: PrivateJwk, paths: list[tuple[Any, ...]], now: datetime) -> str:
    return present_sd_jwt(held, paths, key_binding=KeyBindingRequest(holder_key, VERIFIER, "n-0S6_WzA2Mj", now))


def test_issued_payload_hides_every_disclosable_claim(issuer_key: PrivateJwk, holder_key: PrivateJwk) -> None:
    issued = issue_sd_jwt(
        {**EMPLOYMENT, "cnf": {"jwk": holder_key.public.to_jwk()}}, key=issuer_key, selectively_disclosable=DISCLOSABLE
    )
    assert set(issued.payload) == {"iss", "employment_type", "languages", "cnf", "_sd", "_sd_alg"}
    assert issued.payload["_sd_alg"] == "sha-256"
    assert len(issued.payload["_sd"]) == 6
    assert issued.payload["_sd"] == sorted(issued.payload["_sd"])
    assert all(set(element) == {"..."} for element in issued.payload["languages"])
    assert decode_sd_jwt(issued.compact).claims == {**EMPLOYMENT, "cnf": {"jwk": holder_key.public.to_jwk()}}


def test_salts_are_128_bit_and_unique(issuer_key: PrivateJwk, holder_key: PrivateJwk) -> None:
    disclosures = decode_sd_jwt(_issue(issuer_key, holder_key)).disclosures
    salts = [d.salt for d in disclosures]
    assert len(set(salts)) == len(salts) == 10  # 6 top-level, city, 3 languages
    assert all(len(salt) == 22 for salt in salts)  # 16 bytes in base64url


def test_decoys_are_added_and_never_resolve(issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime) -> None:
    held = _issue(issuer_key, holder_key, decoys=3)
    decoded = decode_sd_jwt(held)
    assert len(decoded.payload["_sd"]) == 6 + 3
    assert len(decoded.payload["languages"]) == 3 + 3
    verified = verify_sd_jwt(held, issuer_key=issuer_key.public, kb=None, now=now)
    assert verified.claims["languages"] == ["vi", "ja", "en"]


def test_holder_discloses_exactly_the_chosen_claims(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime
) -> None:
    held = _issue(issuer_key, holder_key)
    presentation = _present(held, holder_key, [("employer_name",), ("job_title",), ("annual_salary",)], now)
    verified = verify_sd_jwt(
        presentation, issuer_key=issuer_key.public, kb=KbExpectation(nonce="n-0S6_WzA2Mj", aud=VERIFIER), now=now
    )
    assert verified.claims == {
        "iss": EMPLOYMENT["iss"],
        "employer_name": "さくら物流株式会社",
        "job_title": "Logistics Planner",
        "annual_salary": 4_800_000,
        "employment_type": "regular",
        "languages": [],
        "cnf": {"jwk": holder_key.public.to_jwk()},
    }
    assert verified.key_binding is not None and verified.key_binding.aud == VERIFIER


def test_nested_claim_brings_its_parent_disclosure(issuer_key: PrivateJwk, holder_key: PrivateJwk) -> None:
    decoded = decode_sd_jwt(_issue(issuer_key, holder_key))
    chosen = select_disclosures(decoded, [("work_location", "city")])
    assert sorted(d.name for d in chosen if d.name) == ["city", "work_location"]
    assert len(chosen) == 2


def test_naming_an_object_discloses_everything_beneath(issuer_key: PrivateJwk, holder_key: PrivateJwk) -> None:
    decoded = decode_sd_jwt(_issue(issuer_key, holder_key))
    assert {d.name for d in select_disclosures(decoded, [("work_location",)])} == {"work_location", "city"}


def test_parent_alone_keeps_the_nested_claim_hidden(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime
) -> None:
    held = decode_sd_jwt(_issue(issuer_key, holder_key))
    parent_only = [d for d in held.disclosures if d.name == "work_location"]
    presentation = held.sd_jwt.issuer_jwt + "~" + parent_only[0].encoded + "~"
    verified = verify_sd_jwt(presentation, issuer_key=issuer_key.public, kb=None, now=now)
    assert verified.claims["work_location"] == {"prefecture": "東京都"}


@pytest.mark.parametrize(
    ("paths", "languages"),
    [([("languages", None)], ["vi", "ja", "en"]), ([("languages", 1)], ["ja"]), ([], [])],
    ids=["all-elements", "one-element", "none"],
)
def test_array_elements_are_disclosed_individually(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime, paths: list[tuple[Any, ...]], languages: list[str]
) -> None:
    held = _issue(issuer_key, holder_key)
    presentation = present_sd_jwt(held, paths)
    verified = verify_sd_jwt(presentation, issuer_key=issuer_key.public, kb=None, now=now)
    assert verified.claims["languages"] == languages


@pytest.mark.parametrize(
    "path", [("nationality",), ("work_location", "street"), ("languages", 7), ("employee_name", "first")]
)
def test_disclosing_a_claim_that_is_not_there_is_an_error(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, path: tuple[Any, ...]
) -> None:
    with pytest.raises(ClaimNotFound):
        present_sd_jwt(_issue(issuer_key, holder_key), [path])


def test_plain_claims_need_no_disclosure(issuer_key: PrivateJwk, holder_key: PrivateJwk) -> None:
    decoded = decode_sd_jwt(_issue(issuer_key, holder_key))
    assert select_disclosures(decoded, [("employment_type",), ("iss",)]) == ()


def test_presentation_without_kb_ends_with_tilde(issuer_key: PrivateJwk, holder_key: PrivateJwk) -> None:
    presentation = present_sd_jwt(_issue(issuer_key, holder_key), [("job_title",)])
    assert presentation.endswith("~")
    assert parse_sd_jwt(presentation).kb_jwt is None


def test_kb_required_but_absent(issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime) -> None:
    presentation = present_sd_jwt(_issue(issuer_key, holder_key), [("job_title",)])
    with pytest.raises(KbJwtMissing):
        verify_sd_jwt(presentation, issuer_key=issuer_key.public, kb=KbExpectation("n", VERIFIER), now=now)


def test_kb_present_but_not_required_is_still_checked(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime
) -> None:
    presentation = _present(_issue(issuer_key, holder_key), holder_key, [("job_title",)], now)
    verified = verify_sd_jwt(presentation, issuer_key=issuer_key.public, kb=None, now=now + timedelta(minutes=1))
    assert verified.key_binding is not None and verified.key_binding.nonce == "n-0S6_WzA2Mj"


@pytest.mark.parametrize("hash_alg", ["sha-256", "sha-384", "sha-512", "sha3-256"])
def test_every_supported_hash_algorithm(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime, hash_alg: str
) -> None:
    held = _issue(issuer_key, holder_key, hash_alg=hash_alg)
    presentation = _present(held, holder_key, [("job_title",)], now)
    verified = verify_sd_jwt(
        presentation, issuer_key=issuer_key.public, kb=KbExpectation("n-0S6_WzA2Mj", VERIFIER), now=now
    )
    assert verified.payload["_sd_alg"] == hash_alg
    assert verified.claims["job_title"] == "Logistics Planner"


def test_issuer_refuses_unknown_hash_and_reserved_names(issuer_key: PrivateJwk) -> None:
    with pytest.raises(UnsupportedHashAlgorithm):
        issue_sd_jwt({"a": 1}, key=issuer_key, hash_alg="md5")
    with pytest.raises(ReservedClaimName):
        issue_sd_jwt({"_sd": [1]}, key=issuer_key)
    with pytest.raises(ClaimNotFound):
        issue_sd_jwt({"a": 1}, key=issuer_key, selectively_disclosable=[("b",)])


def test_deterministic_salts_give_reproducible_disclosures(issuer_key: PrivateJwk) -> None:
    counter = iter(range(100))

    def salt() -> bytes:
        return next(counter).to_bytes(16, "big")

    issued = issue_sd_jwt({"a": "x"}, key=issuer_key, selectively_disclosable=[("a",)], salt=salt)
    assert issued.disclosures[0].encoded == "WyJBQUFBQUFBQUFBQUFBQUFBQUFBQUFBIiwiYSIsIngiXQ"
