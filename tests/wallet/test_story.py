"""DESIGN.md flows 1-4 through the wallet: issue, request, consent, present, against the real services."""

from __future__ import annotations

import pytest

from .conftest import EMPLOYER, EMPLOYMENT_CLAIMS, RENTAL_CLAIMS, World

pytestmark = pytest.mark.anyio


async def test_employment_certificate_to_landlord(world: World) -> None:
    mai = await world.resident("mai")
    credential = await world.receive(mai, tx_code=True)
    assert credential["type"]["vct"] == "urn:tsunagu:vct:employment-certificate:1"
    assert credential["issuer"]["id"] == EMPLOYER
    assert credential["issuer"]["registered"] is True
    assert credential["copies"] == 3 and credential["copies_left"] == 3
    values = {c["path"][0]: c["value"] for c in credential["claims"]}
    assert values == EMPLOYMENT_CLAIMS

    created = await world.ask("landlord")
    shown = await world.show(mai, created)
    assert shown["verifier"]["client_id"] == created["client_id"]
    assert shown["verifier"]["name"] == {"en": "Sakura Homes", "ja": "さくら不動産"}
    assert shown["purpose"]["code"] == "rental_screening" and shown["purpose"]["registered"] is True
    assert shown["retention"] == {"days": 90, "max_registered_days": 90, "exceeded": False}
    assert shown["flags"] == [] and shown["within_registration"] is True and shown["satisfiable"] is True
    (query,) = shown["credential_queries"]
    (candidate,) = query["candidates"]
    assert candidate["credential_id"] == credential["id"]
    assert {c["path"][0]: c["value"] for c in candidate["claims"]} == {k: EMPLOYMENT_CLAIMS[k] for k in RENTAL_CLAIMS}

    answer = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert answer.status_code == 200, answer.text
    presentation = answer.json()
    assert presentation["status"] == "sent", presentation
    result = await world.result(created)
    assert result["result"]["decision"] == "accepted", result
    (received,) = result["claims"]["employment"]
    assert {k: received[k] for k in RENTAL_CLAIMS} == {k: EMPLOYMENT_CLAIMS[k] for k in RENTAL_CLAIMS}
    assert "birthdate" not in received and "nationality_region" not in received
