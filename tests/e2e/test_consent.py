"""Issue #5 across the three services: purpose-limited, revocable consent, as the resident and the verifier see it.

- a one-time consent serves one presentation: a second use (a refresh) is refused by the wallet;
- ongoing access: the guarantor's refreshes work while the consent is active, and stop at revocation and
  at expiry; each refresh is in the resident's log;
- revocation reaches the verifier through the wallet's outbox, which deletes what it received and answers
  a signed acknowledgement the resident sees; a verifier that is down hears of it when it is back, also
  after the wallet restarted;
- the verifier deletes on its own when the consented retention ends, and tells the wallet;
- an over-asking approval is refused and tells the verifier nothing until the resident declines;
- one resident never sees another's consents, refreshes or acknowledgements.

Time passes by moving the services' clocks; scheduled jobs are run by calling them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS
from tsunagu.consent import MEDIA_TYPE_CONSENT_REFRESH_REQUEST, ConsentRefreshRequest, build_consent_refresh_request
from verifier import retention
from verifier.templates import VCT_EMPLOYMENT
from wallet import notifications
from wallet.consent_sweep import sweep_once

from .worlds import World

pytestmark = pytest.mark.anyio

GUARANTOR_QUERY = {"credentials": [{
    "id": "employment", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT_EMPLOYMENT]},
    "claims": [{"path": ["employer_name"]}, {"path": ["employment_type"]}, {"path": ["annual_income"]}],
}]}
ACCESS_DAYS = 30


async def as_mai(world: World) -> dict[str, str]:
    """Mai's session now (sessions last an hour; these tests move time by days)."""
    return {"Authorization": f"Bearer {await world.story().login()}"}


async def approved(world: World, token: str, **request: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The landlord asks, Mai approves: (the landlord's request, Mai's consent as her wallet shows it)."""
    story = world.story()
    asked = await world.ask("landlord", **request)
    view = await story.receive(token, asked)
    await story.approve(token, view)
    consents = await world.wallet.get("/consents", headers=await as_mai(world))
    consent = next(c for c in consents.json() if c["request_id"] == view["id"])
    return asked, consent


async def guarantor_consent(world: World, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return await approved(world, token, purpose="guarantor_screening", dcql_query=GUARANTOR_QUERY,
                          retention_days=90, access_type="ongoing", access_period_days=ACCESS_DAYS)


async def screening_consent(world: World, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return await approved(world, token, purpose="rental_screening", template="rental_screening_employment_income",
                          retention_days=90)


async def refresh(world: World, consent_id: str) -> httpx.Response:
    """The landlord's guarantor asks for a fresh presentation (the verifier service's refresh client)."""
    return await world.verifier.post(f"/admin/landlord/consents/{consent_id}/refresh", headers=world.admin("verifier"))


async def refresh_directly(world: World, consent_id: str, *, nonce: str | None = None) -> httpx.Response:
    """A refresh request signed with the landlord's own key, sent straight to the wallet (skipping the
    verifier service's own checks), as a verifier running other software could."""
    landlord = world.deployment.verifiers[1]
    now = world.clocks["verifier"].now
    token = build_consent_refresh_request(ConsentRefreshRequest(
        client_id=landlord.registry_entry.client_id, wallet=world.deployment.wallet.public_url.rstrip("/"),
        consent_id=consent_id, nonce=nonce or secrets.token_urlsafe(16), issued_at=now,
        expires_at=now + timedelta(minutes=5)), landlord.tenant.key, x5c=landlord.tenant.x5c)
    return await world.wallet.post("/consent-refresh", content=token,
                                   headers={"Content-Type": MEDIA_TYPE_CONSENT_REFRESH_REQUEST})


async def log_kinds(world: World, **filters: str) -> list[str]:
    events = await world.wallet.get("/events", headers=await as_mai(world), params=filters)
    assert events.status_code == 200, events.text
    return [e["kind"] for e in events.json()]


async def held_by_verifier(world: World, consent_id: str) -> dict[str, Any]:
    shown = await world.verifier.get(f"/admin/landlord/consents/{consent_id}", headers=world.admin("verifier"))
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


