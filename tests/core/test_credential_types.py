"""Tsunagu's credential types: claims are checked against the type, and published as OpenID4VCI metadata."""

from __future__ import annotations

from typing import Any

import pytest

from tsunagu import oid4vci
from tsunagu.credential_types import (
    CREDENTIAL_TYPES,
    EMPLOYMENT_CERTIFICATE,
    RESIDENCE_CARD,
    RESIDENT_TAX_CERTIFICATE,
    ClaimTypeMismatch,
    ClaimValueNotAllowed,
    CredentialClaimsError,
    InconsistentClaims,
    MissingClaim,
    UnknownClaim,
    UnknownCredentialType,
    credential_type,
    credential_type_for_vct,
)

EMPLOYMENT: dict[str, Any] = {
    "employee_name": "NGUYEN THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "Viet Nam",
    "employer_name": "Sakura Systems K.K.",
    "employer_corporate_number": "1234567890123",
    "employment_type": "regular",
    "job_title": "Logistics Planner",
    "department": "Planning",
    "employment_start_date": "2021-04-01",
    "annual_income": 4_800_000,
    "social_insurance_enrolled": True,
    "as_of_date": "2026-11-20",
}
TAX: dict[str, Any] = {
    "fiscal_year": 2026,
    "income_year": 2025,
    "municipality": "Shibuya City",
    "total_income": 3_460_000,
    "taxable_income": 2_900_000,
    "resident_tax_amount": 290_000,
    "tax_paid": 290_000,
    "no_arrears": True,
    "unpaid_amount": 0,
}
CARD: dict[str, Any] = {
    "family_name": "NGUYEN",
    "given_name": "THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "Viet Nam",
    "status_of_residence": "Engineer/Specialist in Humanities/International Services",
    "period_of_stay": "5 years",
    "stay_expiry_date": "2029-04-01",
    "card_number": "AB12345678CD",
    "card_expiry_date": "2029-04-01",
    "work_restriction": "none",
}


@pytest.mark.parametrize(
    ("ctype", "claims"), [(EMPLOYMENT_CERTIFICATE, EMPLOYMENT), (RESIDENT_TAX_CERTIFICATE, TAX), (RESIDENCE_CARD, CARD)]
)
def test_realistic_claims_are_accepted_in_definition_order(ctype: Any, claims: dict[str, Any]) -> None:
    shuffled = dict(reversed(list(claims.items())))
    validated = ctype.validate_claims(shuffled)
    assert validated == claims
    assert list(validated) == [n for n in ctype.claim_names if n in claims]


def test_vcts_are_urns_and_types_are_found_both_ways() -> None:
    assert {t.vct for t in CREDENTIAL_TYPES.values()} == {
        "urn:tsunagu:vct:employment-certificate:1",
        "urn:tsunagu:vct:resident-tax-certificate:1",
        "urn:tsunagu:vct:residence-card:1",
    }
    assert credential_type("ResidenceCard") is RESIDENCE_CARD
    assert credential_type_for_vct("urn:tsunagu:vct:residence-card:1") is RESIDENCE_CARD
    assert credential_type_for_vct("https://example.com/pid") is None
    with pytest.raises(UnknownCredentialType):
        credential_type("PassportCredential")


def test_every_claim_has_english_and_japanese_labels() -> None:
    for ctype in CREDENTIAL_TYPES.values():
        for claim in ctype.claims:
            assert claim.label_en.isascii() and claim.label_en
            assert not claim.label_ja.isascii()
    assert EMPLOYMENT_CERTIFICATE.label("annual_income", "ja-JP") == "年収（円）"
    assert EMPLOYMENT_CERTIFICATE.label("annual_income") == "Annual income (JPY)"


