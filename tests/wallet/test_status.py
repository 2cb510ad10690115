"""Credential lifecycle as the resident sees it: revoked, suspended, reinstated, expired, unreachable.

The issuer changes a credential's status through its admin API; the wallet learns it from the
issuer's status list (when the resident opens the credential, or on its schedule), shows it with the
date, writes it to the resident's history, and no longer offers the credential to verifiers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from wallet.app import create_app
from wallet.status_refresh import refresh_once

from .conftest import (
    EMPLOYER,
    PASSWORD,
    Clock,
    TAX_CLAIMS,
    World,
    admin,
    another_wallet,
    assert_error,
    new_resident,
    wallet_settings,
)

pytestmark = pytest.mark.anyio

#: The issuer's status list ``ttl`` (its default): how long the wallet may keep reading a list it fetched.
TTL = timedelta(seconds=300)
VCT_EMPLOYMENT = "urn:tsunagu:vct:employment-certificate:1"


async def change_status(world: World, action: str, *, tenant: str = "employer", vct: str = VCT_EMPLOYMENT) -> str:
    """The issuer's admin revokes / suspends / reinstates the resident's credential (naming any one copy
    changes every copy of the batch); the date."""
    listed = await world.issuer.get(f"/admin/{tenant}/credentials", headers=admin("issuer"),
                                    params={"subject": "resident 4711", "vct": vct})
    assert listed.status_code == 200, listed.text
    issued = listed.json()["credentials"]
    assert issued
    response = await world.issuer.post(f"/admin/{tenant}/credentials/{issued[0]['id']}/{action}",
                                       headers=admin("issuer"), json={"reason": "employment ended (test)"})
    assert response.status_code == 200, response.text
    relisted = await world.issuer.get(f"/admin/{tenant}/credentials", headers=admin("issuer"),
                                      params={"subject": "resident 4711", "vct": vct})
    assert len({credential["status"] for credential in relisted.json()["credentials"]}) == 1
    # The change is in the next published list; the wallet reads a list again once its ttl has passed.
    world.clock.advance(seconds=TTL.total_seconds() + 1)
    return world.clock.now.date().isoformat()


async def open_credential(world: World, resident: dict[str, str], credential_id: str) -> dict[str, Any]:
    response = await world.wallet.get(f"/credentials/{credential_id}", headers=resident)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post("/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def events(client: httpx.AsyncClient, resident: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await client.get("/events", headers=resident, params=params)
    assert response.status_code == 200, response.text
    # The access log also holds requests, consents and presentations (issue #5): here, the status events.
    listed: list[dict[str, Any]] = [e for e in response.json() if e["kind"].startswith("credential_")]
    return listed


async def test_a_fresh_credential_is_checked_when_opened_and_shown_valid(world: World) -> None:
    mai = await world.resident()
    received = await world.receive(mai)
    assert received["status"] == "unknown" and received["valid"] is True
    assert received["status_text"]["en"].startswith("Not checked yet")

    shown = await open_credential(world, mai, received["id"])
    assert shown["status"] == "valid" and shown["valid"] is True
    assert shown["status_text"]["en"] == ("Valid: Sakura Systems (registered) lists it as in force "
                                          "(status list of 2026-11-23).")
    assert shown["status_check"]["checkable"] is True and shown["status_check"]["failed"] is False
    assert shown["status_check"]["note"] is None and shown["status_check"]["checked_at"].startswith("2026-11-23T09:00")
    assert await events(world.wallet, mai) == []  # confirming what was expected is not an event


async def test_revoked_credential_is_shown_with_its_date_recorded_and_never_offered(world: World) -> None:
    mai = await world.resident()
    credential = await world.receive(mai)
    await open_credential(world, mai, credential["id"])
    world.clock.advance(minutes=20)
    day = await change_status(world, "revoke")

    shown = await open_credential(world, mai, credential["id"])
    assert (shown["status"], shown["valid"]) == ("revoked", False)
    assert shown["status_date"].startswith(day)
    assert shown["status_text"] == {
        "en": f"Revoked by Sakura Systems (registered) (status list of {day}).",
        "ja": f"さくらシステムズ（登録）により失効しました（{day}付のステータスリスト）。",
    }
    (event,) = await events(world.wallet, mai)
    assert (event["kind"], event["credential_id"]) == ("credential_revoked", credential["id"])
    assert event["details"]["previous"] == "valid" and event["details"]["status"] == "revoked"
    assert event["summary"]["en"] == (f"Sakura Systems (registered) revoked your Employment Certificate "
                                      f"(status list of {day}).")
    assert event["summary"]["ja"]

    # Opening it again changes nothing and records nothing more.
    assert (await open_credential(world, mai, credential["id"]))["status"] == "revoked"
    assert len(await events(world.wallet, mai)) == 1

    # A verifier's request is no longer answered with it, and the resident is told why.
    shown_request = await world.show(mai, await world.ask())
    (query,) = shown_request["credential_queries"]
    assert query["candidates"] == [] and shown_request["satisfiable"] is False
    (left_out,) = query["not_offered"]
    assert (left_out["credential_id"], left_out["status"]) == (credential["id"], "revoked")
    for body in ({}, {"credentials": {"employment": credential["id"]}}):
        response = await world.wallet.post(f"/presentation-requests/{shown_request['id']}/approve", headers=mai,
                                           json=body)
        assert "revoked" in assert_error(response, 409, "credential_revoked")["error_description"]
    assert world.to_verifier.posted() == []  # nothing left the wallet
    assert (await world.wallet.get(f"/presentation-requests/{shown_request['id']}",
                                   headers=mai)).json()["status"] == "pending"


async def test_suspension_then_reinstatement(world: World) -> None:
    mai = await world.resident()
    credential = await world.receive(mai)
    await open_credential(world, mai, credential["id"])

    suspended_on = await change_status(world, "suspend")
    shown = await open_credential(world, mai, credential["id"])
    assert (shown["status"], shown["valid"]) == ("suspended", False)
    assert shown["status_text"]["en"].startswith(
        f"Suspended by Sakura Systems (registered) (status list of {suspended_on}).")
    shown_request = await world.show(mai, await world.ask())
    assert shown_request["credential_queries"][0]["candidates"] == []
    response = await world.wallet.post(f"/presentation-requests/{shown_request['id']}/approve", headers=mai,
                                       json={"credentials": {"employment": credential["id"]}})
    assert_error(response, 409, "credential_suspended")

    world.clock.advance(minutes=20)
    reinstated_on = await change_status(world, "reinstate")
    shown = await open_credential(world, mai, credential["id"])
    assert (shown["status"], shown["valid"]) == ("valid", True)
    assert shown["status_date"].startswith(reinstated_on)
    newest, oldest = await events(world.wallet, mai)
    assert (newest["kind"], oldest["kind"]) == ("credential_reinstated", "credential_suspended")
    assert newest["details"]["previous"] == "suspended"
    assert newest["summary"]["en"] == (f"Your Employment Certificate from Sakura Systems (registered) is valid again "
                                       f"(status list of {reinstated_on}).")

    # Offered again, and the verifier accepts it.
    shown_request = await world.show(mai, await world.ask())
    assert [c["credential_id"] for c in shown_request["credential_queries"][0]["candidates"]] == [credential["id"]]
    approved = await world.wallet.post(f"/presentation-requests/{shown_request['id']}/approve", headers=mai, json={})
    assert approved.status_code == 200 and approved.json()["status"] == "sent", approved.text


async def test_expired_credential_is_shown_expired_and_not_offered(world: World) -> None:
    wallet_clock = Clock(world.clock.now)  # only the wallet's clock moves: the verifier's request stays valid
    async with another_wallet(world, clock=wallet_clock) as wallet:
        mai = await new_resident(wallet, "mai")
        credential = (await wallet.post("/offers", headers=mai, json=await _offer(world))).json()[0]
        pending = await wallet.post("/presentation-requests", headers=mai,
                                    json={"uri": (await world.ask())["authorization_request_uri"]})
        assert [c["credential_id"] for c in pending.json()["credential_queries"][0]["candidates"]] == [credential["id"]]

        expires_at = datetime.fromisoformat(credential["expires_at"])
        wallet_clock.now = expires_at + timedelta(seconds=1)
        mai = await login(wallet, "mai")
        listed = (await wallet.get("/credentials", headers=mai)).json()
        assert [(c["status"], c["valid"]) for c in listed] == [("expired", False)]
        shown = (await wallet.get(f"/credentials/{credential['id']}", headers=mai)).json()
        day = (expires_at + timedelta(hours=9)).date().isoformat()  # the date in Japan
        assert shown["status"] == "expired" and shown["status_text"]["en"] == f"Expired on {day}."
        assert shown["status_date"] == credential["expires_at"]
        assert shown["status_check"]["failed"] is False  # an expired credential is not asked about
        (event,) = await events(wallet, mai)
        assert event["kind"] == "credential_expired" and event["summary"]["en"].endswith(f"expired on {day}.")
        await refresh_once(_app_of(wallet))
        assert len(await events(wallet, mai)) == 1  # noticed once

        (query,) = (await wallet.get(f"/presentation-requests/{pending.json()['id']}",
                                     headers=mai)).json()["credential_queries"]
        assert query["candidates"] == [] and [c["status"] for c in query["not_offered"]] == ["expired"]


async def test_the_schedule_refreshes_without_the_resident(world: World) -> None:
    mai = await world.resident()
    credential = await world.receive(mai)
    await refresh_once(world.wallet_app)
    assert (await world.wallet.get("/credentials", headers=mai)).json()[0]["status"] == "valid"

    day = await change_status(world, "revoke")
    report = await refresh_once(world.wallet_app)
    assert report.changed == (credential["id"],) and report.failed == 0
    # GET /credentials does not refresh: what it shows was learned by the schedule.
    (listed,) = (await world.wallet.get("/credentials", headers=mai)).json()
    assert (listed["status"], listed["status_date"][:10]) == ("revoked", day)
    assert [e["kind"] for e in await events(world.wallet, mai)] == ["credential_revoked"]


class StatusListSwitch(httpx.AsyncBaseTransport):
    """The road to the issuer, on which one tenant's status lists can be made unreachable."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if any(request.url.path.startswith(f"/{tenant}/status-lists/") for tenant in self.down):
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_an_unreachable_status_list_shows_the_last_known_status_plainly(world: World) -> None:
    switch = StatusListSwitch(httpx.ASGITransport(world.issuer_app))
    async with another_wallet(world, issuer_transport=switch) as wallet:
        mai = await new_resident(wallet, "mai")
        employment = (await wallet.post("/offers", headers=mai, json=await _offer(world))).json()[0]
        tax = (await wallet.post("/offers", headers=mai, json=await _offer(world, "tax-office"))).json()[0]
        assert (await wallet.get(f"/credentials/{employment['id']}", headers=mai)).json()["status"] == "valid"

        switch.down.add("employer")
        world.clock.advance(seconds=TTL.total_seconds() + 1)
        response = await wallet.get(f"/credentials/{employment['id']}", headers=mai)
        assert response.status_code == 200, response.text
        shown = response.json()
        assert (shown["status"], shown["valid"]) == ("valid", True)  # the last known status, not a guess
        check = shown["status_check"]
        assert check["failed"] is True and check["checked_at"].startswith("2026-11-23T09:00")
        assert check["note"] == {
            "en": "The status could not be checked just now. Shown is the status last confirmed, on 2026-11-23.",
            "ja": "現在、状態を確認できませんでした。2026-11-23に確認した状態を表示しています。",
        }
        assert f"{EMPLOYER}/status-lists/" in check["error"] and "unreachable" in check["error"]

        # The schedule: one issuer down does not keep the other's credential from being checked.
        report = await refresh_once(_app_of(wallet))
        assert (report.checked, report.failed) == (1, 1)
        states = {c["id"]: c["status_check"]["failed"] for c in (await wallet.get("/credentials", headers=mai)).json()}
        assert states == {employment["id"]: True, tax["id"]: False}

        # Back up: the note goes away.
        switch.down.clear()
        world.clock.advance(seconds=60)
        shown = (await wallet.post(f"/credentials/{employment['id']}/refresh", headers=mai)).json()
        assert shown["status"] == "valid" and shown["status_check"]["failed"] is False
        assert shown["status_check"]["note"] is None


