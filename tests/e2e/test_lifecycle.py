"""Issue #4 across the three services: what the landlord and the resident see when the employer
revokes, suspends or reinstates a credential, and when the employer rotates its signing key.

The verifier may keep a status list for its ``ttl`` (the Token Status List's own caching rule), so
"the next check" is the first after that: the tests move every clock past it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS
from tsunagu.jwk import parse_jwks

from .worlds import World

pytestmark = pytest.mark.anyio

SCREENING = "rental_screening_employment_income"
TTL_SECONDS = 300


async def present(world: World, token: str) -> dict[str, Any]:
    """The landlord asks, Mai approves (her wallet's choice of copy), and what the landlord sees."""
    story = world.story()
    request = await story.ask("landlord", SCREENING)
    await story.approve(token, await story.receive(token, request))
    return await story.result("landlord", request)


def check(result: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in result["result"]["checks"] if c["id"] == check_id)


async def employer_changes(world: World, action: str, reason: str) -> None:
    listed = await world.issuer.get("/admin/employer/credentials", headers=world.admin("issuer"))
    credential_id = listed.json()["credentials"][0]["id"]
    changed = await world.issuer.post(
        f"/admin/employer/credentials/{credential_id}/{action}", headers=world.admin("issuer"), json={"reason": reason}
    )
    assert changed.status_code == 200, changed.text
    world.advance(seconds=TTL_SECONDS + 1)


async def test_revocation_reaches_the_landlords_next_check_and_mai_is_told(world: World) -> None:
    token = await world.mai_with_employment()
    assert (await present(world, token))["result"]["decision"] == "accepted"

    await employer_changes(world, "revoke", "employment ended on 2026-11-30")
    result = await present(world, token)
    assert result["result"]["decision"] == "rejected"
    status = check(result, "status")
    assert (status["outcome"], status["party"]) == ("failed", "issuer")
    assert status["reason"]["en"].startswith("Revoked by Sakura Systems K.K. on ")
    assert status["reason"]["ja"]
    assert result["claims"] is None
    # The reason the employer gave stays in its audit log: the landlord never sees it.
    assert "employment ended" not in str(result)

    mai = {"Authorization": f"Bearer {token}"}
    held = (await world.wallet.get("/credentials", headers=mai)).json()[0]
    opened = (await world.wallet.get(f"/credentials/{held['id']}", headers=mai)).json()
    assert (opened["status"], opened["valid"]) == ("revoked", False)
    history = (await world.wallet.get("/events", headers=mai, params={"kind": "credential_revoked"})).json()
    assert [(e["kind"], e["credential_id"]) for e in history] == [("credential_revoked", held["id"])]
    # Once the wallet knows, the revoked credential is not offered again.
    view = await world.story().receive(token, await world.story().ask("landlord", SCREENING))
    assert view["satisfiable"] is False


async def test_suspension_rejects_and_reinstatement_accepts_again(world: World) -> None:
    token = await world.mai_with_employment()
    await employer_changes(world, "suspend", "salary figure under review")
    suspended = await present(world, token)
    assert suspended["result"]["decision"] == "rejected"
    status = check(suspended, "status")
    assert (status["outcome"], status["party"]) == ("failed", "issuer")
    assert status["reason"]["en"].startswith("Suspended by Sakura Systems K.K.")

    await employer_changes(world, "reinstate", "review done: figure correct")
    reinstated = await present(world, token)
    assert reinstated["result"]["decision"] == "accepted"
    assert check(reinstated, "status")["outcome"] == "passed"


async def test_key_rotation_keeps_old_credentials_verifying_until_they_expire(world: World) -> None:
    token = await world.mai_with_employment()
    before = parse_jwks((await world.issuer.get("/.well-known/jwt-vc-issuer/employer")).json()["jwks"])
    rotated = await world.issuer.post(
        "/admin/employer/keys/rotate", headers=world.admin("issuer"), json={"reason": "yearly rotation"}
    )
    assert rotated.status_code == 200, rotated.text
    await world.story().issue("employer", "EmploymentCertificate", EMPLOYMENT_CLAIMS, token)
    after = parse_jwks((await world.issuer.get("/.well-known/jwt-vc-issuer/employer")).json()["jwks"])
    old_kids = {k.kid for k in before}
    assert old_kids < {k.kid for k in after}

    mai = {"Authorization": f"Bearer {token}"}
    old_credential, new_credential = sorted(
        (await world.wallet.get("/credentials", headers=mai)).json(), key=lambda c: c["received_at"]
    )
    for credential in (old_credential, new_credential):
        story = world.story()
        request = await story.ask("landlord", SCREENING)
        view = await story.receive(token, request)
        await world.wallet.post(
            f"/presentation-requests/{view['id']}/approve", headers=mai,
            json={"credentials": {"employment": credential["id"]}},
        )
        result = await story.result("landlord", request)
        assert result["result"]["decision"] == "accepted", (credential["received_at"], result["result"])

    # A year on, every credential the old key signed has expired: the issuer stops publishing it.
    world.clocks["issuer"].advance(days=366)
    later = parse_jwks((await world.issuer.get("/.well-known/jwt-vc-issuer/employer")).json()["jwks"])
    assert old_kids.isdisjoint({k.kid for k in later})
    assert later


async def test_a_revocation_published_late_in_the_utc_evening_has_one_date_for_mai_and_the_landlord(
    world: World,
) -> None:
    """23:30 UTC is 08:30 the next morning in Japan: the landlord's reason and Mai's wallet name the same day."""
    now = world.clocks["issuer"].now
    late_evening = now.replace(hour=23, minute=30, second=0, microsecond=0)
    if late_evening <= now:
        late_evening += timedelta(days=1)
    world.advance(seconds=(late_evening - now).total_seconds())
    token = await world.mai_with_employment()
    japan_day = (late_evening + timedelta(hours=9)).date().isoformat()
    assert japan_day != late_evening.date().isoformat()

    await employer_changes(world, "revoke", "employment ended")
    status = check(await present(world, token), "status")
    assert status["reason"]["en"].startswith(f"Revoked by Sakura Systems K.K. on {japan_day} ")

    mai = {"Authorization": f"Bearer {token}"}
    held = (await world.wallet.get("/credentials", headers=mai)).json()[0]
    opened = (await world.wallet.get(f"/credentials/{held['id']}", headers=mai)).json()  # checks the status now
    assert opened["status_text"]["en"] == f"Revoked by Sakura Systems K.K. (status list of {japan_day})."