async def test_a_one_time_consent_serves_one_presentation_only(world: World) -> None:
    token = await world.mai_with_employment()
    asked, consent = await screening_consent(world, token)
    assert (consent["access_type"], consent["status"]) == ("one-time", "fulfilled")
    assert (await world.result("landlord", asked["request_id"]))["result"]["decision"] == "accepted"

    # The verifier service itself will not ask under a one-time consent ...
    refused = await refresh(world, consent["id"])
    assert (refused.status_code, refused.json()["error"]) == (409, "consent_not_ongoing"), refused.text
    # ... and the wallet refuses a verifier that asks anyway.
    direct = await refresh_directly(world, consent["id"])
    assert (direct.status_code, direct.json()["error"]) == (403, "consent_not_ongoing"), direct.text
    shown = await world.wallet.get(f"/consents/{consent['id']}", headers=await as_mai(world))
    assert shown.json()["refresh_count"] == 0


async def test_ongoing_access_refreshes_until_the_resident_revokes_then_the_data_is_deleted(world: World) -> None:
    token = await world.mai_with_employment()
    asked, consent = await guarantor_consent(world, token)
    assert (consent["access_type"], consent["status"]) == ("ongoing", "active")
    first = await world.result("landlord", asked["request_id"])
    assert first["result"]["decision"] == "accepted" and first["consent"]["access_type"] == "ongoing"

    world.advance(days=1)
    refreshed = await refresh(world, consent["id"])
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert (fresh["kind"], fresh["consent_id"], fresh["result"]["decision"]) == ("refresh", consent["id"], "accepted")
    assert fresh["claims"]["employment"][0]["employer_name"] == EMPLOYMENT_CLAIMS["employer_name"]
    # Exactly the consented claims: nothing else of the certificate travels in a refresh.
    assert set(fresh["claims"]["employment"][0]) - {"vct", "iss", "iat", "exp", "cnf", "status", "nbf"} == {
        "employer_name", "employment_type", "annual_income"}
    assert await log_kinds(world, kind="consent_refreshed") == ["consent_refreshed"]

    revoked = await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=await as_mai(world))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"

    # From the moment revoke returned: no refresh, whoever asks.
    after = await refresh(world, consent["id"])
    assert (after.status_code, after.json()["error"]) in {(409, "consent_ended"), (409, "consent_refresh_refused")}
    direct = await refresh_directly(world, consent["id"])
    assert (direct.status_code, direct.json()["error"]) == (403, "consent_revoked"), direct.text

    # The landlord was told at once (it was up), deleted both presentations, and acknowledged it.
    held = await held_by_verifier(world, consent["id"])
    assert held["status"] == "revoked"
    assert [r["held"] for r in held["requests"]] == [False, False]
    assert {r["deletion_reason"] for r in held["requests"]} == {"consent revoked"}
    assert (await world.result("landlord", asked["request_id"]))["claims"] is None
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=await as_mai(world))).json()
    assert shown["notification"]["status"] == "delivered"
    assert shown["deletion"]["outcome"] == "deleted"
    kinds = await log_kinds(world, client_id=asked["client_id"])
    assert kinds[:3] == ["deletion_acknowledged", "notification_delivered", "consent_revoked"]


async def test_ongoing_access_stops_at_expiry_and_the_verifier_is_told(world: World) -> None:
    token = await world.mai_with_employment()
    _, consent = await guarantor_consent(world, token)
    world.advance(days=ACCESS_DAYS, seconds=1)

    # Expired even before the wallet's sweep has marked it.
    direct = await refresh_directly(world, consent["id"])
    assert (direct.status_code, direct.json()["error"]) == (403, "consent_expired"), direct.text
    local = await refresh(world, consent["id"])
    assert local.status_code == 409, local.text

    assert sweep_once(world.apps["wallet"]) == 1
    await notifications.deliver_once(world.apps["wallet"])
    held = await held_by_verifier(world, consent["id"])
    assert held["status"] == "expired" and not any(r["held"] for r in held["requests"])
    kinds = await log_kinds(world)
    assert {"consent_expired", "notification_delivered", "deletion_acknowledged"} <= set(kinds)


