"""Accepting credential offers (OpenID4VCI 1.0) against the real issuer, and what the wallet refuses."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tsunagu.oid4vci import PRE_AUTHORIZED_CODE_GRANT

from .conftest import EMPLOYER, ISSUER, TAX_CLAIMS, World, another_wallet, assert_error, new_resident

pytestmark = pytest.mark.anyio


def by_value(offer: dict[str, Any]) -> str:
    return "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer), safe="")


async def test_offer_by_value_and_a_second_issuer(world: World) -> None:
    mai = await world.resident()
    created = await world.offer()
    response = await world.wallet.post("/offers", headers=mai, json={"offer_uri": by_value(created["credential_offer"])})
    assert response.status_code == 201, response.text
    tax = await world.receive(mai, "tax-office", configuration="ResidentTaxCertificate", claims=TAX_CLAIMS)
    assert tax["type"]["name"] == {"en": "Resident Tax Certificate", "ja": "住民税課税証明書"}
    assert tax["issuer"]["name"] == {"en": "Shibuya City", "ja": "渋谷区"}  # the registry's name for it
    names = {c["path"][0]: c["name"] for c in tax["claims"]}
    assert names["total_income"] == {"en": "Total income (JPY)", "ja": "合計所得金額（円）"}
    assert tax["valid"] is True and tax["issued_at"].startswith("2026-11-23T09:00")

    listed = (await world.wallet.get("/credentials", headers=mai)).json()
    assert [c["type"]["configuration_id"] for c in listed] in (
        ["ResidentTaxCertificate", "EmploymentCertificate"], ["EmploymentCertificate", "ResidentTaxCertificate"])
    # Opening it checks its status with the issuer for the first time; everything else is as received.
    opened = (await world.wallet.get(f"/credentials/{tax['id']}", headers=mai)).json()
    assert (tax["status"], opened["status"]) == ("unknown", "valid")
    status = {"status", "status_date", "status_text", "status_check"}
    assert {k: v for k, v in opened.items() if k not in status} == {k: v for k, v in tax.items() if k not in status}


async def test_transaction_code(world: World) -> None:
    mai = await world.resident()
    created = await world.offer(tx_code=True)
    missing = await world.wallet.post("/offers", headers=mai, json={"offer_uri": created["offer_uri"]})
    assert "6-character transaction code" in assert_error(missing, 400, "tx_code_required")["error_description"]
    wrong = "000000" if created["tx_code"] != "000000" else "111111"
    refused = await world.wallet.post("/offers", headers=mai, json={"offer_uri": created["offer_uri"], "tx_code": wrong})
    described = assert_error(refused, 400, "issuer_refused")["error_description"]
    assert EMPLOYER in described and "invalid_grant" in described
    accepted = await world.wallet.post("/offers", headers=mai,
                                       json={"offer_uri": created["offer_uri"], "tx_code": created["tx_code"]})
    assert accepted.status_code == 201, accepted.text
    assert (await world.wallet.get("/credentials", headers=mai)).json() == accepted.json()


async def test_an_offer_is_redeemed_once(world: World) -> None:
    mai, ken = await world.resident("mai"), await world.resident("ken")
    created = await world.offer()
    uri = by_value(created["credential_offer"])
    assert (await world.wallet.post("/offers", headers=mai, json={"offer_uri": uri})).status_code == 201
    again = await world.wallet.post("/offers", headers=ken, json={"offer_uri": uri})
    described = assert_error(again, 400, "issuer_refused")["error_description"]
    assert EMPLOYER in described and "invalid_grant" in described
    assert (await world.wallet.get("/credentials", headers=ken)).json() == []


def _offer(**changes: Any) -> dict[str, Any]:
    offer: dict[str, Any] = {"credential_issuer": EMPLOYER, "credential_configuration_ids": ["EmploymentCertificate"],
                             "grants": {PRE_AUTHORIZED_CODE_GRANT: {"pre-authorized_code": "abc"}}}
    offer.update(changes)
    return offer


@pytest.mark.parametrize(("offer_uri", "status", "error"), [
    ("not an offer", 400, "invalid_request"),
    ("openid-credential-offer://?credential_offer=%7B", 400, "invalid_request"),
    ("openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fissuer.test%2Fo", 400, "invalid_request"),
    (by_value(_offer(credential_issuer="http://issuer.test/employer")), 400, "invalid_request"),
    (by_value(_offer(grants={"authorization_code": {"issuer_state": "x"}})), 400, "unsupported_offer"),
    (by_value(_offer(credential_configuration_ids=["PassportCredential"])), 400, "invalid_request"),
    # An issuer that does not host this tenant says so (404 not_found): passed on, not "unavailable".
    (by_value(_offer(credential_issuer=f"{ISSUER}/bank")), 400, "issuer_refused"),
    (by_value(_offer(credential_issuer="https://down.test/employer")), 502, "issuer_unavailable"),
    ("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fdown.test%2Fo", 502, "issuer_unavailable"),
    (by_value(_offer()), 400, "issuer_refused"),  # a code the issuer never issued
])
async def test_offers_the_wallet_refuses(world: World, offer_uri: str, status: int, error: str) -> None:
    mai = await world.resident()
    assert_error(await world.wallet.post("/offers", headers=mai, json={"offer_uri": offer_uri}), status, error)
    assert (await world.wallet.get("/credentials", headers=mai)).json() == []


class Tampering(httpx.AsyncBaseTransport):
    """The issuer, but every credential it issues arrives with a broken signature."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/credential"):
            return response
        body = json.loads(await response.aread())
        for entry in body["credentials"]:
            jwt, _, rest = entry["credential"].partition("~")
            head, payload, signature = jwt.split(".")
            entry["credential"] = f"{head}.{payload}.{signature[:-4]}AAAA~{rest}"
        data = json.dumps(body).encode()
        # stream=, not content=: a transport hands the client an unread stream, as a network would.
        return httpx.Response(response.status_code, headers={"Content-Type": "application/json"},
                              stream=httpx.ByteStream(data))


