"""Ongoing access in requests and consents (issue #5, slice 2): shown, measured against the registration,
granted with the access period, kept active after its first presentation, and named in the receipt."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest

from tsunagu.consent import verify_consent_receipt
from tsunagu.jwk import parse_jwks

from .conftest import WALLET, World, another_wallet, assert_error, new_resident
from .consent_messages import request_link, show_link, stand_in_responses

pytestmark = pytest.mark.anyio


async def test_an_ongoing_request_is_shown_with_its_period_and_registration(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    link, _ = request_link(world, access_period_days=365)
    shown = await show_link(world, mai, link)
    assert shown["access"] == {"type": "ongoing", "period_days": 365, "max_registered_days": 730, "exceeded": False}
    assert shown["within_registration"] is True


async def test_an_approved_ongoing_consent_stays_active_and_its_receipt_names_the_refresh_uri(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    link, path = request_link(world, access_period_days=365)
    posted = stand_in_responses(world, path)
    shown = await show_link(world, mai, link)
    response = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert response.status_code == 200 and response.json()["status"] == "sent", response.text
    consent = (await world.wallet.get(f"/consents/{response.json()['consent_id']}", headers=mai)).json()

    assert consent["status"] == "active"  # not fulfilled: the verifier may refresh
    assert consent["access_type"] == "ongoing" and consent["refresh_count"] == 0
    assert consent["expires_at"].startswith((world.clock.now + timedelta(days=365)).date().isoformat())
    assert consent["notification"] is None and consent["deletion"] is None

    (form,) = posted
    receipt_token = parse_qs(form.decode())["consent_receipt"][0]
    keys = parse_jwks((await world.wallet.get("/.well-known/jwks.json")).json())
    receipt = verify_consent_receipt(receipt_token, keys=keys, expected_aud=world.landlord.registry_entry.client_id,
                                     now=world.clock.now, expected_iss=WALLET)
    assert receipt.access_type == "ongoing" and receipt.refresh_uri == f"{WALLET}/consent-refresh"
    assert receipt.expires_at == (world.clock.now + timedelta(days=365)).replace(microsecond=0)
    assert receipt.beyond_purpose == ()


async def test_a_one_time_consent_receipt_has_no_refresh_uri_and_is_fulfilled(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    link, path = request_link(world, purpose="rental_screening", access_period_days=None)
    posted = stand_in_responses(world, path)
    shown = await show_link(world, mai, link)
    response = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    consent = (await world.wallet.get(f"/consents/{response.json()['consent_id']}", headers=mai)).json()
    assert consent["status"] == "fulfilled" and consent["access_type"] == "one-time"
    receipt_token = parse_qs(posted[0].decode())["consent_receipt"][0]
    keys = parse_jwks((await world.wallet.get("/.well-known/jwks.json")).json())
    receipt = verify_consent_receipt(receipt_token, keys=keys, expected_aud=world.landlord.registry_entry.client_id,
                                     now=world.clock.now)
    assert receipt.access_type == "one-time" and receipt.refresh_uri is None


@pytest.mark.parametrize(("purpose", "days", "limit"), [
    ("guarantor_screening", 731, "at most 730 days"),  # longer than registered
    ("rental_screening", 30, "one-time access only"),  # this purpose is registered for one-time access only
])
async def test_ongoing_access_beyond_the_registration_is_flagged_refused_and_declinable(
        world: World, purpose: str, days: int, limit: str) -> None:
    mai = await world.resident()
    await world.receive(mai)
    link, path = request_link(world, purpose=purpose, access_period_days=days)
    posted = stand_in_responses(world, path)
    shown = await show_link(world, mai, link)
    assert shown["access"]["exceeded"] is True and shown["within_registration"] is False

    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    body = assert_error(refused, 403, "outside_registered_purpose")
    assert f"{days} days" in body["error_description"]
    # Never overridable, even where the resident may override claim limits.
    again = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai,
                                    json={"override_purpose_limits": True})
    assert_error(again, 403, "outside_registered_purpose")
    assert posted == [] and world.rows("SELECT id FROM wallet_consent") == []

    declined = await world.wallet.post(f"/presentation-requests/{shown['id']}/decline", headers=mai,
                                       json={"reason": "outside_registered_purpose"})
    assert declined.status_code == 200, declined.text
    (form,) = posted
    said = parse_qs(form.decode())
    assert said["error"] == ["access_denied"]
    assert f"the wallet refuses ongoing access of {days} days" in said["error_description"][0]
    assert limit in said["error_description"][0]


async def test_a_refused_approval_leaves_the_request_pending_and_sends_nothing(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    # birthdate is not registered for guarantor screening: flagged.
    link, path = request_link(world, claims=["employer_name", "annual_income", "birthdate"])
    posted = stand_in_responses(world, path)
    shown = await show_link(world, mai, link)
    assert [f["path"] for f in shown["flags"]] == [["birthdate"]]

    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert_error(refused, 403, "outside_registered_purpose")
    assert posted == []  # nothing left the wallet
    again = await world.wallet.get(f"/presentation-requests/{shown['id']}", headers=mai)
    assert again.json()["status"] == "pending"
    assert world.rows("SELECT id FROM wallet_consent") == []
    assert world.rows("SELECT id FROM wallet_credential_copy WHERE used_at IS NOT NULL") == []

    # Still answerable: by a decline that says why.
    declined = await world.wallet.post(f"/presentation-requests/{shown['id']}/decline", headers=mai,
                                       json={"reason": "outside_registered_purpose"})
    assert declined.status_code == 200, declined.text
    assert len(posted) == 1 and b"birthdate" in posted[0]


async def test_the_receipt_carries_the_claims_shared_beyond_the_purpose(world: World) -> None:
    async with another_wallet(world, allow_resident_purpose_override=True) as wallet:
        mai = await new_resident(wallet, "mai")
        created = await world.offer()
        accepted = await wallet.post("/offers", headers=mai, json={"offer_uri": created["offer_uri"],
                                                                    "tx_code": created["tx_code"]})
        assert accepted.status_code == 201, accepted.text
        link, path = request_link(world, claims=["employer_name", "annual_income", "birthdate"])
        posted = stand_in_responses(world, path)
        shown = await wallet.post("/presentation-requests", headers=mai, json={"uri": link})
        assert shown.status_code == 201, shown.text
        approved = await wallet.post(f"/presentation-requests/{shown.json()['id']}/approve", headers=mai,
                                     json={"override_purpose_limits": True})
        assert approved.status_code == 200 and approved.json()["status"] == "sent", approved.text
        keys = parse_jwks((await wallet.get("/.well-known/jwks.json")).json())
    receipt = verify_consent_receipt(parse_qs(posted[0].decode())["consent_receipt"][0], keys=keys,
                                     expected_aud=world.landlord.registry_entry.client_id, now=world.clock.now)
    (beyond,) = receipt.beyond_purpose
    assert beyond.credential_query_id == "employment" and beyond.paths == (("birthdate",),)
    assert beyond.vct == receipt.claims[0].vct