async def test_a_verifier_that_is_down_hears_of_the_revocation_when_back_even_after_a_wallet_restart(
        world: World) -> None:
    token = await world.mai_with_employment()
    asked, consent = await screening_consent(world, token)
    world.wallet_to_verifier.down = True

    revoked = await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=await as_mai(world))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=await as_mai(world))).json()
    assert shown["notification"]["status"] == "pending" and shown["notification"]["attempts"] == 1
    assert shown["notification"]["last_error"]
    # The landlord still holds the data: it has not been told yet.
    assert (await world.result("landlord", asked["request_id"]))["claims"] is not None

    await world.restart_wallet()
    world.wallet_to_verifier.down = False
    world.advance(hours=1)
    await notifications.deliver_once(world.apps["wallet"])

    assert (await world.result("landlord", asked["request_id"]))["claims"] is None
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=await as_mai(world))).json()
    assert shown["notification"]["status"] == "delivered" and shown["notification"]["attempts"] == 2
    assert shown["deletion"]["outcome"] == "deleted"
    assert "deletion_acknowledged" in await log_kinds(world)


async def test_the_verifier_deletes_when_retention_ends_and_tells_the_wallet(world: World) -> None:
    token = await world.mai_with_employment()
    asked, consent = await screening_consent(world, token)
    world.advance(days=89)
    await retention.sweep_once(world.apps["verifier"])
    assert (await world.result("landlord", asked["request_id"]))["claims"] is not None  # not yet

    world.advance(days=1, seconds=1)
    await retention.sweep_once(world.apps["verifier"])
    result = await world.result("landlord", asked["request_id"])
    assert result["claims"] is None and result["deletion_reason"] == "retention ended"

    events = (await world.wallet.get("/events", headers=await as_mai(world),
                                     params={"kind": "deletion_acknowledged"})).json()
    assert len(events) == 1 and events[0]["details"]["outcome"] == "deleted"
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=await as_mai(world))).json()
    assert shown["deletion"]["outcome"] == "deleted"


async def test_an_over_asking_approval_tells_the_verifier_nothing_until_the_resident_declines(
        world: World) -> None:
    token = await world.mai_with_employment()
    story = world.story()
    asked = await world.ask("landlord", purpose="rental_screening",
                            template="rental_screening_employment_income_and_nationality", retention_days=90)
    view = await story.receive(token, asked)
    posted_before = len(world.wallet_to_verifier.posted("/responses/"))
    refused = await world.wallet.post(f"/presentation-requests/{view['id']}/approve", headers=await as_mai(world),
                                      json={})
    assert (refused.status_code, refused.json()["error"]) == (403, "outside_registered_purpose"), refused.text
    assert len(world.wallet_to_verifier.posted("/responses/")) == posted_before
    assert (await world.result("landlord", asked["request_id"]))["status"] == "pending"

    await story.decline(token, view)
    result = await world.result("landlord", asked["request_id"])
    assert result["status"] == "declined" and result["wallet_error"]["error"] == "access_denied"
    assert "nationality_region" in result["wallet_error"]["error_description"]


async def test_a_resident_never_sees_or_touches_another_residents_consents(world: World) -> None:
    token = await world.mai_with_employment()
    _, consent = await guarantor_consent(world, token)
    assert (await refresh(world, consent["id"])).status_code == 200
    other = await world.resident("ken")

    assert (await world.wallet.get(f"/consents/{consent['id']}", headers=other)).status_code == 404
    assert (await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=other)).status_code == 404
    assert (await world.wallet.get("/consents", headers=other)).json() == []
    assert (await world.wallet.get("/events", headers=other)).json() == []
    # Mai's consent is untouched by Ken's attempts.
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=await as_mai(world))).json()
    assert shown["status"] == "active" and shown["refresh_count"] == 1