async def _offer(world: World, tenant: str = "employer") -> dict[str, Any]:
    if tenant == "tax-office":
        created = await world.offer(tenant, configuration="ResidentTaxCertificate", claims=TAX_CLAIMS)
    else:
        created = await world.offer(tenant)
    return {"offer_uri": created["offer_uri"], "tx_code": created["tx_code"]}


def _app_of(client: httpx.AsyncClient) -> Any:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    return transport.app


async def test_a_wallet_without_a_trust_registry_fetches_no_status_list(world: World) -> None:
    """Status lists are fetched only from origins the registry gives issuers; without one, nowhere."""
    switch = StatusListSwitch(httpx.ASGITransport(world.issuer_app))
    async with another_wallet(world, issuer_transport=switch) as wallet:
        mai = await new_resident(wallet, "mai")
        credential = (await wallet.post("/offers", headers=mai, json=await _offer(world))).json()[0]
        app = _app_of(wallet)
        app.state.registry = None
        shown = (await wallet.get(f"/credentials/{credential['id']}", headers=mai)).json()
        assert shown["status"] == "unknown" and shown["status_check"]["failed"] is True
        assert shown["status_check"]["note"]["en"].startswith("The status could not be checked")
        assert "registered" in shown["status_check"]["error"]


async def test_history_is_the_residents_own(world: World) -> None:
    mai, ken = await world.resident("mai"), await world.resident("ken")
    credential = await world.receive(mai)
    await open_credential(world, mai, credential["id"])
    await change_status(world, "revoke")
    await open_credential(world, mai, credential["id"])
    assert len(await events(world.wallet, mai, credential_id=credential["id"])) == 1
    assert await events(world.wallet, mai, credential_id="someone-else") == []

    assert await events(world.wallet, ken) == []
    assert await events(world.wallet, ken, credential_id=credential["id"]) == []
    for request in (world.wallet.get(f"/credentials/{credential['id']}", headers=ken),
                    world.wallet.post(f"/credentials/{credential['id']}/refresh", headers=ken)):
        assert_error(await request, 404, "not_found")
    assert_error(await world.wallet.get("/events"), 401, "invalid_token")


async def test_the_schedule_starts_and_stops_with_the_app(database_url: str) -> None:
    app = create_app(wallet_settings(database_url, status_refresh_seconds=3600))
    try:
        async with LifespanManager(app):  # the refresh task runs while the app serves; shutdown cancels it
            assert app.state.issuer_documents is not None
    finally:
        app.state.engine.dispose()
