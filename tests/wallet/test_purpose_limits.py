"""Issue #5, purposes: the wallet refuses to disclose outside the verifier's registered purpose, tells the
verifier why, and lets the resident (never the verifier) override it only where the deployment allows."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest

from .conftest import EMPLOYMENT_CLAIMS, World, assert_error

pytestmark = pytest.mark.anyio

OVER_ASKING = "rental_screening_employment_income_and_nationality"


async def over_asking(world: World, resident: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    created = await world.ask(template=OVER_ASKING)
    shown = await world.show(resident, created)
    assert {f["path"][0] for f in shown["flags"]} == {"birthdate", "nationality_region"}
    return created, shown


async def events(world: World, resident: dict[str, str]) -> list[dict[str, Any]]:
    response = await world.wallet.get("/events", headers=resident)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def allow_override(world: World) -> None:
    """The deployment lets residents override (the setting is read per request)."""
    settings = world.wallet_app.state.settings
    world.wallet_app.state.settings = settings.model_copy(update={"allow_resident_purpose_override": True})


async def test_refusing_an_over_asking_request_tells_the_verifier_which_claims(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    created, shown = await over_asking(world, mai)

    declined = await world.wallet.post(f"/presentation-requests/{shown['id']}/decline", headers=mai,
                                       json={"reason": "outside_registered_purpose"})
    assert declined.status_code == 200, declined.text
    assert {k: declined.json()[k] for k in ("kind", "status", "consent_id", "claims")} == {
        "kind": "decline", "status": "sent", "consent_id": None, "claims": {}}
    (body,) = world.to_verifier.posted()
    form = parse_qs(body.decode())
    assert form["error"] == ["access_denied"] and "vp_token" not in form
    expected = ("the wallet refuses to disclose birthdate, nationality_region: "
                "not registered for the purpose rental_screening")
    assert form["error_description"] == [expected]
    result = await world.result(created)
    assert result["status"] == "declined"
    assert result["wallet_error"] == {"error": "access_denied", "error_description": expected}

    (refused, *_) = await events(world, mai)
    assert refused["kind"] == "request_refused_outside_purpose"
    assert refused["details"]["refusal"] == "outside_registered_purpose"
    assert refused["details"]["beyond_purpose"] == {"employment": [["birthdate"], ["nationality_region"]]}
    assert "birthdate" in refused["summary"]["en"] and refused["summary"]["ja"]
    assert (await world.wallet.get("/presentations", headers=mai)).json() == [declined.json()]
    assert (await world.wallet.get("/consents", headers=mai)).json() == []


async def test_the_reason_is_refused_for_a_request_within_the_registration(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    shown = await world.show(mai, await world.ask())
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/decline", headers=mai,
                                      json={"reason": "outside_registered_purpose"})
    assert_error(refused, 400, "invalid_request")
    assert world.to_verifier.posted() == []
    # The request is still open: a plain decline works.
    assert (await world.wallet.post(f"/presentation-requests/{shown['id']}/decline", headers=mai)).status_code == 200


@pytest.mark.parametrize("body", [{"reason": "too_nosy"}, {"reason": "outside_registered_purpose", "x": 1}])
async def test_a_malformed_decline_body_is_refused(world: World, body: dict[str, Any]) -> None:
    mai = await world.resident()
    await world.receive(mai)
    _, shown = await over_asking(world, mai)
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/decline", headers=mai, json=body)
    assert_error(refused, 400, "invalid_request")
    assert world.to_verifier.posted() == []


async def test_by_default_the_resident_cannot_override(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    _, shown = await over_asking(world, mai)
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai,
                                      json={"override_purpose_limits": True})
    assert "registered purpose" in assert_error(refused, 403, "outside_registered_purpose")["error_description"]
    assert world.to_verifier.posted() == []
    assert (await world.wallet.get("/consents", headers=mai)).json() == []
    assert (await events(world, mai))[0]["kind"] == "request_refused"


async def test_where_allowed_the_residents_override_shares_and_is_recorded(world: World) -> None:
    allow_override(world)
    mai = await world.resident()
    await world.receive(mai)
    created, shown = await over_asking(world, mai)

    # Without her override the wallet still refuses.
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert "birthdate" in assert_error(refused, 403, "outside_registered_purpose")["error_description"]
    assert world.to_verifier.posted() == []

    approved = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai,
                                       json={"override_purpose_limits": True})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "sent"
    result = await world.result(created)
    assert result["result"]["decision"] == "accepted"
    received = result["claims"]["employment"][0]
    assert received["nationality_region"] == EMPLOYMENT_CLAIMS["nationality_region"]
    assert "birthdate" in received

    (consent,) = (await world.wallet.get("/consents", headers=mai)).json()
    assert consent["purpose_override"] is True
    assert consent["beyond_purpose"] == {"employment": [["birthdate"], ["nationality_region"]]}
    assert "overriding" in consent["history"][0]["note"]
    (granted,) = [e for e in await events(world, mai) if e["kind"] == "consent_granted"]
    assert granted["details"]["purpose_override"] is True
    assert granted["details"]["beyond_purpose"] == consent["beyond_purpose"]
    assert "override" in granted["summary"]["en"] and "nationality_region" in granted["summary"]["en"]


async def test_a_consent_within_the_registration_is_not_marked_as_an_override(world: World) -> None:
    allow_override(world)
    mai = await world.resident()
    await world.receive(mai)
    shown = await world.show(mai, await world.ask())
    approved = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert approved.status_code == 200, approved.text
    (consent,) = (await world.wallet.get("/consents", headers=mai)).json()
    assert consent["purpose_override"] is False and consent["beyond_purpose"] == {}
    (granted,) = [e for e in await events(world, mai) if e["kind"] == "consent_granted"]
    assert "purpose_override" not in granted["details"]

