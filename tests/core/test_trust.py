"""The trust registry: sign, load and verify, and the questions a verifier and a wallet ask it."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tsunagu import jose
from tsunagu.dcql import parse_dcql_query
from tsunagu.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.oid4vp import client_id_for_certificate
from tsunagu.trust import (
    TYP_TRUST_REGISTRY,
    ClaimRef,
    IssuerEntry,
    IssuerNotTrusted,
    IssuerNotTrustedForVct,
    LocalizedText,
    PurposeNotRegistered,
    PurposeRegistration,
    TrustRegistry,
    TrustRegistryExpired,
    TrustRegistryInvalid,
    TrustRegistrySignatureInvalid,
    VerifierEntry,
    VerifierNotRegistered,
    assess_request,
    build_trust_registry,
    load_trust_registry,
    over_asked_claims,
    trust_registry_claims,
)
from tsunagu.x509 import certificate_to_x5c, create_root_ca, issue_verifier_certificate

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
EMPLOYMENT = "https://credentials.tsunagu.example/EmploymentCertificate"
TAX = "https://credentials.tsunagu.example/ResidentTaxCertificate"
CARD = "https://credentials.tsunagu.example/ResidenceCard"
EMPLOYER = "https://issuer.tsunagu.example/employer"


@pytest.fixture(scope="module")
def registry_key() -> PrivateJwk:
    return generate_key("ES256", kid="registry-2026")


@pytest.fixture(scope="module")
def parts() -> dict[str, Any]:
    root_key = generate_key("ES256")
    root = create_root_ca(root_key, common_name="Tsunagu Registry Root", now=NOW, valid_for=timedelta(days=3650))
    leaf = issue_verifier_certificate(ca_key=root_key, ca_certificate=root, subject_key=generate_key("ES256").public,
                                      dns_name="landlord.example", organization="Tokyo Homes", now=NOW,
                                      valid_for=timedelta(days=365))
    rental = PurposeRegistration("rental_screening", (
        ClaimRef(EMPLOYMENT, ("employer_name",)),
        ClaimRef(EMPLOYMENT, ("annual_salary",)),
        ClaimRef(EMPLOYMENT, ("work_location",)),
        ClaimRef(CARD, ("stay_expiry_date",)),
        ClaimRef(CARD, ("languages", None)),
    ), max_retention_days=90)
    landlord = VerifierEntry(client_id_for_certificate("x509_san_dns", leaf), LocalizedText("Tokyo Homes", "東京ホームズ"),
                             (certificate_to_x5c(leaf),), (rental,), "https://verifier.tsunagu.example")
    employer = IssuerEntry(EMPLOYER, LocalizedText("Sakura Logistics", "さくら物流"), (EMPLOYMENT,))
    return {"root": root, "leaf": leaf, "landlord": landlord, "employer": employer, "rental": rental}


def build(parts: dict[str, Any], key: PrivateJwk, **overrides: Any) -> str:
    args: dict[str, Any] = {"iss": "https://registry.tsunagu.example", "root_certificate": parts["root"],
                            "issuers": [parts["employer"]], "verifiers": [parts["landlord"]],
                            "key": key, "iat": NOW, "exp": NOW + timedelta(days=30)}
    args.update(overrides)
    return build_trust_registry(**args)


@pytest.fixture(scope="module")
def registry(parts: dict[str, Any], registry_key: PrivateJwk) -> TrustRegistry:
    return load_trust_registry(build(parts, registry_key), key=registry_key.public, now=NOW)


def test_a_signed_registry_loads_with_everything_it_lists(registry: TrustRegistry, parts: dict[str, Any]) -> None:
    assert registry.iss == "https://registry.tsunagu.example"
    assert registry.root_certificate == parts["root"]
    assert registry.issuers == (parts["employer"],)
    assert registry.verifiers == (parts["landlord"],)
    assert registry.exp == NOW + timedelta(days=30)


def test_the_registry_is_a_trust_registry_jwt(parts: dict[str, Any], registry_key: PrivateJwk) -> None:
    jws = jose.parse_compact(build(parts, registry_key), typ=TYP_TRUST_REGISTRY)
    assert jws.header == {"alg": "ES256", "kid": "registry-2026", "typ": "trust-registry+jwt"}
    assert jws.payload["verifiers"][0]["purposes"][0]["claims"][4] == {"vct": CARD, "path": ["languages", None]}


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json_loads(b64url_decode(payload))
    claims["issuers"][0]["vcts"].append(TAX)  # the employer tries to issue tax certificates
    return ".".join([header, b64url_encode(json_dumps(claims).encode()), signature])


def test_tampered_registry_is_refused(parts: dict[str, Any], registry_key: PrivateJwk) -> None:
    with pytest.raises(TrustRegistrySignatureInvalid):
        load_trust_registry(_tamper(build(parts, registry_key)), key=registry_key.public, now=NOW)


def test_registry_signed_by_another_key_is_refused(parts: dict[str, Any], registry_key: PrivateJwk) -> None:
    with pytest.raises(TrustRegistrySignatureInvalid):
        load_trust_registry(build(parts, generate_key("ES256")), key=registry_key.public, now=NOW)


def test_a_jwt_of_another_type_is_refused(parts: dict[str, Any], registry_key: PrivateJwk) -> None:
    claims = trust_registry_claims(iss="https://r.example", root_certificate=parts["root"], issuers=[], verifiers=[],
                                   iat=NOW, exp=NOW + timedelta(days=1))
    token = jose.sign_compact({"typ": "JWT"}, claims, registry_key)
    with pytest.raises(TrustRegistrySignatureInvalid, match="token type"):
        load_trust_registry(token, key=registry_key.public, now=NOW)


def test_expired_registry_is_refused(parts: dict[str, Any], registry_key: PrivateJwk) -> None:
    token = build(parts, registry_key)
    with pytest.raises(TrustRegistryExpired):
        load_trust_registry(token, key=registry_key.public, now=NOW + timedelta(days=31))


def _invalid_cases(parts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    landlord: VerifierEntry = parts["landlord"]
    rental: PurposeRegistration = parts["rental"]
    return {
        "duplicate client_id": {"verifiers": [landlord, landlord]},
        "duplicate issuer": {"issuers": [parts["employer"], parts["employer"]]},
        "client_id not in the certificate": {"verifiers": [dataclasses.replace(landlord, client_id="x509_san_dns:bank.example")]},
        "x509_hash of another certificate": {"verifiers": [dataclasses.replace(landlord, client_id="x509_hash:" + "A" * 43)]},
        "client_id without prefix": {"verifiers": [dataclasses.replace(landlord, client_id="landlord")]},
        "purpose outside the vocabulary": {"verifiers": [dataclasses.replace(
            landlord, purposes=(dataclasses.replace(rental, purpose="marketing"),))]},
        "purpose registered twice": {"verifiers": [dataclasses.replace(landlord, purposes=(rental, rental))]},
        "negative retention": {"verifiers": [dataclasses.replace(
            landlord, purposes=(dataclasses.replace(rental, max_retention_days=-1),))]},
        "empty claims path": {"verifiers": [dataclasses.replace(
            landlord, purposes=(dataclasses.replace(rental, claims=(ClaimRef(EMPLOYMENT, ()),)),))]},
        "issuer without vcts": {"issuers": [dataclasses.replace(parts["employer"], vcts=())]},
        "no Japanese name": {"issuers": [dataclasses.replace(parts["employer"], name=LocalizedText("Sakura", ""))]},
        "x5c not base64": {"verifiers": [dataclasses.replace(landlord, x5c=("not-a-certificate",))]},
        "notification endpoint on another origin": {"verifiers": [dataclasses.replace(
            landlord, consent_notification_uri="https://elsewhere.example/landlord/consent-notifications")]},
        "notification endpoint with a query": {"verifiers": [dataclasses.replace(
            landlord, consent_notification_uri="https://verifier.tsunagu.example/n?to=elsewhere")]},
        "access period of zero days": {"verifiers": [dataclasses.replace(
            landlord, purposes=(dataclasses.replace(rental, max_access_period_days=0),))]},
    }


INVALID = ["duplicate client_id", "duplicate issuer", "client_id not in the certificate", "x509_hash of another certificate",
           "client_id without prefix", "purpose outside the vocabulary", "purpose registered twice", "negative retention",
           "empty claims path", "issuer without vcts", "no Japanese name", "x5c not base64",
           "notification endpoint on another origin", "notification endpoint with a query", "access period of zero days"]


@pytest.mark.parametrize("case", INVALID)
def test_an_inconsistent_registry_cannot_be_built(case: str, parts: dict[str, Any], registry_key: PrivateJwk) -> None:
    assert sorted(_invalid_cases(parts)) == sorted(INVALID)
    with pytest.raises(TrustRegistryInvalid):
        build(parts, registry_key, **_invalid_cases(parts)[case])


def test_an_inconsistent_registry_signed_elsewhere_does_not_load(parts: dict[str, Any], registry_key: PrivateJwk) -> None:
    claims = trust_registry_claims(iss="https://r.example", root_certificate=parts["root"], issuers=[],
                                   verifiers=[parts["landlord"]], iat=NOW, exp=NOW + timedelta(days=1))
    claims["verifiers"][0]["purposes"][0]["purpose"] = "marketing"
    token = jose.sign_compact({"typ": TYP_TRUST_REGISTRY}, claims, registry_key)
    with pytest.raises(TrustRegistryInvalid, match="marketing"):
        load_trust_registry(token, key=registry_key.public, now=NOW)


# --- queries ------------------------------------------------------------------------------------------


def test_issuer_trust_is_per_credential_type(registry: TrustRegistry) -> None:
    assert registry.check_issuer(EMPLOYER, EMPLOYMENT).name.ja == "さくら物流"
    with pytest.raises(IssuerNotTrustedForVct):
        registry.check_issuer(EMPLOYER, TAX)
    with pytest.raises(IssuerNotTrusted):
        registry.check_issuer("https://issuer.evil.example", EMPLOYMENT)
    with pytest.raises(IssuerNotTrusted):
        registry.check_issuer(None, EMPLOYMENT)


def test_verifiers_are_found_by_their_full_client_id(registry: TrustRegistry, parts: dict[str, Any]) -> None:
    assert registry.verifier("x509_san_dns:landlord.example") == parts["landlord"]
    assert registry.find_verifier("landlord.example") is None
    with pytest.raises(VerifierNotRegistered):
        registry.verifier("x509_san_dns:bank.example")
    with pytest.raises(PurposeNotRegistered):
        parts["landlord"].registration("account_opening_kyc")


def query(*claims: list[Any], vcts: list[str] = [EMPLOYMENT]) -> Any:  # noqa: B006 - read only
    return parse_dcql_query({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": vcts},
                                              "claims": [{"path": c} for c in claims]}]})


@pytest.mark.parametrize(("claims", "vcts", "flagged"), [
    ([["employer_name"], ["annual_salary"]], [EMPLOYMENT], []),
    ([["work_location", "city"]], [EMPLOYMENT], []),                         # below a registered object
    ([["birthdate"], ["employer_name"]], [EMPLOYMENT], [(EMPLOYMENT, ("birthdate",))]),
    ([["stay_expiry_date"]], [EMPLOYMENT], [(EMPLOYMENT, ("stay_expiry_date",))]),   # registered for another vct
    ([["employer_name"]], [EMPLOYMENT, TAX], [(TAX, ("employer_name",))]),  # the unregistered alternative
    ([["languages", 0]], [CARD], []),                                       # null covers any index
    ([["languages"]], [CARD], [(CARD, ("languages",))]),                    # the whole array was not registered
], ids=["within", "nested", "birthdate", "other vct", "alternative vct", "index", "parent"])
def test_over_asking_is_flagged_claim_by_claim(
    parts: dict[str, Any], claims: list[list[Any]], vcts: list[str], flagged: list[tuple[str, tuple[Any, ...]]]
) -> None:
    result = over_asked_claims(parts["rental"], query(*claims, vcts=vcts))
    assert [(f.vct, f.path) for f in result] == flagged
    assert all(f.credential_query_id == "q" and f.reason_en and f.reason_ja for f in result)


def test_a_purpose_that_is_not_registered_flags_every_claim(registry: TrustRegistry) -> None:
    assessment = assess_request(registry, client_id="x509_san_dns:landlord.example", purpose="account_opening_kyc",
                                query=query(["employer_name"], ["annual_salary"]), retention_days=30)
    assert assessment.registration is None
    assert [f.path for f in assessment.flagged_claims] == [("employer_name",), ("annual_salary",)]
    assert not assessment.within_registration


def test_retention_beyond_the_registration_is_reported(registry: TrustRegistry) -> None:
    within = assess_request(registry, client_id="x509_san_dns:landlord.example", purpose="rental_screening",
                            query=query(["employer_name"]), retention_days=90)
    beyond = assess_request(registry, client_id="x509_san_dns:landlord.example", purpose="rental_screening",
                            query=query(["employer_name"]), retention_days=91)
    assert within.within_registration and not within.retention_exceeded
    assert beyond.retention_exceeded and not beyond.within_registration


def test_a_notification_endpoint_and_ongoing_access_survive_signing(parts: dict[str, Any],
                                                                     registry_key: PrivateJwk) -> None:
    landlord = dataclasses.replace(
        parts["landlord"], consent_notification_uri="https://verifier.tsunagu.example/landlord/consent-notifications",
        purposes=(dataclasses.replace(parts["rental"], max_access_period_days=730),))
    loaded = load_trust_registry(build(parts, registry_key, verifiers=[landlord]), key=registry_key.public, now=NOW)
    assert loaded.verifiers == (landlord,)
    payload = jose.parse_compact(build(parts, registry_key), typ=TYP_TRUST_REGISTRY).payload["verifiers"][0]
    # Neither is written when absent: older registries read the same.
    assert "consent_notification_uri" not in payload and "max_access_period_days" not in payload["purposes"][0]


def test_ongoing_access_must_be_registered_and_within_its_period(parts: dict[str, Any],
                                                                 registry_key: PrivateJwk) -> None:
    ongoing = dataclasses.replace(parts["rental"], max_access_period_days=730)
    landlord = dataclasses.replace(parts["landlord"], purposes=(ongoing,))
    allowing = load_trust_registry(build(parts, registry_key, verifiers=[landlord]), key=registry_key.public, now=NOW)
    one_time_only = load_trust_registry(build(parts, registry_key), key=registry_key.public, now=NOW)

    def assess(registry: TrustRegistry, period: int | None) -> Any:
        return assess_request(registry, client_id="x509_san_dns:landlord.example", purpose="rental_screening",
                              query=query(["employer_name"]), retention_days=90, access_period_days=period)

    assert assess(allowing, 730).within_registration
    assert assess(allowing, 731).access_exceeded
    assert assess(one_time_only, 30).access_exceeded and not assess(one_time_only, 30).within_registration
    assert assess(one_time_only, None).within_registration  # one-time access needs no permission


def test_an_unregistered_verifier_cannot_be_assessed(registry: TrustRegistry) -> None:
    with pytest.raises(VerifierNotRegistered):
        assess_request(registry, client_id="x509_san_dns:bank.example", purpose="rental_screening",
                       query=query(["employer_name"]), retention_days=1)

