"""One resident never reaches another's data, and nothing happens without a live session.

After the demo story, Mai's wallet holds two credentials, three presented requests (the screening,
the guarantor's, the check after the revocation), a declined one, a pending one, three consents,
three presentations and a decline. Another resident of the same wallet service gets
``404 not_found`` for every one of them (the same answer as for an id that does not exist, so ids
cannot be probed) and cannot answer Mai's pending request; the verifier hears nothing. Without a
session, with an unknown, expired or ended one, every resident endpoint answers ``401
invalid_token`` (RFC 6750 §3.1) before anything is sent to an issuer or a verifier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS

from .worlds import World, assert_error, open_world

pytestmark = pytest.mark.anyio

LISTS = ("/credentials", "/presentation-requests", "/consents", "/presentations")


async def everything(world: World, resident: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    listed = {}
    for path in LISTS:
        response = await world.wallet.get(path, headers=resident)
        assert response.status_code == 200, response.text
        listed[path] = response.json()
    return listed


async def test_another_resident_cannot_see_or_answer_mais_data(tmp_path: Path, database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        story = world.story()
        await story.run()
        token = await story.login()
        mai = {"Authorization": f"Bearer {token}"}
        pending_request = await story.ask("landlord", "rental_screening_employment_income")
        pending = await story.receive(token, pending_request)
        ken = await world.resident("ken")

        mais = await everything(world, mai)
        assert [len(mais[path]) for path in LISTS] == [2, 5, 3, 4]
        posts_before = len(world.wallet_to_verifier.posted("/responses/"))

        # Every one of Mai's objects is "not found" for Ken, exactly like an id that does not exist.
        for path in LISTS:
            for item in mais[path] + [{"id": "0" * 32}]:
                assert_error(await world.wallet.get(f"{path}/{item['id']}", headers=ken), 404, "not_found")
        # Ken cannot answer Mai's pending request, even naming her credential.
        employment = next(c["id"] for c in mais["/credentials"] if c["type"]["configuration_id"] == "EmploymentCertificate")
        for action, body in (("approve", {"credentials": {"employment": employment}}), ("decline", None)):
            response = await world.wallet.post(f"/presentation-requests/{pending['id']}/{action}", headers=ken, json=body)
            assert_error(response, 404, "not_found")
        assert await everything(world, ken) == {path: [] for path in LISTS}

        # Nothing reached the landlord, and Mai's data and pending request are as they were.
        assert len(world.wallet_to_verifier.posted("/responses/")) == posts_before
        result = await world.result("landlord", pending_request["request_id"])
        assert (result["status"], result["result"]) == ("pending", None)
        assert await everything(world, mai) == mais

        # Ken, answering a request of his own, is offered none of Mai's credentials and cannot name one.
        kens_request = await world.ask("landlord", purpose="rental_screening",
                                       template="rental_screening_employment_income", retention_days=90)
        kens = (await world.wallet.post("/presentation-requests", headers=ken,
                                        json={"uri": kens_request["authorization_request_uri"]})).json()
        assert kens["credential_queries"][0]["candidates"] == [] and kens["satisfiable"] is False
        response = await world.wallet.post(f"/presentation-requests/{kens['id']}/approve", headers=ken,
                                           json={"credentials": {"employment": employment}})
        assert_error(response, 400, "invalid_request")
        assert len(world.wallet_to_verifier.posted("/responses/")) == posts_before


async def test_without_a_live_session_nothing_happens(tmp_path: Path, database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        story = world.story()
        await story.set_up()
        token = await story.login()
        mai = {"Authorization": f"Bearer {token}"}
        (held,) = await story.issue("employer", "EmploymentCertificate", EMPLOYMENT_CLAIMS, token)
        asked = await story.ask("landlord", "rental_screening_employment_income")
        shown = await story.receive(token, asked)
        offer = await world.offer("employer", "EmploymentCertificate", dict(EMPLOYMENT_CLAIMS))
        calls: list[tuple[str, str, Any]] = [
            ("GET", "/me", None),
            ("GET", "/credentials", None),
            ("GET", f"/credentials/{held['id']}", None),
            ("POST", "/offers", {"offer_uri": offer["offer_uri"]}),
            ("GET", "/presentation-requests", None),
            ("POST", "/presentation-requests", {"uri": asked["authorization_request_uri"]}),
            ("GET", f"/presentation-requests/{shown['id']}", None),
            ("POST", f"/presentation-requests/{shown['id']}/approve", {}),
            ("POST", f"/presentation-requests/{shown['id']}/decline", None),
            ("GET", "/consents", None),
            ("GET", "/presentations", None),
        ]

        async def refused_everywhere(headers: dict[str, str], *, announces_error: bool = True) -> None:
            outbound = (len(world.wallet_to_issuer.sent), len(world.wallet_to_verifier.sent))
            for method, path, body in calls:
                response = await world.wallet.request(method, path, headers=headers, json=body)
                assert_error(response, 401, "invalid_token")
                challenge = response.headers["www-authenticate"]
                assert challenge.startswith("Bearer ") and ('error="invalid_token"' in challenge) == announces_error
            # Refused before the wallet spoke to anyone on Mai's behalf.
            assert (len(world.wallet_to_issuer.sent), len(world.wallet_to_verifier.sent)) == outbound

        await refused_everywhere({}, announces_error=False)
        await refused_everywhere({"Authorization": "Bearer not-a-session-token"})
        await refused_everywhere(world.admin("wallet"))  # the admin key is not a resident's session

        # A session lasts session_lifetime_seconds by the wallet's clock.
        world.advance(seconds=world.deployment.wallet.session_lifetime_seconds + 1)
        await refused_everywhere(mai)

        # A fresh session works; once ended, it is refused at once.
        fresh = {"Authorization": f"Bearer {await story.login()}"}
        assert (await world.wallet.get("/me", headers=fresh)).json()["username"] == "mai"
        assert (await world.wallet.delete("/session", headers=fresh)).status_code == 204
        await refused_everywhere(fresh)

        # None of it touched the issuer's offer, Mai's pending request, or the landlord's request.
        assert (await world.offer_status("employer", offer["offer_id"]))["status"] == "expired"
        assert (await world.result("landlord", asked["request_id"]))["result"] is None
        again = {"Authorization": f"Bearer {await story.login()}"}
        assert len((await world.wallet.get("/credentials", headers=again)).json()) == 1
        assert (await world.wallet.get("/consents", headers=again)).json() == []
