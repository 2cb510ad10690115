"""The resident's access log (issue #5): every event about their data, filterable, exportable, their own only."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from .conftest import EMPLOYMENT_CLAIMS, RENTAL_CLAIMS, TAX_CLAIMS, World, assert_error

pytestmark = pytest.mark.anyio


def bank_query(vct: str) -> dict[str, Any]:
    return {"credentials": [{"id": "employment", "format": "dc+sd-jwt", "meta": {"vct_values": [vct]},
                             "claims": [{"path": ["employer_name"]}]}]}


async def log(world: World, resident: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await world.wallet.get("/events", headers=resident, params=params)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def answer(world: World, resident: dict[str, str], created: dict[str, Any], action: str = "approve") -> Any:
    shown = await world.show(resident, created)
    return await world.wallet.post(f"/presentation-requests/{shown['id']}/{action}", headers=resident, json={})


async def a_month_of_mai(world: World) -> tuple[dict[str, str], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Mai holds an employment and a tax certificate; the landlord sees her income, the bank her employer only,
    she declines one request, the wallet refuses an over-asking one and an unknown verifier, she revokes."""
    mai = await world.resident("mai")
    employment = await world.receive(mai)
    await world.receive(mai, "tax-office", configuration="ResidentTaxCertificate", claims=TAX_CLAIMS)
    world.clock.advance(minutes=1)
    landlord = await world.ask()
    approved = await answer(world, mai, landlord)
    assert approved.status_code == 200, approved.text
    world.clock.advance(minutes=1)
    bank = await world.ask("bank", purpose="account_opening_kyc", retention_days=30,
                           dcql_query=bank_query(employment["type"]["vct"]))
    assert (await answer(world, mai, bank)).status_code == 200
    world.clock.advance(minutes=1)
    assert (await answer(world, mai, await world.ask(), "decline")).status_code == 200
    world.clock.advance(minutes=1)
    over = await answer(world, mai, await world.ask(template="rental_screening_employment_income_and_nationality"))
    assert_error(over, 403, "outside_registered_purpose")
    world.clock.advance(minutes=1)
    link = ("openid4vp://?client_id=x509_san_dns%3Aunknown.example&request_uri="
            + quote(landlord["request_uri"], safe=""))
    assert_error(await world.wallet.post("/presentation-requests", headers=mai, json={"uri": link}), 400,
                 "invalid_client")
    world.clock.advance(minutes=1)
    revoked = await world.wallet.post(f"/consents/{approved.json()['consent_id']}/revoke", headers=mai)
    assert revoked.status_code == 200
    return mai, employment, landlord, bank


async def test_who_has_seen_my_income_when_and_why(world: World) -> None:
    mai, employment, landlord, _ = await a_month_of_mai(world)
    about_employment = await log(world, mai, credential_id=employment["id"])
    seen_income = [e for e in about_employment if e["kind"] == "presentation_sent"
                   and ["annual_income"] in e["claims"][employment["id"]]]
    (event,) = seen_income  # the bank saw the employer's name only
    assert event["verifier"] == {"client_id": landlord["client_id"],
                                 "name": {"en": "Sakura Homes", "ja": "さくら不動産"}, "registered": True}
    assert event["occurred_at"].startswith("2026-11-23T09:01:00")
    assert event["purpose"]["code"] == "rental_screening" and event["purpose"]["name"]["en"] == "Rental screening"
    assert event["purpose"]["text"]["en"] and event["purpose"]["text"]["ja"]
    assert event["claims"] == {employment["id"]: [[name] for name in RENTAL_CLAIMS]}
    assert event["summary"]["en"] == f"Sakura Homes received {', '.join(RENTAL_CLAIMS)} for Rental screening."
    assert "さくら不動産" in event["summary"]["ja"]
    # The bank's presentation concerns the same credential but not the income.
    kinds = [e["kind"] for e in about_employment]
    assert kinds.count("presentation_sent") == 2 and "consent_revoked" in kinds
    # The tax certificate was never shown: its filter holds nothing but its receipt... of nothing.
    tax = [c for c in (await world.wallet.get("/credentials", headers=mai)).json() if c["id"] != employment["id"]]
    assert await log(world, mai, credential_id=tax[0]["id"]) == []