def test_configuration_is_openid4vci_metadata_a_wallet_can_read() -> None:
    document = oid4vci.CredentialIssuerMetadata(
        credential_issuer="https://issuer.example/immigration",
        credential_endpoint="https://issuer.example/immigration/credential",
        credential_configurations={"ResidenceCard": RESIDENCE_CARD.to_configuration()},
    ).to_json()
    config = document["credential_configurations_supported"]["ResidenceCard"]
    assert config["format"] == "dc+sd-jwt"
    assert config["cryptographic_binding_methods_supported"] == ["jwk"]
    assert config["proof_types_supported"] == {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}
    assert config["credential_metadata"]["display"][1] == {
        "name": "在留カード",
        "locale": "ja",
        "description": "出入国在留管理庁が発行する、在留資格と在留期間の証明。",
        "background_color": "#5b2a86",
        "text_color": "#ffffff",
    }
    assert config["credential_metadata"]["claims"][7] == {
        "path": ["card_number"],
        "mandatory": True,
        "display": [{"name": "Card number", "locale": "en"}, {"name": "在留カード番号", "locale": "ja"}],
    }
    parsed = oid4vci.parse_credential_issuer_metadata(document, expected_issuer="https://issuer.example/immigration")
    assert parsed.credential_configurations["ResidenceCard"].claim_names("en")[("work_restriction",)] == "Work restriction"


HOSTILE: list[tuple[str, Any, dict[str, Any], type[CredentialClaimsError]]] = [
    ("unknown claim", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "my_number": "123456789012"}, UnknownClaim),
    ("mandatory claim missing", EMPLOYMENT_CERTIFICATE, {k: v for k, v in EMPLOYMENT.items() if k != "employer_name"}, MissingClaim),
    ("mandatory claim null", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "employee_name": None}, MissingClaim),
    ("income as a string", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "annual_income": "4800000"}, ClaimTypeMismatch),
    ("income as a float", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "annual_income": 4.8e6}, ClaimTypeMismatch),
    ("income as a boolean", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "annual_income": True}, ClaimTypeMismatch),
    ("negative income", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "annual_income": -1}, ClaimValueNotAllowed),
    ("boolean as a string", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "social_insurance_enrolled": "yes"}, ClaimTypeMismatch),
    ("date in Japanese era form", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "employment_start_date": "令和3年4月1日"}, ClaimTypeMismatch),
    ("impossible date", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "birthdate": "1994-02-30"}, ClaimTypeMismatch),
    ("date with time", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "as_of_date": "2026-11-20T00:00:00"}, ClaimTypeMismatch),
    ("employment type outside the set", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "employment_type": "freelance"}, ClaimValueNotAllowed),
    ("corporate number too short", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "employer_corporate_number": "12345"}, ClaimValueNotAllowed),
    ("empty string", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "job_title": ""}, ClaimTypeMismatch),
    ("nested object", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "job_title": {"en": "x"}}, ClaimTypeMismatch),
    ("overlong string", EMPLOYMENT_CERTIFICATE, {**EMPLOYMENT, "department": "x" * 300}, ClaimValueNotAllowed),
    ("card number format", RESIDENCE_CARD, {**CARD, "card_number": "ab12345678cd"}, ClaimValueNotAllowed),
    ("work restriction outside the set", RESIDENCE_CARD, {**CARD, "work_restriction": "maybe"}, ClaimValueNotAllowed),
    ("income year not fiscal year - 1", RESIDENT_TAX_CERTIFICATE, {**TAX, "income_year": 2026}, InconsistentClaims),
    ("no arrears yet unpaid", RESIDENT_TAX_CERTIFICATE, {**TAX, "unpaid_amount": 1000}, InconsistentClaims),
]


@pytest.mark.parametrize(("case", "ctype", "claims", "error"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_claims_that_do_not_fit_are_refused(case: str, ctype: Any, claims: dict[str, Any], error: type[CredentialClaimsError]) -> None:
    with pytest.raises(error) as caught:
        ctype.validate_claims(claims)
    assert type(caught.value) is error


def test_claims_must_be_an_object() -> None:
    with pytest.raises(ClaimTypeMismatch):
        EMPLOYMENT_CERTIFICATE.validate_claims(["employee_name"])  # type: ignore[arg-type]
