"""Ongoing access: the request asks for it, the receipt must grant it, and the verifier refreshes it
server to server, getting a fresh presentation it verifies and stores under the consent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.responses import JSONResponse, Response

from sqlmodel import Session

from tsunagu.consent import ConsentedClaims, build_consent_receipt
from verifier.tables import VerifierConsentReceipt
from verifier.templates import VCT_EMPLOYMENT

from .conftest import ADMIN, NOW, checks_by_id
from .consent_wallet import GUARANTOR_PATHS, WALLET, Setup, consent_view, grant, open_setup, receipt_for

pytestmark = pytest.mark.anyio


@pytest.fixture
async def setup(tmp_path: Path, database_url: str) -> AsyncIterator[Setup]:
    async with open_setup(tmp_path, database_url) as opened:
        yield opened


async def test_an_ongoing_request_object_carries_the_access_period(setup: Setup) -> None:
    world = setup.world
    created = await world.create(purpose="guarantor_screening", template="guarantor_screening_employment",
                                 access_type="ongoing", access_period_days=730)
    assert created["registration_warnings"] == []  # the landlord is registered for 730 days of ongoing access
    request = await world.fetch_request(created)
    assert request.purpose is not None
    assert (request.purpose.access_type, request.purpose.access_period_days) == ("ongoing", 730)
    shown = await world.result(created)
    assert (shown["access_type"], shown["access_period_days"], shown["kind"]) == ("ongoing", 730, "request")


async def test_a_one_time_request_object_says_nothing_of_ongoing_access(setup: Setup) -> None:
    request = await setup.world.fetch_request(await setup.world.create())
    assert request.purpose is not None
    assert (request.purpose.access_type, request.purpose.access_period_days) == ("one-time", None)


@pytest.mark.parametrize(("purpose", "template", "days", "allowed"), [
    ("guarantor_screening", "guarantor_screening_employment", 731, "at most 730 days"),
    ("rental_screening", "rental_screening_employment_income", 30, "one-time access only"),
])
async def test_ongoing_access_beyond_the_registration_is_warned(setup: Setup, purpose: str, template: str, days: int,
                                                               allowed: str) -> None:
    created = await setup.world.create(purpose=purpose, template=template, access_type="ongoing",
                                       access_period_days=days)
    warnings = [w for w in created["registration_warnings"] if w["kind"] == "access_period"]
    assert len(warnings) == 1 and allowed in warnings[0]["reason"]["en"] and warnings[0]["reason"]["ja"]


@pytest.mark.parametrize("body", [{"access_type": "ongoing"}, {"access_period_days": 30},
                                  {"access_type": "ongoing", "access_period_days": 0}])
async def test_an_access_period_goes_with_ongoing_access_only(setup: Setup, body: dict[str, object]) -> None:
    response = await setup.world.client.post("/admin/landlord/requests", headers=ADMIN, json={
        "purpose": "guarantor_screening", "template": "guarantor_screening_employment", "retention_days": 90, **body})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_a_one_time_receipt_for_an_ongoing_request_does_not_match(setup: Setup) -> None:
    result = await grant(setup, ongoing=True, access_type="one-time", refresh_uri=None)
    check = checks_by_id(result)["consent_receipt"]
    assert (check["outcome"], check["code"]) == ("warning", "verifier.consent_receipt_mismatch")
    assert "one-time" in check["reason"]["en"] and result["consent"] is None


async def test_a_refresh_fetches_verifies_and_stores_a_fresh_presentation(setup: Setup) -> None:
    world = setup.world
    original = await grant(setup, ongoing=True)
    assert original["consent"]["access_type"] == "ongoing" and original["consent_id"] == "cns_ongoing"
    world.clock.now += timedelta(days=20)  # the test registry is valid for 30 days
    world.issuer.iat, world.issuer.exp = world.clock.now, world.clock.now + timedelta(days=1)  # a fresh status list
    response = await world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert (fresh["kind"], fresh["status"], fresh["consent_id"]) == ("refresh", "completed", "cns_ongoing")
    assert fresh["request_id"] != original["request_id"]
    assert fresh["result"]["decision"] == "accepted", [c for c in fresh["result"]["checks"] if c["outcome"] != "passed"]
    assert fresh["claims"]["employment"][0]["annual_income"] == 4_800_000
    assert set(fresh["claims"]["employment"][0]) >= {p[0] for p in GUARANTOR_PATHS}
    assert fresh["retain_until"].startswith((world.clock.now + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M"))
    assert fresh["consent"]["consent_id"] == "cns_ongoing"
    # The wallet got a signed request, for this consent, from this verifier, bound to the new row's nonce.
    (asked,) = setup.wallet.refreshes
    assert (asked.consent_id, asked.client_id, asked.wallet) == ("cns_ongoing", original["client_id"], WALLET)
    assert asked.expires_at - asked.issued_at == timedelta(seconds=300)
    view = await consent_view(world, "cns_ongoing")
    assert [(r["kind"], r["held"]) for r in view["requests"]] == [("request", True), ("refresh", True)]
    assert view["status"] == "active" and view["receipt"]["access_type"] == "ongoing"


async def test_each_refresh_has_its_own_nonce(setup: Setup) -> None:
    await grant(setup, ongoing=True)
    for _ in range(2):
        response = await setup.world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
        assert response.status_code == 200, response.text
    first, second = setup.wallet.refreshes
    assert first.nonce != second.nonce


async def test_a_presentation_for_another_nonce_is_rejected_and_not_kept(setup: Setup) -> None:
    await grant(setup, ongoing=True)
    setup.wallet.refresh_nonce = "an-old-nonce"
    response = await setup.world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert fresh["result"]["decision"] == "rejected" and fresh["claims"] is None
    failed = [c for c in fresh["result"]["checks"] if c["outcome"] == "failed"]
    assert [c["id"] for c in failed] == ["holder_binding"]


@pytest.mark.parametrize(("answer", "code"), [
    (JSONResponse({"error": "consent_revoked", "error_description": "the resident revoked it"}, 403),
     "consent_revoked"),
    (JSONResponse({"error": "credential_unavailable", "error_description": "deleted"}, 409), "credential_unavailable"),
    (Response("<html>oops</html>", 500, media_type="text/html"), "HTTP 500"),
])
async def test_a_wallet_refusal_is_reported_with_its_code(setup: Setup, answer: Response, code: str) -> None:
    await grant(setup, ongoing=True)
    setup.wallet.refresh_answer = answer
    response = await setup.world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 409
    assert response.json()["error"] == "consent_refresh_refused" and code in response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"
    view = await consent_view(setup.world, "cns_ongoing")
    assert len(view["requests"]) == 1  # nothing stored for a refused refresh


async def test_an_unreachable_wallet_is_502(setup: Setup) -> None:
    await grant(setup, ongoing=True)
    setup.wallet.down = True
    response = await setup.world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 502 and response.json()["error"] == "wallet_unavailable"


async def test_an_answer_that_is_no_refresh_response_is_502(setup: Setup) -> None:
    await grant(setup, ongoing=True)
    setup.wallet.refresh_answer = JSONResponse({"consent_id": "another", "vp_token": {}})
    response = await setup.world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 502 and response.json()["error"] == "wallet_unavailable"
    assert len((await consent_view(setup.world, "cns_ongoing"))["requests"]) == 1


async def test_refresh_is_refused_for_one_time_unknown_and_ended_consents(setup: Setup) -> None:
    world = setup.world
    await grant(setup, ongoing=False)
    response = await world.client.post("/admin/landlord/consents/cns_once/refresh", headers=ADMIN)
    assert response.status_code == 409 and response.json()["error"] == "consent_not_ongoing"
    response = await world.client.post("/admin/landlord/consents/nope/refresh", headers=ADMIN)
    assert response.status_code == 404 and response.json()["error"] == "unknown_consent"
    response = await world.client.post("/admin/bank/consents/cns_once/refresh", headers=ADMIN)
    assert response.status_code == 404  # another tenant's consent is unknown here
    await grant(setup, ongoing=True)
    world.clock.now += timedelta(days=731)
    response = await world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 409 and response.json()["error"] == "consent_ended"
    assert setup.wallet.refreshes == []


async def test_a_refresh_uri_off_the_wallet_origin_is_not_called(setup: Setup) -> None:
    await grant(setup, ongoing=True, refresh_uri="https://other-wallet.test/consent-refresh")
    response = await setup.world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 409 and response.json()["error"] == "refresh_uri_refused"
    assert setup.wallet.refreshes == [] and setup.other.refreshes == []


async def test_a_refresh_carrying_more_than_the_consent_is_rejected_and_not_kept(setup: Setup) -> None:
    original = await grant(setup, ongoing=True)
    assert original["result"]["decision"] == "accepted"
    # The receipt this verifier holds consents to the employer's name only (signed by the wallet, as ever);
    # a wallet that then refreshes with more is not believed.
    request = await setup.world.fetch_request(await setup.world.create(
        purpose="guarantor_screening", template="guarantor_screening_employment", access_type="ongoing",
        access_period_days=730))
    narrower = receipt_for(request, ongoing=True,
                           claims=(ConsentedClaims("employment", VCT_EMPLOYMENT, (("employer_name",),)),))
    with Session(setup.app.state.engine) as session:
        stored = session.get(VerifierConsentReceipt, original["request_id"])
        assert stored is not None
        stored.receipt = build_consent_receipt(narrower, setup.wallet.key)
        session.add(stored)
        session.commit()
    response = await setup.world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert fresh["result"]["decision"] == "rejected" and fresh["claims"] is None
    check = checks_by_id(fresh)["consent_receipt"]
    assert (check["outcome"], check["code"]) == ("failed", "verifier.consent_receipt_mismatch")
    assert "annual_income" in check["reason"]["en"] and "employment_type" in check["reason"]["en"]


async def test_what_came_under_an_ongoing_consent_is_not_kept_past_its_end(setup: Setup) -> None:
    # Retention 90 days, but the resident's ongoing consent ends after 30: the first answer goes with it.
    original = await grant(setup, ongoing=True, expires_at=NOW + timedelta(days=30))
    assert original["result"]["decision"] == "accepted"
    assert original["retain_until"].startswith((NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