async def test_a_credential_that_does_not_verify_is_not_stored(world: World) -> None:
    tampering = Tampering(httpx.ASGITransport(world.issuer_app))
    async with another_wallet(world, issuer_transport=tampering) as wallet:
        mai = await new_resident(wallet, "mai")
        created = await world.offer()
        refused = await wallet.post("/offers", headers=mai, json={"offer_uri": created["offer_uri"]})
        assert "does not verify" in assert_error(refused, 502, "issuer_unavailable")["error_description"]
        assert (await wallet.get("/credentials", headers=mai)).json() == []
    # The wallet told the issuer it did not accept them (§11).
    assert tampering.paths[-1] == "/employer/notification"


async def test_batch_size_is_a_setting(world: World) -> None:
    async with another_wallet(world, batch_size=1) as wallet:
        mai = await new_resident(wallet, "mai")
        created = await world.offer()
        response = await wallet.post("/offers", headers=mai, json={"offer_uri": created["offer_uri"]})
        assert response.status_code == 201, response.text
        assert [(c["copies"], c["copies_left"]) for c in response.json()] == [(1, 1)]


class Watching(httpx.AsyncBaseTransport):
    """The issuer, with the headers of every request the wallet sent it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, httpx.Headers]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.url.path, request.headers))
        return await self.inner.handle_async_request(request)


async def test_the_access_token_is_dpop_bound_when_the_issuer_supports_it(world: World) -> None:
    watching = Watching(httpx.ASGITransport(world.issuer_app))
    async with another_wallet(world, issuer_transport=watching) as wallet:
        mai = await new_resident(wallet, "mai")
        created = await world.offer()
        assert (await wallet.post("/offers", headers=mai, json={"offer_uri": created["offer_uri"]})).status_code == 201
    sent = dict(watching.requests)
    assert "dpop" in sent["/employer/token"]
    assert sent["/employer/credential"]["authorization"].startswith("DPoP ")
    assert "dpop" in sent["/employer/credential"] and "dpop" in sent["/employer/notification"]
    # The order of the spec: offer, metadata, AS metadata, token, nonce, credential, issuer keys, notification.
    assert [path for path, _ in watching.requests] == [
        f"/employer/credential-offers/{created['offer_id']}", "/.well-known/openid-credential-issuer/employer",
        "/.well-known/oauth-authorization-server/employer", "/employer/token", "/employer/nonce",
        "/employer/credential", "/.well-known/jwt-vc-issuer/employer", "/employer/notification"]
