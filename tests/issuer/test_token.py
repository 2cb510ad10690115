"""The Token Endpoint (OpenID4VCI 1.0 §6): every way a Pre-Authorized Code exchange is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tsunagu import oid4vci
from tsunagu.dpop import build_dpop_proof
from tsunagu.jwk import generate_key

from .conftest import ADMIN, BASE, Clock, Issuer, Wallet, assert_error, make_settings, running

pytestmark = pytest.mark.anyio


def code_of(created: dict[str, Any]) -> str:
    return str(created["credential_offer"]["grants"][oid4vci.PRE_AUTHORIZED_CODE_GRANT]["pre-authorized_code"])


async def test_token_response_is_not_cached_and_ignores_unknown_parameters(issuer: Issuer, wallet: Wallet) -> None:
    created = await issuer.offer()
    response = await wallet.token(code_of(created), extra={"scope": "whatever", "authorization_details": "[]", "x": "1"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 300)


async def test_code_is_single_use(issuer: Issuer, wallet: Wallet) -> None:
    created = await issuer.offer()
    assert (await wallet.token(code_of(created))).status_code == 200
    assert_error(await wallet.token(code_of(created)), 400, "invalid_grant")


async def test_code_expires(issuer: Issuer, wallet: Wallet) -> None:
    created = await issuer.offer(expires_in=120)
    issuer.clock.now += timedelta(seconds=121)
    assert_error(await wallet.token(code_of(created)), 400, "invalid_grant")
    status = (await issuer.client.get(f"/admin/employer/offers/{created['offer_id']}", headers=ADMIN)).json()
    assert status["status"] == "expired"


async def test_unknown_code_and_code_of_another_tenant(issuer: Issuer, wallet: Wallet) -> None:
    assert_error(await wallet.token("not-a-code"), 400, "invalid_grant")
    created = await issuer.offer()
    assert_error(await wallet.token(code_of(created), tenant="tax-office"), 400, "invalid_grant")
    # The failed try at the wrong tenant did not use the code up.
    assert (await wallet.token(code_of(created))).status_code == 200


async def test_wrong_tx_code_until_locked(issuer: Issuer, wallet: Wallet) -> None:
    created = await issuer.offer(tx_code=True)
    wrong = "000000" if created["tx_code"] != "000000" else "111111"
    first = await wallet.token(code_of(created), tx_code=wrong)
    assert_error(first, 400, "invalid_grant")
    assert "2 tries left" in first.json()["error_description"]
    assert_error(await wallet.token(code_of(created), tx_code=wrong), 400, "invalid_grant")
    last = await wallet.token(code_of(created), tx_code=wrong)
    assert_error(last, 400, "invalid_grant")
    assert "no longer valid" in last.json()["error_description"]
    # Locked: even the right code is refused now.
    assert_error(await wallet.token(code_of(created), tx_code=created["tx_code"]), 400, "invalid_grant")
    status = (await issuer.client.get(f"/admin/employer/offers/{created['offer_id']}", headers=ADMIN)).json()
    assert (status["status"], status["tx_code_attempts"]) == ("locked", 3)


async def test_right_tx_code_after_one_wrong_try(issuer: Issuer, wallet: Wallet) -> None:
    created = await issuer.offer(tx_code=True)
    wrong = "000000" if created["tx_code"] != "000000" else "111111"
    assert_error(await wallet.token(code_of(created), tx_code=wrong), 400, "invalid_grant")
    assert (await wallet.token(code_of(created), tx_code=created["tx_code"])).status_code == 200


async def test_tx_code_missing_or_unexpected_is_invalid_request(issuer: Issuer, wallet: Wallet) -> None:
    with_code = await issuer.offer(tx_code=True)
    assert_error(await wallet.token(code_of(with_code)), 400, "invalid_request")
    without = await issuer.offer()
    assert_error(await wallet.token(code_of(without), tx_code="123456"), 400, "invalid_request")
    # Neither refusal counted as a try nor used the code.
    assert (await wallet.token(code_of(with_code), tx_code=with_code["tx_code"])).status_code == 200
    assert (await wallet.token(code_of(without))).status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"pre-authorized_code": "x"}, "unsupported_grant_type"),
        ({"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT}, "invalid_request"),
        ({"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT, "pre-authorized_code": ""}, "invalid_request"),
    ],
)
async def test_malformed_token_requests(issuer: Issuer, form: dict[str, str], error: str) -> None:
    assert_error(await issuer.client.post(f"{BASE}/employer/token", data=form), 400, error)


async def test_repeated_parameter_is_invalid_request(issuer: Issuer) -> None:
    created = await issuer.offer()
    body = f"grant_type={oid4vci.PRE_AUTHORIZED_CODE_GRANT}&pre-authorized_code={code_of(created)}&pre-authorized_code=other"
    response = await issuer.client.post(
        "/employer/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_error(response, 400, "invalid_request")


async def test_json_body_is_invalid_request(issuer: Issuer) -> None:
    created = await issuer.offer()
    response = await issuer.client.post(
        "/employer/token", json={"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT, "pre-authorized_code": code_of(created)}
    )
    assert_error(response, 400, "invalid_request")


async def test_unknown_tenant_is_not_found(issuer: Issuer, wallet: Wallet) -> None:
    response = await wallet.token("x", tenant="bank")
    assert response.status_code == 404


async def test_dpop_proof_problems_at_the_token_endpoint(issuer: Issuer) -> None:
    key = generate_key("ES256")
    created = await issuer.offer()
    form = oid4vci.build_token_request(code_of(created))
    url = f"{BASE}/employer/token"

    def proof(htu: str = url, jti: str = "j1") -> str:
        return build_dpop_proof(key, htm="POST", htu=htu, iat=issuer.clock.now, jti=jti)

    assert_error(await issuer.client.post(url, data=form, headers={"DPoP": proof(htu=f"{BASE}/tax-office/token")}), 400, "invalid_dpop_proof")
    assert_error(await issuer.client.post(url, data=form, headers={"DPoP": "not.a.jwt"}), 400, "invalid_dpop_proof")
    two = [("DPoP", proof(jti="a")), ("DPoP", proof(jti="b"))]
    assert_error(await issuer.client.post(url, data=form, headers=two), 400, "invalid_dpop_proof")
    good = proof(jti="once")
    first = await issuer.client.post(url, data=form, headers={"DPoP": good})
    assert first.status_code == 200 and first.json()["token_type"] == "DPoP"
    again = await issuer.client.post(url, data=oid4vci.build_token_request(code_of(await issuer.offer())), headers={"DPoP": good})
    assert_error(again, 400, "invalid_dpop_proof")  # replayed jti


async def test_dpop_required_by_setting(sqlite_url: str) -> None:
    async for issuer in running(make_settings(sqlite_url, require_dpop=True), Clock()):
        created = await issuer.offer()
        assert_error(await Wallet(issuer).token(code_of(created)), 400, "invalid_dpop_proof")
        response = await Wallet(issuer, dpop_key=generate_key("ES256")).token(code_of(created))
        assert response.json()["token_type"] == "DPoP"
