"""tsunagu.consent: the lifecycle, the receipt a wallet signs, and the messages that follow a grant."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from tsunagu import jose
from tsunagu.consent import (
    CONSENT_STATUSES,
    LEGAL_BASIS_CONSENT,
    TYP_CONSENT_RECEIPT,
    TYP_CONSENT_REFRESH_REQUEST,
    TYP_CONSENT_REVOCATION,
    TYP_DELETION_ACK,
    ConsentAudienceMismatch,
    ConsentCertificateInvalid,
    ConsentClientIdMismatch,
    ConsentedClaims,
    ConsentError,
    ConsentIssuerMismatch,
    ConsentKeyNotFound,
    ConsentReceipt,
    ConsentRefreshRequest,
    ConsentRevocation,
    ConsentSignatureInvalid,
    ConsentStatus,
    ConsentTokenExpired,
    ConsentTokenInvalid,
    ConsentTokenNotYetValid,
    ConsentTransitionRefused,
    DeletionAck,
    InvalidConsentData,
    build_consent_receipt,
    build_consent_refresh_request,
    build_consent_revocation,
    build_deletion_ack,
    pairwise_subject,
    transition,
    verify_consent_receipt,
    verify_consent_refresh_request,
    verify_consent_revocation,
    verify_deletion_ack,
)
from tsunagu.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.oid4vp import client_id_for_certificate
from tsunagu.trust import LocalizedText
from tsunagu.x509 import certificate_to_x5c, create_root_ca, issue_verifier_certificate

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
WALLET = "https://wallet.tsunagu.example"
VCT = "https://credentials.tsunagu.example/EmploymentCertificate"


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    key: PrivateJwk
    x5c: list[str]
    client_id: str


def _pki(dns_name: str = "landlord.example") -> Pki:
    root_key, key = generate_key("ES256"), generate_key("ES256")
    root = create_root_ca(root_key, common_name="Registry Root", now=NOW, valid_for=timedelta(days=3650))
    leaf = issue_verifier_certificate(ca_key=root_key, ca_certificate=root, subject_key=key.public, dns_name=dns_name,
                                      organization="Tokyo Homes", now=NOW, valid_for=timedelta(days=365))
    return Pki(root, key, [certificate_to_x5c(leaf)], client_id_for_certificate("x509_san_dns", leaf))


PKI = _pki()
OTHER_PKI = _pki()  # same DNS name, another registry root
WALLET_KEY = generate_key("ES256", kid="wallet-2026")
OTHER_KEY = generate_key("ES256", kid="wallet-2026")  # same kid, another key


def receipt(**changes: Any) -> ConsentReceipt:
    base = ConsentReceipt(
        consent_id="cns_8Jq2w",
        wallet=WALLET,
        subject=pairwise_subject(b"s" * 32, "resident-1", PKI.client_id),
        verifier_client_id=PKI.client_id,
        verifier_name=LocalizedText("Tokyo Homes", "東京ホームズ"),
        purpose="rental_screening",
        purpose_text=LocalizedText("Screening your application for flat 301", "301号室の入居審査のため"),
        claims=(ConsentedClaims("employment", VCT, (("employer_name",), ("annual_salary",))),),
        granted_at=NOW,
        expires_at=NOW + timedelta(days=30),
        retention_days=90,
        access_type="one-time",
        notification_uri=f"{WALLET}/consent-notifications",
    )
    return replace(base, **changes)


def _claims_of(token: str) -> dict[str, Any]:
    payload = json_loads(b64url_decode(token.split(".")[1]))
    assert isinstance(payload, dict)
    return payload


def _resigned(token: str, key: PrivateJwk, *, typ: str, header: dict[str, Any] | None = None, **changes: Any) -> str:
    claims = _claims_of(token)
    for name, value in changes.items():
        if value is _DROP:
            claims.pop(name)
        else:
            claims[name] = value
    return jose.sign_compact(header if header is not None else {"typ": typ}, claims, key)


_DROP = object()


# --- lifecycle --------------------------------------------------------------------------------------------

ALLOWED = {("active", "fulfilled"), ("active", "revoked"), ("active", "expired"), ("fulfilled", "revoked")}


@pytest.mark.parametrize("current", CONSENT_STATUSES)
@pytest.mark.parametrize("target", CONSENT_STATUSES)
def test_transition_table(current: ConsentStatus, target: ConsentStatus) -> None:
    if (current, target) in ALLOWED:
        assert transition(current, target) == target
    else:
        with pytest.raises(ConsentTransitionRefused):
            transition(current, target)


def test_pairwise_subject_differs_per_verifier_and_hides_the_username() -> None:
    secret = b"k" * 32
    bank = pairwise_subject(secret, "alice", "x509_san_dns:bank.example")
    assert bank == pairwise_subject(secret, "alice", "x509_san_dns:bank.example")
    assert bank != pairwise_subject(secret, "alice", "x509_san_dns:landlord.example")
    assert bank != pairwise_subject(b"j" * 32, "alice", "x509_san_dns:bank.example")
    assert "alice" not in bank and len(bank) == 43
    expected = hmac.new(secret, json_dumps(["alice", "x509_san_dns:bank.example"]).encode(), hashlib.sha256).digest()
    assert bank == b64url_encode(expected)
    # the two inputs cannot run into each other
    assert pairwise_subject(secret, "ab", "c") != pairwise_subject(secret, "a", "bc")


def test_pairwise_subject_needs_a_real_secret() -> None:
    with pytest.raises(InvalidConsentData):
        pairwise_subject(b"short", "alice", PKI.client_id)


# --- the receipt ---------------------------------------------------------------------------------------------


def test_a_receipt_round_trips_and_carries_the_documented_claims() -> None:
    token = build_consent_receipt(receipt(), WALLET_KEY)
    got = verify_consent_receipt(token, keys=[generate_key("ES256", kid="wallet-2025").public, generate_key("EdDSA", kid="x").public,
                                       WALLET_KEY.public],
                                 expected_aud=PKI.client_id, now=NOW + timedelta(seconds=5), expected_iss=WALLET)
    assert got == receipt()
    header = json_loads(b64url_decode(token.split(".")[0]))
    assert header == {"alg": "ES256", "kid": "wallet-2026", "typ": "consent-receipt+jwt"}
    claims = _claims_of(token)
    assert claims["iss"] == WALLET and claims["aud"] == PKI.client_id and claims["jti"] == "cns_8Jq2w"
    assert claims["iat"] == int(NOW.timestamp()) and claims["exp"] == int((NOW + timedelta(days=30)).timestamp())
    assert claims["purpose"] == {"code": "rental_screening", "text": {
        "en": "Screening your application for flat 301", "ja": "301号室の入居審査のため"}}
    assert claims["claims"] == [{"credential_query_id": "employment", "vct": VCT,
                                 "paths": [["employer_name"], ["annual_salary"]]}]
    assert claims["legal_basis"] == LEGAL_BASIS_CONSENT and claims["retention_days"] == 90
    assert claims["sub"] != "resident-1" and "status" not in claims


def test_an_ongoing_receipt_names_where_to_refresh_and_an_override_names_its_claims() -> None:
    ongoing = receipt(access_type="ongoing", refresh_uri=f"{WALLET}/consent-refresh",
                      beyond_purpose=(ConsentedClaims("employment", VCT, (("annual_salary",),)),))
    token = build_consent_receipt(ongoing, WALLET_KEY)
    claims = _claims_of(token)
    assert claims["access_type"] == "ongoing" and claims["refresh_uri"] == f"{WALLET}/consent-refresh"
    assert claims["beyond_purpose"] == [{"credential_query_id": "employment", "vct": VCT, "paths": [["annual_salary"]]}]
    assert verify_consent_receipt(token, keys=[WALLET_KEY.public], expected_aud=PKI.client_id, now=NOW) == ongoing
    # A one-time receipt within its purpose carries neither claim.
    plain = _claims_of(build_consent_receipt(receipt(), WALLET_KEY))
    assert "refresh_uri" not in plain and "beyond_purpose" not in plain


def test_an_ongoing_receipt_without_refresh_uri_is_refused() -> None:
    token = _resigned(build_consent_receipt(receipt(), WALLET_KEY), WALLET_KEY, typ=TYP_CONSENT_RECEIPT,
                      header={"typ": TYP_CONSENT_RECEIPT, "kid": "wallet-2026"}, access_type="ongoing")
    with pytest.raises(ConsentTokenInvalid, match="refresh_uri"):
        verify_consent_receipt(token, keys=[WALLET_KEY.public], expected_aud=PKI.client_id, now=NOW)


def test_receipt_times_are_whole_seconds() -> None:
    r = receipt(granted_at=NOW + timedelta(microseconds=700))
    assert r.granted_at == NOW


@pytest.mark.parametrize(("changes", "message"), [
    ({"purpose": "marketing"}, "purpose code"),
    ({"access_type": "forever"}, "access_type"),
    ({"retention_days": -1}, "retention_days"),
    ({"claims": ()}, "at least one credential"),
    ({"expires_at": NOW}, "expire after"),
    ({"granted_at": datetime(2026, 11, 23)}, "timezone-aware"),
    ({"subject": ""}, "subject"),
    ({"access_type": "ongoing"}, "refresh_uri"),
    ({"refresh_uri": f"{WALLET}/consent-refresh"}, "refresh_uri"),
    ({"beyond_purpose": (ConsentedClaims("employment", VCT, (("birthdate",),)),)}, "beyond_purpose"),
    ({"beyond_purpose": (ConsentedClaims("residence", VCT, (("employer_name",),)),)}, "beyond_purpose"),
])
def test_a_receipt_with_impossible_values_cannot_be_built(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidConsentData, match=message):
        receipt(**changes)


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json_loads(b64url_decode(payload))
    claims["retention_days"] = 3650
    return ".".join([header, b64url_encode(json_dumps(claims).encode()), signature])


def _alg_none(token: str) -> str:
    header = {"alg": "none", "typ": TYP_CONSENT_RECEIPT, "kid": "wallet-2026"}
    return b64url_encode(json_dumps(header).encode()) + "." + token.split(".")[1] + "."


GOOD = build_consent_receipt(receipt(), WALLET_KEY)
RECEIPT_HOSTILE: list[tuple[str, Callable[[], str], type[ConsentError]]] = [
    ("typ JWT", lambda: _resigned(GOOD, WALLET_KEY, typ="JWT"), ConsentTokenInvalid),
    ("typ of a revocation event", lambda: _resigned(GOOD, WALLET_KEY, typ=TYP_CONSENT_REVOCATION), ConsentTokenInvalid),
    ("alg none", lambda: _alg_none(GOOD), ConsentTokenInvalid),
    ("not a JWS", lambda: "eyJ.not-a-token", ConsentTokenInvalid),
    ("tampered after signing", lambda: _tampered(GOOD), ConsentSignatureInvalid),
    ("signed by another key with the wallet's kid", lambda: build_consent_receipt(receipt(), OTHER_KEY),
     ConsentSignatureInvalid),
    ("kid not in the JWK Set", lambda: build_consent_receipt(receipt(), generate_key("ES256", kid="nope")),
     ConsentKeyNotFound),
    ("aud of another verifier", lambda: build_consent_receipt(
        receipt(verifier_client_id="x509_san_dns:bank.example"), WALLET_KEY), ConsentAudienceMismatch),
    ("verifier.client_id differs from aud",
     lambda: _resigned(GOOD, WALLET_KEY, typ=TYP_CONSENT_RECEIPT, verifier={
         "client_id": "x509_san_dns:bank.example", "name": {"en": "B", "ja": "B"}}), ConsentAudienceMismatch),
    ("issued by another wallet", lambda: build_consent_receipt(receipt(wallet="https://evil.example"), WALLET_KEY),
     ConsentIssuerMismatch),
    ("expired", lambda: build_consent_receipt(
        receipt(granted_at=NOW - timedelta(days=31), expires_at=NOW - timedelta(days=1)), WALLET_KEY),
     ConsentTokenExpired),
    ("granted in the future", lambda: build_consent_receipt(
        receipt(granted_at=NOW + timedelta(hours=1)), WALLET_KEY), ConsentTokenNotYetValid),
    ("purpose outside the vocabulary", lambda: _resigned(GOOD, WALLET_KEY, typ=TYP_CONSENT_RECEIPT, purpose={
        "code": "marketing", "text": {"en": "x", "ja": "x"}}), ConsentTokenInvalid),
    ("retention as a string", lambda: _resigned(GOOD, WALLET_KEY, typ=TYP_CONSENT_RECEIPT, retention_days="P90D"),
     ConsentTokenInvalid),
    ("claim path not an array", lambda: _resigned(GOOD, WALLET_KEY, typ=TYP_CONSENT_RECEIPT, claims=[
        {"credential_query_id": "employment", "vct": VCT, "paths": ["employer_name"]}]), ConsentTokenInvalid),
    ("negative array index in a path", lambda: _resigned(GOOD, WALLET_KEY, typ=TYP_CONSENT_RECEIPT, claims=[
        {"credential_query_id": "employment", "vct": VCT, "paths": [["a", -1]]}]), ConsentTokenInvalid),
    ("exp before iat", lambda: _resigned(GOOD, WALLET_KEY, typ=TYP_CONSENT_RECEIPT, exp=int(NOW.timestamp()) - 1),
     ConsentTokenInvalid),
    *[(f"no {name}", (lambda n: lambda: _resigned(GOOD, WALLET_KEY, typ=TYP_CONSENT_RECEIPT, **{n: _DROP}))(name),
       {"aud": ConsentAudienceMismatch, "iss": ConsentIssuerMismatch}.get(name, ConsentTokenInvalid))
      for name in ("iss", "sub", "aud", "jti", "iat", "exp", "version", "verifier", "purpose", "claims",
                   "legal_basis", "retention_days", "access_type", "notification_uri")],
]


@pytest.mark.parametrize(("make", "expected"), [(m, e) for _, m, e in RECEIPT_HOSTILE],
                         ids=[n for n, _, _ in RECEIPT_HOSTILE])
def test_hostile_receipt_is_refused(make: Callable[[], str], expected: type[ConsentError]) -> None:
    with pytest.raises(ConsentError) as raised:
        verify_consent_receipt(make(), keys=[WALLET_KEY.public], expected_aud=PKI.client_id, now=NOW,
                               expected_iss=WALLET)
    assert type(raised.value) is expected, raised.value.reason


# --- the revocation event ------------------------------------------------------------------------------------


def revocation(**changes: Any) -> ConsentRevocation:
    base = ConsentRevocation(consent_id="cns_8Jq2w", wallet=WALLET, client_id=PKI.client_id, event="revoked",
                             issued_at=NOW, jti="evt_1")
    return replace(base, **changes)


def test_a_revocation_event_round_trips_even_when_delivered_late() -> None:
    token = build_consent_revocation(revocation(), WALLET_KEY)
    late = NOW + timedelta(days=3)  # an outbox retried through a verifier outage
    assert verify_consent_revocation(token, keys=[WALLET_KEY.public], expected_aud=PKI.client_id, now=late,
                                     expected_iss=WALLET) == revocation()
    assert _claims_of(token) == {"iss": WALLET, "aud": PKI.client_id, "jti": "evt_1", "iat": int(NOW.timestamp()),
                                 "consent_id": "cns_8Jq2w", "event": "revoked"}


GOOD_REVOCATION = build_consent_revocation(revocation(), WALLET_KEY)
REVOCATION_HOSTILE: list[tuple[str, Callable[[], str], type[ConsentError]]] = [
    ("typ of a receipt", lambda: _resigned(GOOD_REVOCATION, WALLET_KEY, typ=TYP_CONSENT_RECEIPT), ConsentTokenInvalid),
    ("a receipt instead of an event", lambda: GOOD, ConsentTokenInvalid),
    ("tampered", lambda: GOOD_REVOCATION[:-4] + ("AAAA" if not GOOD_REVOCATION.endswith("AAAA") else "BBBB"),
     ConsentSignatureInvalid),
    ("another verifier", lambda: build_consent_revocation(revocation(client_id="x509_san_dns:bank.example"),
                                                          WALLET_KEY), ConsentAudienceMismatch),
    ("unknown event", lambda: _resigned(GOOD_REVOCATION, WALLET_KEY, typ=TYP_CONSENT_REVOCATION, event="paused"),
     ConsentTokenInvalid),
    ("issued in the future", lambda: build_consent_revocation(revocation(issued_at=NOW + timedelta(hours=1)),
                                                              WALLET_KEY), ConsentTokenNotYetValid),
    ("no consent_id", lambda: _resigned(GOOD_REVOCATION, WALLET_KEY, typ=TYP_CONSENT_REVOCATION, consent_id=_DROP),
     ConsentTokenInvalid),
    ("no jti", lambda: _resigned(GOOD_REVOCATION, WALLET_KEY, typ=TYP_CONSENT_REVOCATION, jti=_DROP),
     ConsentTokenInvalid),
]


@pytest.mark.parametrize(("make", "expected"), [(m, e) for _, m, e in REVOCATION_HOSTILE],
                         ids=[n for n, _, _ in REVOCATION_HOSTILE])
def test_hostile_revocation_event_is_refused(make: Callable[[], str], expected: type[ConsentError]) -> None:
    with pytest.raises(ConsentError) as raised:
        verify_consent_revocation(make(), keys=[WALLET_KEY.public], expected_aud=PKI.client_id, now=NOW)
    assert type(raised.value) is expected, raised.value.reason


# --- the deletion acknowledgement ----------------------------------------------------------------------------


def ack(**changes: Any) -> DeletionAck:
    base = DeletionAck(consent_id="cns_8Jq2w", client_id=PKI.client_id, wallet=WALLET, outcome="deleted",
                       issued_at=NOW, jti="ack_1", event_jti="evt_1")
    return replace(base, **changes)


def test_a_deletion_ack_round_trips() -> None:
    token = build_deletion_ack(ack(), PKI.key, x5c=PKI.x5c)
    got = verify_deletion_ack(token, trust_anchor=PKI.root, expected_client_id=PKI.client_id, expected_aud=WALLET,
                              now=NOW)
    assert got == ack()
    assert json_loads(b64url_decode(token.split(".")[0]))["typ"] == TYP_DELETION_ACK


def test_a_retained_outcome_names_its_legal_basis_and_end() -> None:
    retained = ack(outcome="retained", legal_basis="APTCP Art. 6 (7-year record keeping)",
                   retain_until=NOW + timedelta(days=7 * 365))
    token = build_deletion_ack(retained, PKI.key, x5c=PKI.x5c)
    assert verify_deletion_ack(token, trust_anchor=PKI.root, expected_client_id=PKI.client_id, expected_aud=WALLET,
                               now=NOW) == retained
    with pytest.raises(InvalidConsentData):
        ack(outcome="retained")
    with pytest.raises(InvalidConsentData):
        ack(legal_basis="because")


GOOD_ACK = build_deletion_ack(ack(), PKI.key, x5c=PKI.x5c)
X5C_HOSTILE: list[tuple[str, Callable[[str, str, dict[str, Any]], str], type[ConsentError]]] = [
    # (name, make(good token, typ, claims-overrides-unused) -> token, expected)
    ("wrong typ", lambda t, typ, _: _resigned(t, PKI.key, typ="JWT", header={"typ": "JWT", "x5c": PKI.x5c}),
     ConsentTokenInvalid),
    ("alg none", lambda t, typ, _: b64url_encode(json_dumps({"alg": "none", "typ": typ, "x5c": PKI.x5c}).encode())
     + "." + t.split(".")[1] + ".", ConsentTokenInvalid),
    ("no x5c", lambda t, typ, _: _resigned(t, PKI.key, typ=typ), ConsentCertificateInvalid),
    ("x5c not under the registry root",
     lambda t, typ, _: _resigned(t, OTHER_PKI.key, typ=typ, header={"typ": typ, "x5c": OTHER_PKI.x5c}),
     ConsentCertificateInvalid),
    ("signed by a key other than the certificate's",
     lambda t, typ, _: _resigned(t, generate_key("ES256"), typ=typ, header={"typ": typ, "x5c": PKI.x5c}),
     ConsentSignatureInvalid),
    ("client_id the certificate does not name",
     lambda t, typ, _: _resigned(t, PKI.key, typ=typ, header={"typ": typ, "x5c": PKI.x5c},
                                 client_id="x509_san_dns:bank.example"), ConsentClientIdMismatch),
    ("x509_hash of another certificate",
     lambda t, typ, _: _resigned(t, PKI.key, typ=typ, header={"typ": typ, "x5c": PKI.x5c},
                                 client_id="x509_hash:" + "A" * 43), ConsentClientIdMismatch),
    ("client_id without prefix",
     lambda t, typ, _: _resigned(t, PKI.key, typ=typ, header={"typ": typ, "x5c": PKI.x5c}, client_id="landlord"),
     ConsentClientIdMismatch),
    ("addressed to another wallet",
     lambda t, typ, _: _resigned(t, PKI.key, typ=typ, header={"typ": typ, "x5c": PKI.x5c},
                                 aud="https://other-wallet.example"), ConsentAudienceMismatch),
    ("issued in the future",
     lambda t, typ, _: _resigned(t, PKI.key, typ=typ, header={"typ": typ, "x5c": PKI.x5c},
                                 iat=int((NOW + timedelta(hours=1)).timestamp()),
                                 exp=int((NOW + timedelta(hours=1, minutes=5)).timestamp())), ConsentTokenNotYetValid),
    ("no consent_id", lambda t, typ, _: _resigned(t, PKI.key, typ=typ, header={"typ": typ, "x5c": PKI.x5c},
                                                  consent_id=_DROP), ConsentTokenInvalid),
]


@pytest.mark.parametrize(("make", "expected"), [(m, e) for _, m, e in X5C_HOSTILE], ids=[n for n, _, _ in X5C_HOSTILE])
def test_hostile_deletion_ack_is_refused(make: Callable[[str, str, dict[str, Any]], str],
                                         expected: type[ConsentError]) -> None:
    with pytest.raises(ConsentError) as raised:
        verify_deletion_ack(make(GOOD_ACK, TYP_DELETION_ACK, {}), trust_anchor=PKI.root,
                            expected_client_id=PKI.client_id, expected_aud=WALLET, now=NOW)
    assert type(raised.value) is expected, raised.value.reason


@pytest.mark.parametrize(("changes", "expected"), [
    ({"outcome": "forgotten"}, ConsentTokenInvalid),
    ({"outcome": "retained"}, ConsentTokenInvalid),  # without legal_basis and retain_until
    ({"retain_until": "2030-01-01"}, ConsentTokenInvalid),
])
def test_ack_with_impossible_content_is_refused(changes: dict[str, Any], expected: type[ConsentError]) -> None:
    token = _resigned(GOOD_ACK, PKI.key, typ=TYP_DELETION_ACK, header={"typ": TYP_DELETION_ACK, "x5c": PKI.x5c},
                      **changes)
    with pytest.raises(expected):
        verify_deletion_ack(token, trust_anchor=PKI.root, expected_client_id=PKI.client_id, expected_aud=WALLET,
                            now=NOW)


def test_an_ack_from_another_registered_verifier_is_refused() -> None:
    with pytest.raises(ConsentClientIdMismatch):
        verify_deletion_ack(GOOD_ACK, trust_anchor=PKI.root, expected_client_id="x509_san_dns:bank.example",
                            expected_aud=WALLET, now=NOW)


# --- the refresh request -------------------------------------------------------------------------------------


def refresh(**changes: Any) -> ConsentRefreshRequest:
    base = ConsentRefreshRequest(client_id=PKI.client_id, wallet=WALLET, consent_id="cns_8Jq2w",
                                 nonce="n-0c1d2e3f", issued_at=NOW, expires_at=NOW + timedelta(minutes=5))
    return replace(base, **changes)


GOOD_REFRESH = build_consent_refresh_request(refresh(), PKI.key, x5c=PKI.x5c)


def test_a_refresh_request_round_trips() -> None:
    got = verify_consent_refresh_request(GOOD_REFRESH, trust_anchor=PKI.root, expected_aud=WALLET, now=NOW,
                                         expected_client_id=PKI.client_id)
    assert got == refresh()
    assert set(_claims_of(GOOD_REFRESH)) == {"client_id", "aud", "consent_id", "nonce", "iat", "exp"}


def test_a_refresh_request_expires_and_may_not_live_long() -> None:
    with pytest.raises(ConsentTokenExpired):
        verify_consent_refresh_request(GOOD_REFRESH, trust_anchor=PKI.root, expected_aud=WALLET,
                                       now=NOW + timedelta(minutes=7))
    with pytest.raises(InvalidConsentData):
        refresh(expires_at=NOW + timedelta(days=1))
    long_lived = _resigned(GOOD_REFRESH, PKI.key, typ=TYP_CONSENT_REFRESH_REQUEST,
                           header={"typ": TYP_CONSENT_REFRESH_REQUEST, "x5c": PKI.x5c},
                           exp=int((NOW + timedelta(days=1)).timestamp()))
    with pytest.raises(ConsentTokenInvalid):
        verify_consent_refresh_request(long_lived, trust_anchor=PKI.root, expected_aud=WALLET, now=NOW)


@pytest.mark.parametrize(("make", "expected"), [(m, e) for _, m, e in X5C_HOSTILE], ids=[n for n, _, _ in X5C_HOSTILE])
def test_hostile_refresh_request_is_refused(make: Callable[[str, str, dict[str, Any]], str],
                                            expected: type[ConsentError]) -> None:
    with pytest.raises(ConsentError) as raised:
        verify_consent_refresh_request(make(GOOD_REFRESH, TYP_CONSENT_REFRESH_REQUEST, {}), trust_anchor=PKI.root,
                                       expected_aud=WALLET, now=NOW, expected_client_id=PKI.client_id)
    assert type(raised.value) is expected, raised.value.reason


def test_a_deletion_ack_is_not_a_refresh_request() -> None:
    with pytest.raises(ConsentTokenInvalid):
        verify_consent_refresh_request(GOOD_ACK, trust_anchor=PKI.root, expected_aud=WALLET, now=NOW)


# --- docs/consent.md cannot drift from the code ---------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "consent.md"


def test_the_consent_docs_examples_run_and_name_every_claim() -> None:
    text = DOC.read_text(encoding="utf-8")
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        exec(compile(block, "docs/consent.md", "exec"), namespace)
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.S)]
    built = [GOOD, GOOD_REVOCATION, GOOD_ACK, GOOD_REFRESH]
    assert [set(example) for example in examples] == [set(_claims_of(token)) for token in built]
    for token in built:  # every claim has a row in a table of the page
        for claim in _claims_of(token):
            assert f"| `{claim}` |" in text, claim