async def test_every_kind_of_event_newest_first_and_by_verifier(world: World) -> None:
    mai, employment, landlord, bank = await a_month_of_mai(world)
    events = await log(world, mai)
    # The revoke told the landlord at once (the verifier service acknowledges the deletion): newest first.
    told, events = events[:2], events[2:]
    assert [e["kind"] for e in told] == ["deletion_acknowledged", "notification_delivered"]
    assert told[0]["details"]["outcome"] == "deleted" and told[0]["verifier"]["client_id"] == landlord["client_id"]
    assert [e["kind"] for e in events] == [
        "consent_revoked",
        "request_refused",  # unknown verifier
        "request_refused", "request_received",  # over-asking
        "request_declined", "request_received",
        "presentation_sent", "consent_granted", "request_received",  # bank
        "presentation_sent", "consent_granted", "request_received",  # landlord
    ]
    times = [e["occurred_at"] for e in events]
    assert times == sorted(times, reverse=True)
    unknown, over = events[1], events[2]
    assert unknown["verifier"]["client_id"] == "x509_san_dns:unknown.example"
    assert unknown["verifier"]["registered"] is False and "not in the trust registry" in unknown["summary"]["en"]
    assert over["details"]["refusal"] == "outside_registered_purpose" and over["details"]["path"] == ["birthdate"]
    assert over["credential_ids"] == [employment["id"]]
    assert events[0]["summary"]["en"].startswith("You revoked your consent for Sakura Homes (Rental screening)")

    by_bank = await log(world, mai, client_id=bank["client_id"])
    assert [e["kind"] for e in by_bank] == ["presentation_sent", "consent_granted", "request_received"]
    assert by_bank[0]["claims"] == {employment["id"]: [["employer_name"]]}
    by_landlord = await log(world, mai, client_id=landlord["client_id"])
    assert {e["kind"] for e in by_landlord} == {"consent_revoked", "request_refused", "request_declined",
                                                 "presentation_sent", "consent_granted", "request_received",
                                                 "notification_delivered", "deletion_acknowledged"}
    assert await log(world, mai, client_id="x509_hash:nobody") == []
    assert [e["kind"] for e in await log(world, mai, kind=["consent_granted", "consent_revoked"])] == [
        "consent_revoked", "consent_granted", "consent_granted"]


async def test_export_holds_everything_and_no_value(world: World) -> None:
    mai, *_ = await a_month_of_mai(world)
    exported = await world.wallet.get("/events/export", headers=mai)
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == 'attachment; filename="tsunagu-access-log.json"'
    document = exported.json()
    assert document["resident"] == "mai" and document["exported_at"].startswith("2026-11-23T09:06")
    assert document["events"] == await log(world, mai)
    text = json.dumps(document, ensure_ascii=False)
    for value in (EMPLOYMENT_CLAIMS["employee_name"], str(EMPLOYMENT_CLAIMS["annual_income"]),
                  EMPLOYMENT_CLAIMS["employer_name"], str(TAX_CLAIMS["total_income"])):
        assert value not in text
    # Nor in the wallet's database, where the log is kept.
    rows = json.dumps(world.rows("SELECT details FROM wallet_event"), ensure_ascii=False)
    assert EMPLOYMENT_CLAIMS["employee_name"] not in rows and str(EMPLOYMENT_CLAIMS["annual_income"]) not in rows


async def test_a_resident_sees_only_their_own_log(world: World) -> None:
    mai, employment, landlord, _ = await a_month_of_mai(world)
    ken = await world.resident("ken")
    assert await log(world, ken) == []
    assert await log(world, ken, credential_id=employment["id"]) == []
    assert await log(world, ken, client_id=landlord["client_id"]) == []
    assert (await world.wallet.get("/events/export", headers=ken)).json()["events"] == []
    assert_error(await world.wallet.get("/events/export"), 401, "invalid_token")
    assert len(await log(world, mai)) == 14  # 12 steps, and the landlord told of the revoke (2)
