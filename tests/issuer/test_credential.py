"""The Credential Endpoint (OpenID4VCI 1.0 §8): access tokens, key proofs, nonces and batches, and every refusal."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from issuer.settings import IssuerTenant
from tsunagu import jose, oid4vci
from tsunagu.dpop import build_dpop_proof
from tsunagu.encoding import b64url_encode, json_dumps
from tsunagu.jwk import PrivateJwk, generate_key

from .conftest import ADMIN, BASE, EMPLOYER, Clock, Issuer, Wallet, assert_error, make_settings, running

pytestmark = pytest.mark.anyio

CONFIG = "EmploymentCertificate"


def request_with(*proofs: str, configuration: str = CONFIG) -> dict[str, Any]:
    return oid4vci.build_credential_request(credential_configuration_id=configuration, proofs=list(proofs))


async def ready(issuer: Issuer, wallet: Wallet) -> str:
    """Redeem a fresh offer; the wallet holds a token. Returns a fresh c_nonce."""
    await wallet.redeem(await issuer.offer())
    return await wallet.nonce()


# --- access tokens --------------------------------------------------------------------------


async def test_no_access_token(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    response = await wallet.credential(request_with(wallet.proof(nonce)), headers={})
    assert_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == "Bearer"  # RFC 6750 §3.1: no error code without credentials


async def test_unknown_and_malformed_access_tokens(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    for header in ("Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer", "Bearer " + "a" * 600):
        response = await wallet.credential(request_with(wallet.proof(nonce)), headers={"Authorization": header})
        assert_error(response, 401, "invalid_token")
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_expired_access_token(issuer: Issuer, wallet: Wallet) -> None:
    await ready(issuer, wallet)
    issuer.clock.now += timedelta(seconds=301)
    nonce = await wallet.nonce()
    assert_error(await wallet.credential(request_with(wallet.proof(nonce))), 401, "invalid_token")


async def test_access_token_of_another_tenant(issuer: Issuer, wallet: Wallet) -> None:
    await ready(issuer, wallet)
    nonce = await wallet.nonce("tax-office")
    proof = wallet.proof(nonce, audience=f"{BASE}/tax-office")
    response = await wallet.credential(request_with(proof, configuration="ResidentTaxCertificate"), tenant="tax-office",
                                       headers=wallet.auth_headers(f"{BASE}/tax-office/credential"))
    assert_error(response, 401, "invalid_token")


async def test_bearer_token_sent_with_the_dpop_scheme(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    assert wallet.token_type == "Bearer"
    response = await wallet.credential(request_with(wallet.proof(nonce)), headers={"Authorization": f"DPoP {wallet.access_token}"})
    assert_error(response, 401, "invalid_token")


# --- DPoP-bound tokens --------------------------------------------------------------------------


@pytest.fixture
async def dpop_wallet(issuer: Issuer) -> Wallet:
    wallet = Wallet(issuer, dpop_key=generate_key("ES256"))
    await wallet.redeem(await issuer.offer())
    assert wallet.token_type == "DPoP"
    return wallet


URL = f"{EMPLOYER}/credential"


def dpop_headers(wallet: Wallet, *, key: PrivateJwk | None = None, htu: str = URL, jti: str = "jti-1",
                 iat: datetime | None = None, token: str | None = None) -> dict[str, str]:
    assert wallet.dpop_key is not None and wallet.access_token is not None
    proof = build_dpop_proof(key or wallet.dpop_key, htm="POST", htu=htu, iat=iat or wallet.now, jti=jti,
                             access_token=token or wallet.access_token)
    return {"Authorization": f"DPoP {wallet.access_token}", "DPoP": proof}


async def test_dpop_bound_token_with_the_bearer_scheme(dpop_wallet: Wallet) -> None:
    nonce = await dpop_wallet.nonce()
    response = await dpop_wallet.credential(request_with(dpop_wallet.proof(nonce)), headers={"Authorization": f"Bearer {dpop_wallet.access_token}"})
    assert_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith('DPoP error="invalid_token"')


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda w: {"Authorization": f"DPoP {w.access_token}"}, id="dpop header missing"),
        pytest.param(lambda w: dpop_headers(w, key=generate_key("ES256")), id="proof by another key"),
        pytest.param(lambda w: dpop_headers(w, htu=f"{EMPLOYER}/notification"), id="proof for another url"),
        pytest.param(lambda w: dpop_headers(w, token="another-token"), id="proof for another token"),
        pytest.param(lambda w: dpop_headers(w, iat=w.now - timedelta(minutes=10)), id="stale proof"),
    ],
)
async def test_dpop_proof_mismatch_at_the_credential_endpoint(dpop_wallet: Wallet, headers: Callable[[Wallet], dict[str, str]]) -> None:
    nonce = await dpop_wallet.nonce()
    response = await dpop_wallet.credential(request_with(dpop_wallet.proof(nonce)), headers=headers(dpop_wallet))
    assert_error(response, 401, "invalid_dpop_proof")
    assert response.headers["www-authenticate"].startswith('DPoP error="invalid_dpop_proof"')


async def test_replayed_dpop_proof(dpop_wallet: Wallet) -> None:
    headers = dpop_headers(dpop_wallet, jti="same")
    first = await dpop_wallet.credential(request_with(dpop_wallet.proof(await dpop_wallet.nonce())), headers=headers)
    assert first.status_code == 200, first.text
    again = await dpop_wallet.credential(request_with(dpop_wallet.proof(await dpop_wallet.nonce())), headers=headers)
    assert_error(again, 401, "invalid_dpop_proof")


# --- the request ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(lambda p: {"credential_configuration_id": CONFIG, "proof": {"proof_type": "jwt", "jwt": p}}, "invalid_credential_request", id="singular proof"),
        pytest.param(lambda p: {"credential_configuration_id": CONFIG}, "invalid_proof", id="no proofs"),
        pytest.param(lambda p: {"credential_configuration_id": CONFIG, "proofs": {"jwt": []}}, "invalid_proof", id="empty proofs"),
        pytest.param(lambda p: {"credential_configuration_id": CONFIG, "proofs": {"attestation": [p]}}, "invalid_proof", id="unsupported proof type"),
        pytest.param(lambda p: {"proofs": {"jwt": [p]}}, "invalid_credential_request", id="no configuration"),
        pytest.param(lambda p: request_with(p, configuration="ResidenceCard"), "unknown_credential_configuration", id="configuration of another tenant"),
        pytest.param(lambda p: request_with(p, configuration="PassportCredential"), "unknown_credential_configuration", id="unknown configuration"),
        pytest.param(lambda p: {"credential_identifier": "x", "proofs": {"jwt": [p]}}, "unknown_credential_identifier", id="credential identifier"),
        pytest.param(lambda p: {**request_with(p), "credential_response_encryption": {"jwk": {}, "enc": "A128GCM"}}, "invalid_encryption_parameters", id="response encryption"),
        pytest.param(lambda p: ["not", "an", "object"], "invalid_credential_request", id="not an object"),
    ],
)
async def test_malformed_credential_requests(issuer: Issuer, wallet: Wallet, body: Callable[[str], Any], error: str) -> None:
    nonce = await ready(issuer, wallet)
    assert_error(await wallet.credential(body(wallet.proof(nonce))), 400, error)


async def test_body_must_be_json(issuer: Issuer, wallet: Wallet) -> None:
    await ready(issuer, wallet)
    headers = {**wallet.auth_headers(URL), "Content-Type": "application/json"}
    assert_error(await issuer.client.post(URL, content=b'{"a":1,"a":2}', headers=headers), 400, "invalid_credential_request")
    assert_error(await issuer.client.post(URL, content=b"{nope", headers=headers), 400, "invalid_credential_request")
    form = {**wallet.auth_headers(URL), "Content-Type": "application/x-www-form-urlencoded"}
    assert_error(await issuer.client.post(URL, content=b"a=1", headers=form), 400, "invalid_credential_request")


async def test_oversized_body(issuer: Issuer, wallet: Wallet) -> None:
    await ready(issuer, wallet)
    response = await issuer.client.post(URL, content=b"{" + b" " * 300_000 + b"}", headers={**wallet.auth_headers(URL), "Content-Type": "application/json"})
    assert_error(response, 413, "invalid_request")


# --- key proofs -------------------------------------------------------------------------------


def forged(key: PrivateJwk, now: datetime, nonce: str, *, header: dict[str, Any] | None = None,
           payload: dict[str, Any] | None = None, drop: tuple[str, ...] = (), hs256: bool = False) -> str:
    jwk = key.public.to_jwk()
    jwk.pop("kid", None)
    h: dict[str, Any] = {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": jwk, **(header or {})}
    p: dict[str, Any] = {"aud": EMPLOYER, "iat": int(now.timestamp()), "nonce": nonce, **(payload or {})}
    for name in drop:
        h.pop(name, None)
        p.pop(name, None)
    data = jose.signing_input(h, p)
    if hs256:
        return data.decode() + "." + b64url_encode(hmac.new(json_dumps(jwk).encode(), data, hashlib.sha256).digest())
    if h.get("alg") == "none":
        return data.decode() + "."
    return jose.assemble(data, jose.sign(data, key))


BAD_PROOFS: list[tuple[str, Callable[[PrivateJwk, datetime, str], str], str]] = [
    ("wrong typ", lambda k, n, c: forged(k, n, c, header={"typ": "JWT"}), "invalid_proof"),
    ("alg none", lambda k, n, c: forged(k, n, c, header={"alg": "none"}), "invalid_proof"),
    ("alg HS256", lambda k, n, c: forged(k, n, c, header={"alg": "HS256"}, hs256=True), "invalid_proof"),
    ("ES512 not allowed", lambda k, n, c: forged(k, n, c, header={"alg": "ES512"}), "invalid_proof"),
    ("missing jwk", lambda k, n, c: forged(k, n, c, drop=("jwk",)), "invalid_proof"),
    ("private key in jwk", lambda k, n, c: forged(k, n, c, header={"jwk": k.to_jwk(include_private=True)}), "invalid_proof"),
    ("signed by another key", lambda k, n, c: forged(k, n, c, header={"jwk": generate_key().public.to_jwk()}), "invalid_proof"),
    ("wrong aud", lambda k, n, c: forged(k, n, c, payload={"aud": f"{BASE}/tax-office"}), "invalid_proof"),
    ("stale iat", lambda k, n, c: forged(k, n - timedelta(minutes=10), c), "invalid_proof"),
    ("future iat", lambda k, n, c: forged(k, n + timedelta(minutes=10), c), "invalid_proof"),
    ("no nonce", lambda k, n, c: forged(k, n, c, drop=("nonce",)), "invalid_proof"),
    ("unknown nonce", lambda k, n, c: forged(k, n, "made-up-nonce"), "invalid_nonce"),
]


@pytest.mark.parametrize(("case", "make", "error"), BAD_PROOFS, ids=[c for c, _, _ in BAD_PROOFS])
async def test_bad_proof_is_refused_and_changes_nothing(issuer: Issuer, wallet: Wallet, case: str,
                                                        make: Callable[[PrivateJwk, datetime, str], str], error: str) -> None:
    nonce = await ready(issuer, wallet)
    good = wallet.proof(nonce)
    bad = make(generate_key("ES256"), wallet.now, nonce)
    assert_error(await wallet.credential(request_with(good, bad)), 400, error)
    # Nothing was consumed: the same nonce and token still work.
    response = await wallet.credential(request_with(wallet.proof(nonce)))
    assert response.status_code == 200, response.text


async def test_nonce_is_single_use(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    assert (await wallet.credential(request_with(wallet.proof(nonce)))).status_code == 200
    assert_error(await wallet.credential(request_with(wallet.proof(nonce))), 400, "invalid_nonce")


async def test_nonce_expires(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    issuer.clock.now += timedelta(seconds=301)  # the nonce (300 s) has expired, and the token with it
    await wallet.redeem(await issuer.offer())
    assert_error(await wallet.credential(request_with(wallet.proof(nonce))), 400, "invalid_nonce")


async def test_nonce_of_another_tenant(issuer: Issuer, wallet: Wallet) -> None:
    await ready(issuer, wallet)
    foreign = await wallet.nonce("tax-office")
    assert_error(await wallet.credential(request_with(wallet.proof(foreign))), 400, "invalid_nonce")


async def test_nonce_response_is_not_cached(issuer: Issuer) -> None:
    response = await issuer.client.post("/employer/nonce")
    assert response.headers["cache-control"] == "no-store"
    assert len(response.json()["c_nonce"]) >= 32


async def test_two_proofs_of_one_key(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    key = generate_key("ES256")
    proofs = [wallet.proof(nonce, key=key), wallet.proof(nonce, key=key)]
    assert_error(await wallet.credential(request_with(*proofs)), 400, "invalid_proof")


async def test_more_proofs_than_the_batch_size(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    proofs = [wallet.proof(nonce) for _ in range(11)]
    assert_error(await wallet.credential(request_with(*proofs)), 400, "invalid_credential_request")


async def test_batch_of_ten_with_eddsa_and_es256_keys(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    proofs = [wallet.proof(nonce, key=generate_key("EdDSA" if i % 2 else "ES256")) for i in range(10)]
    response = await wallet.credential(request_with(*proofs))
    assert response.status_code == 200, response.text
    assert len(response.json()["credentials"]) == 10


async def test_offer_yields_a_bounded_number_of_credentials(sqlite_url: str) -> None:
    async for issuer in running(make_settings(sqlite_url, max_credentials_per_offer=2), Clock()):
        wallet = Wallet(issuer)
        created = await issuer.offer()
        await wallet.redeem(created)
        ok = await wallet.credential(request_with(wallet.proof(await wallet.nonce()), wallet.proof(await wallet.nonce())))
        assert ok.status_code == 200, ok.text
        assert_error(await wallet.credential(request_with(wallet.proof(await wallet.nonce()))), 400, "credential_request_denied")
        status = (await issuer.client.get(f"/admin/employer/offers/{created['offer_id']}", headers=ADMIN)).json()
        assert status["credentials_issued"] == 2


async def test_token_only_covers_the_offered_configuration(sqlite_url: str) -> None:
    tenant = IssuerTenant(id="city", name_en="City", name_ja="市役所",
                          credential_configuration_ids=("EmploymentCertificate", "ResidentTaxCertificate"))
    async for issuer in running(make_settings(sqlite_url, tenants=(tenant,)), Clock()):
        wallet = Wallet(issuer)
        await wallet.redeem(await issuer.offer("city"))
        nonce = await wallet.nonce("city")
        proof = wallet.proof(nonce, audience=f"{BASE}/city")
        response = await wallet.credential(request_with(proof, configuration="ResidentTaxCertificate"), tenant="city",
                                           headers=wallet.auth_headers(f"{BASE}/city/credential"))
        assert_error(response, 400, "credential_request_denied")


# --- notifications ------------------------------------------------------------------------------


async def test_notification_refusals(issuer: Issuer, wallet: Wallet) -> None:
    nonce = await ready(issuer, wallet)
    issued = (await wallet.credential(request_with(wallet.proof(nonce)))).json()
    assert_error(await wallet.notify({"notification_id": "unknown", "event": "credential_accepted"}), 400, "invalid_notification_id")
    assert_error(await wallet.notify({"notification_id": issued["notification_id"], "event": "accepted"}), 400, "invalid_notification_request")
    assert_error(await wallet.notify({"event": "credential_accepted"}), 400, "invalid_notification_request")
    assert_error(await wallet.notify(["x"]), 400, "invalid_notification_request")
    # Another wallet's token cannot report on this issuance.
    other = Wallet(issuer)
    await other.redeem(await issuer.offer())
    assert_error(await other.notify({"notification_id": issued["notification_id"], "event": "credential_deleted"}), 400, "invalid_notification_id")
    no_token = await issuer.client.post(f"{EMPLOYER}/notification", json={"notification_id": issued["notification_id"], "event": "credential_accepted"})
    assert_error(no_token, 401, "invalid_token")
    assert (await wallet.notify({"notification_id": issued["notification_id"], "event": "credential_failure",
                                 "event_description": "Could not store the Credential."})).status_code == 204
