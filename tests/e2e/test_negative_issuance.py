"""Issuance refused across the real wallet and issuer (OpenID4VCI 1.0), in the demo's configuration.

Each test drives the resident's wallet (``POST /offers``) against the issuer service and checks what
each party then sees: the wallet's refusal names the issuer and the issuer's own error code
(``invalid_grant`` at the Token Endpoint, §6.3; ``invalid_nonce`` / ``invalid_proof`` at the
Credential Endpoint, §8.3.1.2), the issuer's admin view of the offer, and the resident's holdings,
which no refusal changes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS

from .worlds import World, assert_error, open_world

pytestmark = pytest.mark.anyio

EMPLOYER = "employer"
CONFIGURATION = "EmploymentCertificate"


def by_value(offer: dict[str, Any]) -> str:
    """The same offer passed by value (OpenID4VCI §4.1.2), so the wallet goes to the Token Endpoint itself."""
    return "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer), safe="")


async def mai(world: World) -> dict[str, str]:
    story = world.story()
    await story.set_up()
    return {"Authorization": f"Bearer {await story.login()}"}


async def holdings(world: World, resident: dict[str, str]) -> list[dict[str, Any]]:
    response = await world.wallet.get("/credentials", headers=resident)
    assert response.status_code == 200, response.text
    held: list[dict[str, Any]] = response.json()
    return held


async def accept(world: World, resident: dict[str, str], offer_uri: str, tx_code: str | None) -> httpx.Response:
    return await world.wallet.post("/offers", headers=resident, json={"offer_uri": offer_uri, "tx_code": tx_code})


def token_requests(world: World) -> int:
    return len(world.wallet_to_issuer.posted("/token"))


async def test_an_offer_is_redeemed_once(tmp_path: Path, database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        resident = await mai(world)
        offer = await world.offer(EMPLOYER, CONFIGURATION, dict(EMPLOYMENT_CLAIMS), tx_code=True)
        first = await accept(world, resident, offer["offer_uri"], offer["tx_code"])
        assert first.status_code == 201, first.text
        held = await holdings(world, resident)
        assert [c["type"]["configuration_id"] for c in held] == [CONFIGURATION]

        # The same offer, the same code again: the issuer's Token Endpoint refuses it (invalid_grant),
        # and the wallet tells the resident which issuer refused and with which code.
        again = await accept(world, resident, by_value(offer["credential_offer"]), offer["tx_code"])
        described = assert_error(again, 400, "issuer_refused")
        assert world.deployment.issuer_id(EMPLOYER) in described and "invalid_grant" in described
        assert "already used" in described

        # By reference, the issuer no longer even serves the offer; the wallet reaches no Token Endpoint.
        before = token_requests(world)
        by_reference = await accept(world, resident, offer["offer_uri"], offer["tx_code"])
        said = assert_error(by_reference, 400, "issuer_refused")
        assert world.deployment.issuer.public_url in said and "already used" in said
        assert token_requests(world) == before

        status = await world.offer_status(EMPLOYER, offer["offer_id"])
        assert (status["status"], status["credentials_issued"]) == ("redeemed", first.json()[0]["copies"])
        assert await holdings(world, resident) == held


async def test_an_expired_offer_is_refused(tmp_path: Path, database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        resident = await mai(world)
        offer = await world.offer(EMPLOYER, CONFIGURATION, dict(EMPLOYMENT_CLAIMS), tx_code=True, expires_in=600)
        world.advance(seconds=601)

        refused = await accept(world, resident, by_value(offer["credential_offer"]), offer["tx_code"])
        described = assert_error(refused, 400, "issuer_refused")
        assert world.deployment.issuer_id(EMPLOYER) in described and "invalid_grant" in described
        assert "expired" in described

        by_reference = await accept(world, resident, offer["offer_uri"], offer["tx_code"])
        said = assert_error(by_reference, 400, "issuer_refused")
        assert world.deployment.issuer.public_url in said and "already used" in said

        status = await world.offer_status(EMPLOYER, offer["offer_id"])
        assert (status["status"], status["credentials_issued"]) == ("expired", 0)
        assert await holdings(world, resident) == []


async def test_wrong_tx_codes_lock_the_offer_even_for_the_right_one(tmp_path: Path, database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        resident = await mai(world)
        offer = await world.offer(EMPLOYER, CONFIGURATION, dict(EMPLOYMENT_CLAIMS), tx_code=True)
        right = offer["tx_code"]
        wrong = "0" * len(right) if right != "0" * len(right) else "1" * len(right)
        limit = world.deployment.issuer.tx_code_max_attempts
        uri = by_value(offer["credential_offer"])

        for attempt in range(1, limit + 1):
            refused = await accept(world, resident, uri, wrong)
            described = assert_error(refused, 400, "issuer_refused")
            assert world.deployment.issuer_id(EMPLOYER) in described and "invalid_grant" in described
            left = limit - attempt
            assert ("no tries are left" if left == 0 else f"{left} tr") in described
            assert (await world.offer_status(EMPLOYER, offer["offer_id"]))["tx_code_attempts"] == attempt
            assert await holdings(world, resident) == []

        # The code is dead: the right transaction code no longer redeems it.
        late = await accept(world, resident, uri, right)
        described = assert_error(late, 400, "issuer_refused")
        assert "invalid_grant" in described and "too many wrong transaction codes" in described

        status = await world.offer_status(EMPLOYER, offer["offer_id"])
        assert (status["status"], status["tx_code_attempts"], status["credentials_issued"]) == ("locked", limit, 0)
        assert await holdings(world, resident) == []


@pytest.mark.parametrize("database_urls", ["sqlite"], indirect=True)
async def test_the_wallet_says_the_offer_was_used(tmp_path: Path, database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        resident = await mai(world)
        offer = await world.offer(EMPLOYER, CONFIGURATION, dict(EMPLOYMENT_CLAIMS))
        assert (await accept(world, resident, offer["offer_uri"], None)).status_code == 201
        again = await accept(world, resident, offer["offer_uri"], None)
        assert again.status_code < 500, again.text
        assert "already used" in again.json()["error_description"]


class _ReplayNonce:
    """A man in the middle who hands the wallet an already used ``c_nonce`` instead of a fresh one."""

    def __init__(self, old: str) -> None:
        self.old = old

    async def __call__(self, request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if not request.url.path.endswith("/nonce"):
            return None
        body = json.dumps({"c_nonce": self.old}).encode()
        return httpx.Response(200, headers={"Content-Type": "application/json", "Cache-Control": "no-store"},
                              stream=httpx.ByteStream(body))


async def _break_proof(request: httpx.Request) -> httpx.Request | None:
    """Flip the signature of each key proof on its way to the Credential Endpoint."""
    if not request.url.path.endswith("/credential"):
        return None
    body = json.loads(await request.aread())
    proofs = body["proofs"]["jwt"]
    body["proofs"]["jwt"] = [p[:-6] + ("AAAAAA" if not p.endswith("AAAAAA") else "BBBBBB") for p in proofs]
    content = json.dumps(body).encode()
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return httpx.Request(request.method, request.url, headers=headers, content=content)


@pytest.mark.parametrize(("tamper", "issuer_error"), [("replayed_c_nonce", "invalid_nonce"),
                                                      ("broken_proof", "invalid_proof")])
async def test_proofs_the_issuer_refuses(tmp_path: Path, database_urls: dict[str, str], tamper: str,
                                         issuer_error: str) -> None:
    async with open_world(tmp_path, database_urls) as world:
        resident = await mai(world)
        first = await world.offer(EMPLOYER, CONFIGURATION, dict(EMPLOYMENT_CLAIMS))
        accepted = await accept(world, resident, first["offer_uri"], None)
        assert accepted.status_code == 201, accepted.text
        held = await holdings(world, resident)

        if tamper == "replayed_c_nonce":
            (nonce_call,) = [s for s in world.wallet_to_issuer.sent if s.path.endswith("/nonce")]
            proof = json.loads(world.wallet_to_issuer.posted("/credential")[0].body)["proofs"]["jwt"][0]
            used = json.loads(_b64url(proof.split(".")[1]))["nonce"]
            assert nonce_call.method == "POST" and used
            world.wallet_to_issuer.edit_answer = _ReplayNonce(used)
        else:
            world.wallet_to_issuer.edit_request = _break_proof

        second = await world.offer(EMPLOYER, CONFIGURATION, dict(EMPLOYMENT_CLAIMS))
        refused = await accept(world, resident, second["offer_uri"], None)
        described = assert_error(refused, 400, "issuer_refused")
        assert world.deployment.issuer_id(EMPLOYER) in described and issuer_error in described
        assert "credential request" in described

        # The code was spent on the token, but no credential came of it, and the resident holds what she held.
        status = await world.offer_status(EMPLOYER, second["offer_id"])
        assert (status["status"], status["credentials_issued"]) == ("redeemed", 0)
        assert await holdings(world, resident) == held


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
