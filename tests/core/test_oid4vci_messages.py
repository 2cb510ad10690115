"""OpenID4VCI 1.0 messages: what each parser accepts, and a table of what it refuses, with which error."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tsunagu import errors as core_errors
from tsunagu import oid4vci
from tsunagu.credential_types import EMPLOYMENT_CERTIFICATE
from tsunagu.errors import TsunaguError

ISSUER = "https://issuer.example/employer"

OFFER: dict[str, Any] = {
    "credential_issuer": ISSUER,
    "credential_configuration_ids": ["EmploymentCertificate"],
    "grants": {
        oid4vci.PRE_AUTHORIZED_CODE_GRANT: {
            "pre-authorized_code": "code-123",
            "tx_code": {"input_mode": "numeric", "length": 6, "description": "Sent by SMS"},
        }
    },
}


def mutated(base: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copied = copy.deepcopy(base)
    change(copied)
    return copied


def grant(o: dict[str, Any]) -> dict[str, Any]:
    return o["grants"][oid4vci.PRE_AUTHORIZED_CODE_GRANT]  # type: ignore[no-any-return]


# --- offers -------------------------------------------------------------------------------------


def test_offer_round_trips_through_the_uri_by_value() -> None:
    offer = oid4vci.parse_credential_offer(OFFER)
    uri = oid4vci.build_credential_offer_uri(offer)
    assert uri.startswith("openid-credential-offer://?credential_offer=%7B")
    assert oid4vci.parse_credential_offer_uri(uri).offer == offer
    assert offer.to_json() == OFFER


def test_offer_uri_by_reference_round_trips() -> None:
    uri = oid4vci.build_credential_offer_uri(offer_uri="https://issuer.example/employer/credential-offers/abc")
    assert uri == "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Femployer%2Fcredential-offers%2Fabc"
    assert oid4vci.parse_credential_offer_uri(uri).offer_uri == "https://issuer.example/employer/credential-offers/abc"


def test_http_issuer_only_on_loopback_and_only_when_allowed() -> None:
    local = mutated(OFFER, lambda o: o.update(credential_issuer="http://127.0.0.1:8001/employer"))
    assert oid4vci.parse_credential_offer(local, allow_http_loopback=True).credential_issuer.startswith("http://")
    with pytest.raises(oid4vci.InvalidCredentialOffer):
        oid4vci.parse_credential_offer(local)
    remote = mutated(OFFER, lambda o: o.update(credential_issuer="http://issuer.example/employer"))
    with pytest.raises(oid4vci.InvalidCredentialOffer):
        oid4vci.parse_credential_offer(remote, allow_http_loopback=True)


def test_tx_code_defaults_to_numeric() -> None:
    offer = oid4vci.parse_credential_offer(mutated(OFFER, lambda o: grant(o).update(tx_code={})))
    assert offer.pre_authorized_code is not None
    assert offer.pre_authorized_code.tx_code == oid4vci.TxCode(input_mode="numeric")


HOSTILE_OFFERS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("issuer missing", lambda o: o.pop("credential_issuer")),
    ("issuer not a URL", lambda o: o.update(credential_issuer="issuer.example")),
    ("issuer with query", lambda o: o.update(credential_issuer=ISSUER + "?x=1")),
    ("issuer with fragment", lambda o: o.update(credential_issuer=ISSUER + "#x")),
    ("issuer javascript", lambda o: o.update(credential_issuer="javascript:alert(1)")),
    ("issuer with userinfo", lambda o: o.update(credential_issuer="https://a:b@issuer.example/employer")),
    ("no configuration ids", lambda o: o.update(credential_configuration_ids=[])),
    ("configuration ids not strings", lambda o: o.update(credential_configuration_ids=[1])),
    ("duplicate configuration ids", lambda o: o.update(credential_configuration_ids=["a", "a"])),
    ("grants not an object", lambda o: o.update(grants=[])),
    ("pre-authorized code missing", lambda o: grant(o).pop("pre-authorized_code")),
    ("pre-authorized code not a string", lambda o: grant(o).update({"pre-authorized_code": 5})),
    ("tx_code not an object", lambda o: grant(o).update(tx_code=True)),
    ("tx_code input_mode unknown", lambda o: grant(o)["tx_code"].update(input_mode="emoji")),
    ("tx_code length zero", lambda o: grant(o)["tx_code"].update(length=0)),
    ("tx_code length boolean", lambda o: grant(o)["tx_code"].update(length=True)),
    ("tx_code description too long", lambda o: grant(o)["tx_code"].update(description="x" * 301)),
]


@pytest.mark.parametrize(("case", "change"), HOSTILE_OFFERS, ids=[c for c, _ in HOSTILE_OFFERS])
def test_hostile_offer_refused(case: str, change: Callable[[dict[str, Any]], None]) -> None:
    with pytest.raises(oid4vci.InvalidCredentialOffer):
        oid4vci.parse_credential_offer(mutated(OFFER, change))


HOSTILE_OFFER_URIS = [
    ("no parameter", "openid-credential-offer://?x=1"),
    ("both parameters", "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa.example"),
    ("repeated reference", "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa.example&credential_offer_uri=https%3A%2F%2Fb.example"),
    ("offer not JSON", "openid-credential-offer://?credential_offer=%7Bnope"),
    ("offer JSON with duplicate members", "openid-credential-offer://?credential_offer=" + quote('{"credential_issuer":"a","credential_issuer":"b"}')),
    ("reference over http", "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fissuer.example%2Fo"),
    ("reference not a URL", "openid-credential-offer://?credential_offer_uri=file%3A%2F%2F%2Fetc%2Fpasswd"),
    ("huge", "openid-credential-offer://?credential_offer=" + "a" * 70_000),
]


@pytest.mark.parametrize(("case", "uri"), HOSTILE_OFFER_URIS, ids=[c for c, _ in HOSTILE_OFFER_URIS])
def test_hostile_offer_uri_refused(case: str, uri: str) -> None:
    with pytest.raises(oid4vci.InvalidCredentialOffer):
        oid4vci.parse_credential_offer_uri(uri)


def test_offer_json_from_reference() -> None:
    offer = oid4vci.parse_credential_offer_json(b'{"credential_issuer":"https://issuer.example/employer","credential_configuration_ids":["x"]}')
    assert offer.pre_authorized_code is None
    with pytest.raises(oid4vci.InvalidCredentialOffer):
        oid4vci.parse_credential_offer_json(b"<html>")


# --- well-known URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "identifier", "expected"),
    [
        (oid4vci.credential_issuer_metadata_url, "https://issuer.example.com/tenant", "https://issuer.example.com/.well-known/openid-credential-issuer/tenant"),
        (oid4vci.credential_issuer_metadata_url, "https://tenant.issuer.example.com", "https://tenant.issuer.example.com/.well-known/openid-credential-issuer"),
        (oid4vci.authorization_server_metadata_url, "https://issuer.example.com/tenant/", "https://issuer.example.com/.well-known/oauth-authorization-server/tenant"),
    ],
)
def test_well_known_urls_insert_the_suffix_before_the_path(function: Callable[[str], str], identifier: str, expected: str) -> None:
    assert function(identifier) == expected


def test_well_known_url_refuses_http_unless_loopback_allowed() -> None:
    assert (
        oid4vci.credential_issuer_metadata_url("http://127.0.0.1:8001/employer", allow_http_loopback=True)
        == "http://127.0.0.1:8001/.well-known/openid-credential-issuer/employer"
    )
    with pytest.raises(oid4vci.InvalidIssuerIdentifier):
        oid4vci.credential_issuer_metadata_url("http://127.0.0.1:8001/employer")


# --- metadata -----------------------------------------------------------------------------------


def our_metadata() -> dict[str, Any]:
    return oid4vci.CredentialIssuerMetadata(
        credential_issuer=ISSUER,
        credential_endpoint=ISSUER + "/credential",
        nonce_endpoint=ISSUER + "/nonce",
        notification_endpoint=ISSUER + "/notification",
        batch_size=5,
        display=(oid4vci.Display("Sakura Systems K.K.", "en"), oid4vci.Display("さくらシステムズ株式会社", "ja")),
        credential_configurations={"EmploymentCertificate": EMPLOYMENT_CERTIFICATE.to_configuration()},
    ).to_json()


def test_our_metadata_reads_back() -> None:
    document = our_metadata()
    metadata = oid4vci.parse_credential_issuer_metadata(document, expected_issuer=ISSUER)
    assert metadata.to_json() == document
    config = metadata.credential_configurations["EmploymentCertificate"]
    assert config.format == "dc+sd-jwt"
    assert config.vct == "urn:tsunagu:vct:employment-certificate:1"
    assert config.claim_names("ja")[("annual_income",)] == "年収（円）"
    assert metadata.authorization_server == ISSUER


def config(o: dict[str, Any]) -> dict[str, Any]:
    return o["credential_configurations_supported"]["EmploymentCertificate"]  # type: ignore[no-any-return]


HOSTILE_METADATA: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("another issuer", lambda m: m.update(credential_issuer=ISSUER + "/x")),
    ("trailing slash differs", lambda m: m.update(credential_issuer=ISSUER + "/")),
    ("no credential endpoint", lambda m: m.pop("credential_endpoint")),
    ("credential endpoint over http", lambda m: m.update(credential_endpoint="http://issuer.example/c")),
    ("nonce endpoint not a string", lambda m: m.update(nonce_endpoint=7)),
    ("configurations missing", lambda m: m.pop("credential_configurations_supported")),
    ("batch size one", lambda m: m.update(batch_credential_issuance={"batch_size": 1})),
    ("empty authorization servers", lambda m: m.update(authorization_servers=[])),
    ("sd-jwt without vct", lambda m: config(m).pop("vct")),
    ("configuration without format", lambda m: config(m).pop("format")),
    ("binding without proof types", lambda m: config(m).pop("proof_types_supported")),
    ("proof type without algorithms", lambda m: config(m).update(proof_types_supported={"jwt": {}})),
    ("claim path empty", lambda m: config(m)["credential_metadata"]["claims"].append({"path": []})),
    ("claim described twice", lambda m: config(m)["credential_metadata"]["claims"].append({"path": ["job_title"]})),
    (
        "claim both object and array",
        lambda m: config(m)["credential_metadata"]["claims"].extend([{"path": ["x", "a"]}, {"path": ["x", None]}]),
    ),
    (
        "array both all and index",
        lambda m: config(m)["credential_metadata"]["claims"].extend([{"path": ["y", None]}, {"path": ["y", 0]}]),
    ),
    ("two displays for one locale", lambda m: m["display"].append({"name": "again", "locale": "en"})),
    ("credential display without name", lambda m: config(m)["credential_metadata"]["display"].append({"locale": "fr"})),
]


@pytest.mark.parametrize(("case", "change"), HOSTILE_METADATA, ids=[c for c, _ in HOSTILE_METADATA])
def test_hostile_metadata_refused(case: str, change: Callable[[dict[str, Any]], None]) -> None:
    with pytest.raises(oid4vci.InvalidCredentialIssuerMetadata):
        oid4vci.parse_credential_issuer_metadata(mutated(our_metadata(), change), expected_issuer=ISSUER)


def test_authorization_server_metadata_round_trip_and_refusals() -> None:
    built = oid4vci.AuthorizationServerMetadata(
        issuer=ISSUER,
        token_endpoint=ISSUER + "/token",
        pre_authorized_grant_anonymous_access_supported=True,
        dpop_signing_alg_values_supported=("ES256",),
    ).to_json()
    parsed = oid4vci.parse_authorization_server_metadata(built, expected_issuer=ISSUER)
    assert parsed.pre_authorized_grant_anonymous_access_supported is True
    assert parsed.grant_types_supported == (oid4vci.PRE_AUTHORIZED_CODE_GRANT,)
    for change in (
        lambda m: m.update(issuer="https://evil.example"),
        lambda m: m.update(token_endpoint="http://issuer.example/token"),
        lambda m: m.update({"pre-authorized_grant_anonymous_access_supported": "yes"}),
    ):
        with pytest.raises(oid4vci.InvalidAuthorizationServerMetadata):
            oid4vci.parse_authorization_server_metadata(mutated(built, change), expected_issuer=ISSUER)


# --- token endpoint -----------------------------------------------------------------------------


def test_token_request_ignores_unknown_parameters_and_reads_lists() -> None:
    form = oid4vci.build_token_request("code-1", tx_code="123456")
    request = oid4vci.parse_token_request({**form, "unknown": "x", "scope": "openid"})
    assert request == oid4vci.TokenRequest(pre_authorized_code="code-1", tx_code="123456")
    assert oid4vci.parse_token_request({k: [v] for k, v in form.items()}) == request


HOSTILE_TOKEN_REQUESTS: list[tuple[str, dict[str, Any], type[TsunaguError]]] = [
    ("no grant type", {"pre-authorized_code": "c"}, oid4vci.InvalidRequest),
    ("authorization code grant", {"grant_type": "authorization_code", "code": "c"}, oid4vci.UnsupportedGrantType),
    ("client credentials grant", {"grant_type": "client_credentials"}, oid4vci.UnsupportedGrantType),
    ("no code", {"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT}, oid4vci.InvalidRequest),
    ("empty code", {"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT, "pre-authorized_code": ""}, oid4vci.InvalidRequest),
    ("repeated code", {"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT, "pre-authorized_code": ["a", "b"]}, oid4vci.InvalidRequest),
    ("repeated grant type", {"grant_type": [oid4vci.PRE_AUTHORIZED_CODE_GRANT] * 2, "pre-authorized_code": "a"}, oid4vci.InvalidRequest),
    ("huge code", {"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT, "pre-authorized_code": "a" * 600}, oid4vci.InvalidRequest),
    ("empty tx_code", {"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT, "pre-authorized_code": "a", "tx_code": ""}, oid4vci.InvalidRequest),
]


@pytest.mark.parametrize(("case", "form", "error"), HOSTILE_TOKEN_REQUESTS, ids=[c for c, _, _ in HOSTILE_TOKEN_REQUESTS])
def test_hostile_token_request_refused(case: str, form: dict[str, Any], error: type[TsunaguError]) -> None:
    with pytest.raises(error) as caught:
        oid4vci.parse_token_request(form)
    assert type(caught.value) is error


@pytest.mark.parametrize(
    "body",
    [
        {"token_type": "Bearer"},
        {"access_token": "t", "token_type": "MAC"},
        {"access_token": "t", "token_type": "Bearer", "expires_in": "60"},
        {"access_token": "t", "token_type": "DPoP", "authorization_details": {}},
        [],
    ],
)
def test_malformed_token_response_refused(body: Any) -> None:
    with pytest.raises(oid4vci.InvalidTokenResponse):
        oid4vci.parse_token_response(body)


def test_token_type_is_case_insensitive() -> None:
    assert oid4vci.parse_token_response({"access_token": "t", "token_type": "dpop"}).token_type == "DPoP"


@pytest.mark.parametrize("body", [{}, {"c_nonce": ""}, {"c_nonce": 1}, "n"])
def test_malformed_nonce_response_refused(body: Any) -> None:
    with pytest.raises(oid4vci.InvalidNonceResponse):
        oid4vci.parse_nonce_response(body)


# --- credential endpoint ------------------------------------------------------------------------


def test_credential_request_round_trip() -> None:
    body = oid4vci.build_credential_request(credential_configuration_id="EmploymentCertificate", proofs=["a.b.c", "d.e.f"])
    assert body == {"credential_configuration_id": "EmploymentCertificate", "proofs": {"jwt": ["a.b.c", "d.e.f"]}}
    request = oid4vci.parse_credential_request({**body, "future_parameter": 1}, max_proofs=2)
    assert request.proofs == ("a.b.c", "d.e.f")


HOSTILE_CREDENTIAL_REQUESTS: list[tuple[str, Any, type[TsunaguError]]] = [
    ("not an object", [], oid4vci.InvalidCredentialRequest),
    ("singular proof", {"credential_configuration_id": "x", "proof": {"proof_type": "jwt", "jwt": "a.b.c"}}, oid4vci.InvalidCredentialRequest),
    ("both identifiers", {"credential_configuration_id": "x", "credential_identifier": "y", "proofs": {"jwt": ["a"]}}, oid4vci.InvalidCredentialRequest),
    ("no identifier", {"proofs": {"jwt": ["a"]}}, oid4vci.InvalidCredentialRequest),
    ("identifier not a string", {"credential_configuration_id": 3}, oid4vci.InvalidCredentialRequest),
    ("too many proofs", {"credential_configuration_id": "x", "proofs": {"jwt": ["a", "b", "c"]}}, oid4vci.InvalidCredentialRequest),
    ("proofs not an object", {"credential_configuration_id": "x", "proofs": ["a"]}, oid4vci.InvalidProof),
    ("two proof types", {"credential_configuration_id": "x", "proofs": {"jwt": ["a"], "attestation": ["b"]}}, oid4vci.InvalidProof),
    ("attestation proof type", {"credential_configuration_id": "x", "proofs": {"attestation": ["b"]}}, oid4vci.InvalidProof),
    ("empty jwt array", {"credential_configuration_id": "x", "proofs": {"jwt": []}}, oid4vci.InvalidProof),
    ("jwt not a string", {"credential_configuration_id": "x", "proofs": {"jwt": [{"a": 1}]}}, oid4vci.InvalidProof),
    ("oversized jwt", {"credential_configuration_id": "x", "proofs": {"jwt": ["a" * 9000]}}, oid4vci.InvalidProof),
    (
        "response encryption",
        {"credential_configuration_id": "x", "proofs": {"jwt": ["a"]}, "credential_response_encryption": {"jwk": {}, "enc": "A128GCM"}},
        oid4vci.InvalidEncryptionParameters,
    ),
]


@pytest.mark.parametrize(("case", "body", "error"), HOSTILE_CREDENTIAL_REQUESTS, ids=[c for c, _, _ in HOSTILE_CREDENTIAL_REQUESTS])
def test_hostile_credential_request_refused(case: str, body: Any, error: type[TsunaguError]) -> None:
    with pytest.raises(error) as caught:
        oid4vci.parse_credential_request(body, max_proofs=2)
    assert type(caught.value) is error


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"credentials": [], "notification_id": "n"},
        {"credentials": [{"credential": "a"}], "transaction_id": "t", "interval": 5},
        {"credentials": [{"other": "a"}]},
        {"credentials": ["a"]},
        {"transaction_id": "t"},
        {"transaction_id": "t", "interval": 0},
        {"transaction_id": "t", "interval": 5, "notification_id": "n"},
    ],
)
def test_malformed_credential_response_refused(body: Any) -> None:
    with pytest.raises(oid4vci.InvalidCredentialResponse):
        oid4vci.parse_credential_response(body)


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"event": "credential_accepted"},
        {"notification_id": "", "event": "credential_accepted"},
        {"notification_id": "n", "event": "CREDENTIAL_ACCEPTED"},
        {"notification_id": "n", "event": "credential_revoked"},
        {"notification_id": "n", "event": "credential_failure", "event_description": "quote \" inside"},
        {"notification_id": "n", "event": "credential_failure", "event_description": "日本語"},
    ],
)
def test_malformed_notification_request_refused(body: Any) -> None:
    with pytest.raises(oid4vci.InvalidNotificationRequest):
        oid4vci.parse_notification_request(body)


# --- errors -------------------------------------------------------------------------------------


def test_invalid_token_challenges_name_the_scheme() -> None:
    bearer = oid4vci.InvalidToken("the access token expired")
    assert bearer.status_code == 401
    assert bearer.headers() == {
        "WWW-Authenticate": 'Bearer error="invalid_token", error_description="the access token expired"'
    }
    missing = oid4vci.InvalidToken("no token", scheme="DPoP", announce_error=False, dpop_algs=("ES256",))
    assert missing.headers() == {"WWW-Authenticate": 'DPoP algs="ES256"'}


def test_safe_description_keeps_only_allowed_characters() -> None:
    assert oid4vci.safe_description('say "hi" \\ 日本') == "say ?hi? ? ??"


def test_error_from_response_maps_codes_and_survives_garbage() -> None:
    assert isinstance(oid4vci.error_from_response(400, {"error": "invalid_nonce"}), oid4vci.InvalidNonce)
    assert isinstance(oid4vci.error_from_response(401, {"error": "invalid_token"}), oid4vci.InvalidToken)
    unknown = oid4vci.error_from_response(500, "<html>")
    assert type(unknown) is oid4vci.Oid4vciError
    assert "500" in unknown.reason


def test_wire_error_classes_carry_the_spec_codes() -> None:
    expected = {
        oid4vci.InvalidCredentialRequest: "invalid_credential_request",
        oid4vci.UnknownCredentialConfiguration: "unknown_credential_configuration",
        oid4vci.UnknownCredentialIdentifier: "unknown_credential_identifier",
        oid4vci.InvalidProof: "invalid_proof",
        oid4vci.ProofSignatureInvalid: "invalid_proof",
        oid4vci.InvalidNonce: "invalid_nonce",
        oid4vci.InvalidEncryptionParameters: "invalid_encryption_parameters",
        oid4vci.CredentialRequestDenied: "credential_request_denied",
        oid4vci.InvalidGrant: "invalid_grant",
        oid4vci.InvalidRequest: "invalid_request",
        oid4vci.InvalidClient: "invalid_client",
        oid4vci.UnsupportedGrantType: "unsupported_grant_type",
        oid4vci.InvalidNotificationId: "invalid_notification_id",
        oid4vci.InvalidNotificationRequest: "invalid_notification_request",
        oid4vci.InvalidToken: "invalid_token",
    }
    assert {cls: cls.error for cls in expected} == expected


def all_error_classes() -> list[type[TsunaguError]]:
    import tsunagu.credential_types
    import tsunagu.dpop  # noqa: F401 - registers its classes

    seen: list[type[TsunaguError]] = []
    pending: list[type[TsunaguError]] = [TsunaguError]
    while pending:
        cls = pending.pop()
        seen.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in seen if cls.__module__.startswith("tsunagu")]


def test_error_codes_of_these_modules_are_unique_across_the_package() -> None:
    ours = [c for c in all_error_classes() if c.__module__.startswith(("tsunagu.oid4vci", "tsunagu.dpop", "tsunagu.credential_types"))]
    assert len(ours) > 40
    by_code: dict[str, list[str]] = {}
    for cls in all_error_classes():
        by_code.setdefault(cls.code, []).append(f"{cls.__module__}.{cls.__name__}")
    clashes = {c.code: by_code[c.code] for c in ours if len(by_code[c.code]) > 1}
    assert clashes == {}
    assert all(c.code.count(".") == 1 for c in ours)
    assert core_errors.ProtocolError in oid4vci.Oid4vciError.__mro__
