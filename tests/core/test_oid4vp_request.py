"""OpenID4VP 1.0 §5: the signed Request Object, the ``openid4vp://`` link, and what a wallet must refuse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography import x509

from tsunagu import jose
from tsunagu.encoding import b64url_encode, json_dumps
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.oid4vp import (
    AUD_SELF_ISSUED,
    TYP_REQUEST_OBJECT,
    ClientIdError,
    ClientIdMismatch,
    InvalidRequest,
    InvalidRequestUriMethod,
    InvalidTransactionData,
    InvalidVerifierInfo,
    Oid4vpError,
    PurposeStatement,
    RequestObjectInvalid,
    ResponseUriNotAllowed,
    VerifierCertificateInvalid,
    VerifierInfo,
    VpFormatsNotSupported,
    build_authorization_request_uri,
    build_request_uri_post,
    client_id_for_certificate,
    parse_authorization_request_uri,
    parse_request_uri_post,
    parse_retention,
    request_object_claims,
    sign_request_object,
    verify_request_object,
)
from tsunagu.x509 import certificate_to_x5c, create_root_ca, issue_verifier_certificate

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
VCT = "https://credentials.tsunagu.example/EmploymentCertificate"
QUERY = {
    "credentials": [{
        "id": "employment",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [VCT]},
        "claims": [{"path": ["employer_name"]}, {"path": ["annual_salary"]}],
    }]
}
NONCE = "hSx6B3Qkz9y0dB8m2lTqUw"


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    root_key: PrivateJwk
    key: PrivateJwk
    leaf: x509.Certificate
    x5c: list[str]
    client_id: str

    def sign(self, claims: dict[str, Any], *, header: dict[str, Any] | None = None, key: PrivateJwk | None = None) -> str:
        if header is None:
            return sign_request_object(claims, key=key or self.key, x5c=self.x5c)
        return jose.sign_compact(header, claims, key or self.key)


@pytest.fixture(scope="module")
def pki() -> Pki:
    root_key, key = generate_key("ES256"), generate_key("ES256")
    root = create_root_ca(root_key, common_name="Registry Root", now=NOW, valid_for=timedelta(days=3650))
    leaf = issue_verifier_certificate(ca_key=root_key, ca_certificate=root, subject_key=key.public,
                                      dns_name="landlord.example", organization="Tokyo Homes", now=NOW,
                                      valid_for=timedelta(days=365))
    return Pki(root, root_key, key, leaf, [certificate_to_x5c(leaf)], client_id_for_certificate("x509_san_dns", leaf))


def claims_for(pki: Pki, **overrides: Any) -> dict[str, Any]:
    purpose = PurposeStatement("rental_screening", "Screening your rental application", "入居審査のため", 90,
                               "https://registry.tsunagu.example", pki.client_id)
    claims = request_object_claims(
        client_id=pki.client_id, response_uri="https://landlord.example/responses/r1", nonce=NONCE, state="s-1",
        dcql_query=QUERY, verifier_info=[purpose.to_verifier_info()], iat=NOW, exp=NOW + timedelta(minutes=10),
    )
    for name, value in overrides.items():
        if value is _DROP:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


_DROP = object()


def test_a_signed_request_round_trips_through_the_wallet_checks(pki: Pki) -> None:
    token = pki.sign(claims_for(pki))
    uri = build_authorization_request_uri(client_id=pki.client_id, request_uri="https://landlord.example/requests/r1")
    assert uri == ("openid4vp://?client_id=x509_san_dns%3Alandlord.example"
                   "&request_uri=https%3A%2F%2Flandlord.example%2Frequests%2Fr1")
    reference = parse_authorization_request_uri(uri)
    verified = verify_request_object(token, client_id=reference.client_id, trust_anchor=pki.root, now=NOW)
    request = verified.request
    assert (request.client_id, request.nonce, request.state) == ("x509_san_dns:landlord.example", NONCE, "s-1")
    assert request.response_uri == "https://landlord.example/responses/r1"
    assert [q.id for q in request.dcql_query.credentials] == ["employment"]
    assert request.dcql_query_json == QUERY
    assert request.purpose is not None
    assert (request.purpose.purpose, request.purpose.retention_days, request.purpose.text_ja) == (
        "rental_screening", 90, "入居審査のため")
    assert verified.chain.public_key.thumbprint() == pki.key.thumbprint()


def _purpose_data(pki: Pki, **data: Any) -> list[dict[str, Any]]:
    entry = PurposeStatement("guarantor_screening", "Monthly employment check", "毎月の在籍確認", 90,
                             "https://registry.tsunagu.example", pki.client_id).to_verifier_info().to_json()
    entry["data"].update(data)
    return [entry]


def test_a_request_for_ongoing_access_states_how_long(pki: Pki) -> None:
    ongoing = PurposeStatement("guarantor_screening", "Monthly employment check", "毎月の在籍確認", 90,
                               "https://registry.tsunagu.example", pki.client_id, access_type="ongoing",
                               access_period_days=730)
    data = ongoing.to_verifier_info().to_json()["data"]
    assert (data["access_type"], data["access_period"]) == ("ongoing", "P730D")
    token = pki.sign(claims_for(pki, verifier_info=[ongoing.to_verifier_info().to_json()]))
    request = verify_request_object(token, client_id=pki.client_id, trust_anchor=pki.root, now=NOW).request
    assert request.purpose == ongoing
    # A one-time statement says nothing about access: older wallets read it as before.
    one_time = verify_request_object(pki.sign(claims_for(pki)), client_id=pki.client_id, trust_anchor=pki.root,
                                     now=NOW).request.purpose
    assert one_time is not None and (one_time.access_type, one_time.access_period_days) == ("one-time", None)
    assert "access_type" not in claims_for(pki)["verifier_info"][0]["data"]


@pytest.mark.parametrize("data", [
    {"access_type": "ongoing"},                                   # no period
    {"access_type": "one-time", "access_period": "P30D"},         # a period without ongoing access
    {"access_type": "forever", "access_period": "P30D"},
    {"access_type": "ongoing", "access_period": "P1Y"},           # years have no fixed length
    {"access_type": "ongoing", "access_period": "P0D"},
])
def test_a_malformed_access_statement_is_refused(pki: Pki, data: dict[str, Any]) -> None:
    token = pki.sign(claims_for(pki, verifier_info=_purpose_data(pki, **data)))
    with pytest.raises(InvalidVerifierInfo):
        verify_request_object(token, client_id=pki.client_id, trust_anchor=pki.root, now=NOW)


def test_the_request_object_header_and_claims_follow_the_spec(pki: Pki) -> None:
    jws = jose.parse_compact(pki.sign(claims_for(pki)), typ=TYP_REQUEST_OBJECT)
    assert jws.header == {"alg": "ES256", "typ": "oauth-authz-req+jwt", "x5c": pki.x5c}
    payload = jws.payload
    assert payload["aud"] == AUD_SELF_ISSUED == "https://self-issued.me/v2"
    assert (payload["response_type"], payload["response_mode"]) == ("vp_token", "direct_post")
    assert payload["iat"] == int(NOW.timestamp()) and payload["exp"] == int(NOW.timestamp()) + 600
    assert payload["verifier_info"][0]["data"]["retention"] == "P90D"


def test_an_x509_hash_client_is_bound_to_its_certificate(pki: Pki) -> None:
    client_id = client_id_for_certificate("x509_hash", pki.leaf)
    token = pki.sign(claims_for(pki, client_id=client_id, verifier_info=_DROP))
    request = verify_request_object(token, client_id=client_id, trust_anchor=pki.root, now=NOW).request
    assert request.client_id.startswith("x509_hash:") and request.purpose is None


def test_registered_response_uri_origins_replace_the_dns_rule(pki: Pki) -> None:
    token = pki.sign(claims_for(pki, response_uri="http://127.0.0.1:8003/landlord/responses/r1"))
    verified = verify_request_object(token, client_id=pki.client_id, trust_anchor=pki.root, now=NOW,
                                     response_uri_origins=["http://127.0.0.1:8003"], allow_insecure_loopback=True)
    assert verified.request.response_uri.startswith("http://127.0.0.1:8003/")


def test_wallet_nonce_from_a_post_to_the_request_uri_is_echoed(pki: Pki) -> None:
    body = build_request_uri_post(wallet_nonce="qPmxiNFCR3QTm19POc8u",
                                  wallet_metadata={"vp_formats_supported": {"dc+sd-jwt": {}}})
    posted = parse_request_uri_post(body + "&other=ignored")
    assert posted.wallet_metadata == {"vp_formats_supported": {"dc+sd-jwt": {}}}
    token = pki.sign(claims_for(pki, wallet_nonce=posted.wallet_nonce))
    request = verify_request_object(token, client_id=pki.client_id, trust_anchor=pki.root, now=NOW,
                                    wallet_nonce="qPmxiNFCR3QTm19POc8u").request
    assert request.wallet_nonce == "qPmxiNFCR3QTm19POc8u"


# --- what a wallet must refuse ---------------------------------------------------------------------------


def _alg_none(pki: Pki) -> str:
    header = {"alg": "none", "typ": TYP_REQUEST_OBJECT, "x5c": pki.x5c}
    return ".".join(b64url_encode(json_dumps(part).encode()) for part in (header, claims_for(pki))) + "."


def _hs256(pki: Pki) -> str:
    import hmac, hashlib  # noqa: E401 - the attack is an HMAC over the public certificate

    header = {"alg": "HS256", "typ": TYP_REQUEST_OBJECT, "x5c": pki.x5c}
    data = ".".join(b64url_encode(json_dumps(part).encode()) for part in (header, claims_for(pki)))
    mac = hmac.new(pki.x5c[0].encode(), data.encode(), hashlib.sha256).digest()
    return data + "." + b64url_encode(mac)


def _other_pki_token(pki: Pki, *, expired: bool = False) -> str:
    root_key, key = generate_key("ES256"), generate_key("ES256")
    root = create_root_ca(root_key, common_name="Registry Root", now=NOW, valid_for=timedelta(days=3650))
    leaf = issue_verifier_certificate(ca_key=root_key, ca_certificate=root, subject_key=key.public,
                                      dns_name="landlord.example", organization="Impostor", now=NOW,
                                      valid_for=timedelta(days=365))
    if expired:
        root, root_key = pki.root, pki.root_key
        leaf = issue_verifier_certificate(ca_key=root_key, ca_certificate=root, subject_key=key.public,
                                          dns_name="landlord.example", organization="Tokyo Homes",
                                          now=NOW - timedelta(days=400), valid_for=timedelta(days=365))
    return sign_request_object(claims_for(pki), key=key, x5c=[certificate_to_x5c(leaf)])


Make = Callable[[Pki], tuple[str, str]]  # -> (token, client_id from the link)

HOSTILE: list[tuple[str, Make, type[Oid4vpError]]] = [
    ("typ JWT", lambda p: (p.sign(claims_for(p), header={"typ": "JWT", "x5c": p.x5c}), p.client_id), RequestObjectInvalid),
    ("no typ", lambda p: (p.sign(claims_for(p), header={"x5c": p.x5c}), p.client_id), RequestObjectInvalid),
    ("alg none", lambda p: (_alg_none(p), p.client_id), RequestObjectInvalid),
    ("HS256 keyed with the certificate", lambda p: (_hs256(p), p.client_id), RequestObjectInvalid),
    ("signed by a key other than the certificate's",
     lambda p: (p.sign(claims_for(p), key=generate_key("ES256")), p.client_id), RequestObjectInvalid),
    ("no x5c", lambda p: (p.sign(claims_for(p), header={"typ": TYP_REQUEST_OBJECT}), p.client_id),
     VerifierCertificateInvalid),
    ("x5c chain to another root", lambda p: (_other_pki_token(p), p.client_id), VerifierCertificateInvalid),
    ("expired certificate", lambda p: (_other_pki_token(p, expired=True), p.client_id), VerifierCertificateInvalid),
    ("client_id dNSName not in the certificate",
     lambda p: (p.sign(claims_for(p, client_id="x509_san_dns:bank.example")), "x509_san_dns:bank.example"),
     ClientIdMismatch),
    ("x509_hash of another certificate",
     lambda p: (p.sign(claims_for(p, client_id="x509_hash:" + "A" * 43)), "x509_hash:" + "A" * 43), ClientIdMismatch),
    ("client_id in the link differs from the object",
     lambda p: (p.sign(claims_for(p)), "x509_san_dns:bank.example"), ClientIdMismatch),
    ("unsupported prefix", lambda p: (p.sign(claims_for(p, client_id="redirect_uri:https://landlord.example/cb")),
                                      "redirect_uri:https://landlord.example/cb"), ClientIdError),
    ("no prefix (pre-registered)", lambda p: (p.sign(claims_for(p, client_id="landlord")), "landlord"), ClientIdError),
    ("response_type code", lambda p: (p.sign(claims_for(p, response_type="code")), p.client_id), RequestObjectInvalid),
    ("response_mode fragment",
     lambda p: (p.sign(claims_for(p, response_mode="fragment")), p.client_id), RequestObjectInvalid),
    ("no response_uri", lambda p: (p.sign(claims_for(p, response_uri=_DROP)), p.client_id), InvalidRequest),
    ("plain http response_uri",
     lambda p: (p.sign(claims_for(p, response_uri="http://landlord.example/r")), p.client_id), InvalidRequest),
    ("response_uri on another host",
     lambda p: (p.sign(claims_for(p, response_uri="https://evil.example/r")), p.client_id), ResponseUriNotAllowed),
    ("redirect_uri with direct_post",
     lambda p: (p.sign(claims_for(p, redirect_uri="https://landlord.example/cb")), p.client_id), InvalidRequest),
    ("no nonce", lambda p: (p.sign(claims_for(p, nonce=_DROP)), p.client_id), RequestObjectInvalid),
    ("nonce with spaces", lambda p: (p.sign(claims_for(p, nonce="a b")), p.client_id), RequestObjectInvalid),
    ("state not URL-safe", lambda p: (p.sign(claims_for(p, state="a/b")), p.client_id), RequestObjectInvalid),
    ("expired request object",
     lambda p: (p.sign(claims_for(p, exp=int(NOW.timestamp()) - 120)), p.client_id), RequestObjectInvalid),
    ("aud of another wallet", lambda p: (p.sign(claims_for(p, aud="https://wallet.example")), p.client_id),
     RequestObjectInvalid),
    ("transaction_data", lambda p: (p.sign(claims_for(p, transaction_data=["e30"])), p.client_id),
     InvalidTransactionData),
    ("no dcql_query", lambda p: (p.sign(claims_for(p, dcql_query=_DROP, verifier_info=_DROP)), p.client_id),
     InvalidRequest),
    ("dcql_query and scope", lambda p: (p.sign(claims_for(p, scope="com.example.pid")), p.client_id), InvalidRequest),
    ("invalid dcql_query", lambda p: (p.sign(claims_for(p, dcql_query={"credentials": []}, verifier_info=_DROP)),
                                      p.client_id), RequestObjectInvalid),
    ("only mdoc requested", lambda p: (p.sign(claims_for(p, verifier_info=_DROP, dcql_query={"credentials": [
        {"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"}}]})), p.client_id),
     VpFormatsNotSupported),
    ("purpose statement registered to another client",
     lambda p: (p.sign(claims_for(p, verifier_info=[PurposeStatement(
         "rental_screening", "x", "x", 30, "https://r.example", "x509_san_dns:bank.example").to_verifier_info().to_json()])),
                p.client_id), InvalidVerifierInfo),
    ("purpose code outside the vocabulary",
     lambda p: (p.sign(claims_for(p, verifier_info=[{**PurposeStatement(
         "rental_screening", "x", "x", 30, "https://r.example", p.client_id).to_verifier_info().to_json(),
         "data": {"purpose": "marketing", "purpose_text": {"en": "x", "ja": "x"}, "retention": "P1D",
                  "registry": "https://r.example", "registration": p.client_id}}])), p.client_id), InvalidVerifierInfo),
    ("verifier_info naming an unknown credential query",
     lambda p: (p.sign(claims_for(p, verifier_info=[VerifierInfo("jwt", "eyJ...", ("pid",)).to_json()])), p.client_id),
     InvalidVerifierInfo),
    ("verifier_info empty", lambda p: (p.sign(claims_for(p, verifier_info=[])), p.client_id), InvalidVerifierInfo),
]


@pytest.mark.parametrize(("make", "expected"), [(m, e) for _, m, e in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_hostile_request_object_is_refused(pki: Pki, make: Make, expected: type[Oid4vpError]) -> None:
    token, client_id = make(pki)
    with pytest.raises(Oid4vpError) as raised:
        verify_request_object(token, client_id=client_id, trust_anchor=pki.root, now=NOW)
    assert type(raised.value) is expected, raised.value.reason
    assert raised.value.error == expected.error


def test_wallet_nonce_that_was_not_echoed_is_refused(pki: Pki) -> None:
    with pytest.raises(InvalidRequest, match="wallet_nonce"):
        verify_request_object(pki.sign(claims_for(pki)), client_id=pki.client_id, trust_anchor=pki.root, now=NOW,
                              wallet_nonce="qPmxiNFCR3QTm19POc8u")


def test_response_uri_outside_the_registered_origins_is_refused(pki: Pki) -> None:
    with pytest.raises(ResponseUriNotAllowed):
        verify_request_object(pki.sign(claims_for(pki)), client_id=pki.client_id, trust_anchor=pki.root, now=NOW,
                              response_uri_origins=["https://verifier.tsunagu.example"])


def test_the_error_strings_are_the_specs(pki: Pki) -> None:
    assert {cls.error for cls in (ClientIdMismatch, RequestObjectInvalid, VerifierCertificateInvalid)} == {"invalid_request"}
    assert InvalidTransactionData.error == "invalid_transaction_data"
    assert VpFormatsNotSupported.error == "vp_formats_not_supported"
    assert InvalidRequestUriMethod.error == "invalid_request_uri_method"


# --- the link ---------------------------------------------------------------------------------------------

LINKS: list[tuple[str, str, type[Oid4vpError]]] = [
    ("no client_id", "openid4vp://?request_uri=https%3A%2F%2Fv.example%2Fr", InvalidRequest),
    ("request_uri and request", "openid4vp://?client_id=x509_san_dns%3Av.example&request_uri=https%3A%2F%2Fv.example"
                                "%2Fr&request=eyJ", InvalidRequest),
    ("unsigned request by value", "openid4vp://?client_id=x509_san_dns%3Av.example&response_type=vp_token"
                                  "&dcql_query=%7B%7D&nonce=n", InvalidRequest),
    ("request_uri_method put", "openid4vp://?client_id=x509_san_dns%3Av.example&request_uri=https%3A%2F%2Fv.example"
                               "%2Fr&request_uri_method=put", InvalidRequestUriMethod),
    ("request_uri_method POST (case-sensitive)", "openid4vp://?client_id=x509_san_dns%3Av.example&request_uri="
                                                 "https%3A%2F%2Fv.example%2Fr&request_uri_method=POST",
     InvalidRequestUriMethod),
    ("request_uri_method without request_uri", "openid4vp://?client_id=x509_san_dns%3Av.example&request=eyJ"
                                               "&request_uri_method=get", InvalidRequest),
    ("client_id twice", "openid4vp://?client_id=x509_san_dns%3Av.example&client_id=x509_san_dns%3Aw.example"
                        "&request_uri=https%3A%2F%2Fv.example%2Fr", InvalidRequest),
    ("http request_uri", "openid4vp://?client_id=x509_san_dns%3Av.example&request_uri=http%3A%2F%2Fv.example%2Fr",
     InvalidRequest),
]


@pytest.mark.parametrize(("uri", "expected"), [(u, e) for _, u, e in LINKS], ids=[n for n, _, _ in LINKS])
def test_hostile_authorization_request_link_is_refused(uri: str, expected: type[Oid4vpError]) -> None:
    with pytest.raises(Oid4vpError) as raised:
        parse_authorization_request_uri(uri)
    assert type(raised.value) is expected


def test_loopback_http_request_uri_only_when_allowed() -> None:
    uri = build_authorization_request_uri(client_id="x509_hash:" + "A" * 43,
                                          request_uri="http://127.0.0.1:8003/bank/requests/1/object",
                                          request_uri_method="post")
    with pytest.raises(InvalidRequest):
        parse_authorization_request_uri(uri)
    reference = parse_authorization_request_uri(uri, allow_insecure_loopback=True)
    assert (reference.request_uri, reference.request_uri_method) == ("http://127.0.0.1:8003/bank/requests/1/object", "post")


@pytest.mark.parametrize(("text", "days"), [("P90D", 90), ("P2W", 14), ("P0D", 0)])
def test_retention_durations(text: str, days: int) -> None:
    assert parse_retention(text) == days


@pytest.mark.parametrize("text", ["P1Y", "P1M", "PT1H", "90", 90, "P-1D", "p90d", "P90DT1H"])
def test_retention_other_than_days_or_weeks_is_refused(text: object) -> None:
    with pytest.raises(InvalidVerifierInfo):
        parse_retention(text)


def test_unverified_client_id_reads_the_claim_but_refuses_a_non_request_object() -> None:
    from tsunagu import jose, oid4vp
    from tsunagu.jwk import generate_key

    key = generate_key("ES256")
    token = jose.sign_compact({"alg": "ES256", "typ": "oauth-authz-req+jwt"}, {"client_id": "x509_hash:abc"}, key)
    assert oid4vp.unverified_client_id(token) == "x509_hash:abc"
    wrong_typ = jose.sign_compact({"alg": "ES256", "typ": "JWT"}, {"client_id": "x509_hash:abc"}, key)
    with pytest.raises(oid4vp.RequestObjectInvalid):
        oid4vp.unverified_client_id(wrong_typ)
    no_client = jose.sign_compact({"alg": "ES256", "typ": "oauth-authz-req+jwt"}, {}, key)
    with pytest.raises(oid4vp.RequestObjectInvalid):
        oid4vp.unverified_client_id(no_client)
