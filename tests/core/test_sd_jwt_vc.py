"""SD-JWT VC: registered claims, default disclosability, issuer metadata and key resolution."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tsunagu.errors import (
    ClaimNotDisclosable,
    CredentialExpired,
    InvalidIssuerMetadata,
    IssuerKeyNotFound,
    IssuerMismatch,
    VctMissing,
)
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.kb_jwt import KbExpectation, KeyBindingRequest
from tsunagu.sd_jwt.holder import decode_sd_jwt, present_sd_jwt
from tsunagu.sd_jwt.issuer import issue_sd_jwt
from tsunagu.sd_jwt.verifier import VerifyPolicy
from tsunagu.sd_jwt_vc import (
    LEGACY_TYP_VC_SD_JWT,
    TYP_DC_SD_JWT,
    all_claim_paths,
    issue_sd_jwt_vc,
    issuer_key_resolver,
    jwt_vc_issuer_metadata_url,
    parse_issuer_metadata,
    verify_sd_jwt_vc,
)

ISS = "https://immigration.example.go.jp"
VCT = "https://credentials.tsunagu.example/ResidenceCard"
RESIDENCE_CARD: dict[str, Any] = {
    "family_name": "NGUYEN",
    "given_name": "THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "VN",
    "address": {"postal_code": "135-0016", "prefecture": "東京都", "city": "江東区", "street": "東陽3-1-1"},
    "status_of_residence": {"code": "ENG_HUM_INTL", "label": "Engineer/Specialist in Humanities/International Services"},
    "period_of_stay": "P3Y",
    "stay_expiry_date": "2028-04-30",
    "card_number": "AB12345678CD",
    "work_restriction": "per-status",
}


def _issue(issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime, **kwargs: Any) -> str:
    defaults: dict[str, Any] = {
        "vct": VCT,
        "key": issuer_key,
        "issuer": ISS,
        "iat": now - timedelta(days=1),
        "exp": now + timedelta(days=365),
        "holder_key": holder_key.public,
        "status": {"status_list": {"idx": 4711, "uri": f"{ISS}/status/1"}},
    }
    return issue_sd_jwt_vc(RESIDENCE_CARD, **{**defaults, **kwargs}).compact


def test_registered_claims_stay_in_the_clear_and_personal_claims_are_hidden(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime
) -> None:
    decoded = decode_sd_jwt(_issue(issuer_key, holder_key, now))
    assert decoded.header["typ"] == TYP_DC_SD_JWT
    assert set(decoded.payload) == {"vct", "iss", "iat", "exp", "cnf", "status", "_sd", "_sd_alg"}
    assert decoded.claims["address"]["city"] == "江東区"


def test_every_nested_claim_is_disclosable_on_its_own(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime
) -> None:
    held = _issue(issuer_key, holder_key, now)
    presentation = present_sd_jwt(
        held,
        [("address", "city"), ("status_of_residence", "code"), ("stay_expiry_date",)],
        key_binding=KeyBindingRequest(holder_key, "x509_san_dns:bank.example", "nonce-1", now),
    )
    verified = verify_sd_jwt_vc(
        presentation,
        issuer_key=issuer_key_resolver(ISS, [issuer_key.public]),
        kb=KbExpectation("nonce-1", "x509_san_dns:bank.example"),
        now=now,
    )
    assert verified.vct == VCT and verified.iss == ISS
    assert verified.status == {"status_list": {"idx": 4711, "uri": f"{ISS}/status/1"}}
    personal = {k: v for k, v in verified.claims.items() if k not in ("vct", "iss", "iat", "exp", "cnf", "status")}
    assert personal == {
        "address": {"city": "江東区"},
        "status_of_residence": {"code": "ENG_HUM_INTL"},
        "stay_expiry_date": "2028-04-30",
    }


def test_all_claim_paths_covers_objects_and_array_elements() -> None:
    assert all_claim_paths({"a": {"b": 1}, "c": [{"d": 1}, {"e": 2}], "f": []}) == [
        ("a",),
        ("a", "b"),
        ("c",),
        ("c", None),
        ("c", None, "d"),
        ("c", None, "e"),
        ("f",),
    ]


@pytest.mark.parametrize("name", ["iss", "vct", "cnf", "status", "exp", "nbf"])
def test_registered_claims_cannot_be_passed_as_subject_claims(issuer_key: PrivateJwk, now: datetime, name: str) -> None:
    with pytest.raises(ClaimNotDisclosable):
        issue_sd_jwt_vc({name: "x"}, vct=VCT, key=issuer_key, issuer=ISS, iat=now)


def test_vct_is_required(issuer_key: PrivateJwk, now: datetime) -> None:
    token = issue_sd_jwt({"iss": ISS, "a": 1}, key=issuer_key, header={"typ": TYP_DC_SD_JWT}).compact
    with pytest.raises(VctMissing):
        verify_sd_jwt_vc(token, issuer_key=issuer_key.public, kb=None, now=now)


def test_legacy_typ_only_when_the_deployment_opts_in(issuer_key: PrivateJwk, now: datetime) -> None:
    token = issue_sd_jwt({"iss": ISS, "vct": VCT}, key=issuer_key, header={"typ": LEGACY_TYP_VC_SD_JWT}).compact
    policy = VerifyPolicy(typ=(TYP_DC_SD_JWT, LEGACY_TYP_VC_SD_JWT))
    assert verify_sd_jwt_vc(token, issuer_key=issuer_key.public, kb=None, now=now, policy=policy).vct == VCT


def test_expiry_honours_clock_skew(issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime) -> None:
    token = _issue(issuer_key, holder_key, now, exp=now)
    skewed = VerifyPolicy(typ=(TYP_DC_SD_JWT,), clock_skew=timedelta(seconds=30))
    late_but_within_skew = now + timedelta(seconds=29)
    assert verify_sd_jwt_vc(token, issuer_key=issuer_key.public, kb=None, now=late_but_within_skew, policy=skewed)
    with pytest.raises(CredentialExpired):
        verify_sd_jwt_vc(token, issuer_key=issuer_key.public, kb=None, now=now + timedelta(seconds=31), policy=skewed)


@pytest.mark.parametrize(
    ("iss", "url"),
    [
        ("https://issuer.example.com", "https://issuer.example.com/.well-known/jwt-vc-issuer"),
        ("https://issuer.example.com/", "https://issuer.example.com/.well-known/jwt-vc-issuer"),
        ("https://example.com/tenant/1234", "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"),
        ("https://example.com:8443/a/", "https://example.com:8443/.well-known/jwt-vc-issuer/a"),
    ],
)
def test_metadata_url_puts_the_well_known_suffix_before_the_path(iss: str, url: str) -> None:
    assert jwt_vc_issuer_metadata_url(iss) == url


@pytest.mark.parametrize("iss", ["http://issuer.example", "https://issuer.example/?q=1", "issuer", "https://x/#f"])
def test_metadata_url_refuses_non_https_issuers(iss: str) -> None:
    with pytest.raises(InvalidIssuerMetadata):
        jwt_vc_issuer_metadata_url(iss)


def test_metadata_resolves_keys_by_kid(issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime) -> None:
    old = generate_key("ES256", kid="2025")
    document = {"issuer": ISS, "jwks": {"keys": [old.public.to_jwk(), issuer_key.public.to_jwk()]}}
    metadata = parse_issuer_metadata(document, expected_issuer=ISS)
    assert metadata.jwks is not None
    resolver = issuer_key_resolver(ISS, metadata.jwks)
    assert verify_sd_jwt_vc(_issue(issuer_key, holder_key, now), issuer_key=resolver, kb=None, now=now).iss == ISS
    unknown = generate_key("ES256", kid="stolen")
    with pytest.raises(IssuerKeyNotFound):
        verify_sd_jwt_vc(_issue(unknown, holder_key, now), issuer_key=resolver, kb=None, now=now)


def test_resolver_refuses_a_credential_from_another_issuer(
    issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime
) -> None:
    resolver = issuer_key_resolver("https://other.example", [issuer_key.public])
    with pytest.raises(IssuerMismatch):
        verify_sd_jwt_vc(_issue(issuer_key, holder_key, now), issuer_key=resolver, kb=None, now=now)


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"issuer": "https://evil.example", "jwks": {"keys": []}},
        {"issuer": ISS},
        {"issuer": ISS, "jwks": {"keys": []}, "jwks_uri": f"{ISS}/jwks"},
        {"issuer": ISS, "jwks_uri": "http://insecure.example/jwks"},
        {"issuer": ISS, "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}},
    ],
    ids=["not-object", "other-issuer", "no-keys", "both", "http-jwks-uri", "symmetric-key"],
)
def test_bad_metadata_rejected(document: object) -> None:
    with pytest.raises(InvalidIssuerMetadata):
        parse_issuer_metadata(document, expected_issuer=ISS)


@pytest.mark.parametrize(
    ("iss", "allowed"),
    [
        ("http://127.0.0.1:8001/employer", True),
        ("http://localhost:8001/employer", True),
        ("http://issuer.example.com/employer", False),
    ],
)
def test_issuer_metadata_url_admits_http_only_on_loopback_when_asked(iss: str, allowed: bool) -> None:
    with pytest.raises(InvalidIssuerMetadata):
        jwt_vc_issuer_metadata_url(iss)
    if allowed:
        assert jwt_vc_issuer_metadata_url(iss, allow_http_loopback=True).endswith("/.well-known/jwt-vc-issuer/employer")
    else:
        with pytest.raises(InvalidIssuerMetadata):
            jwt_vc_issuer_metadata_url(iss, allow_http_loopback=True)
