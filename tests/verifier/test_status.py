"""The status check as the verifier's users see it: revoked and suspended credentials named with their
issuer, an unreachable list blamed on the issuer's infrastructure (rejected, or a warning where the
deployment says so), and a list fetched once for many concurrent checks and kept for its ttl."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi.responses import Response

from .conftest import (
    INCOME_PATHS,
    NOW,
    SUSPENDED_IDX,
    World,
    checks_by_id,
    open_world,
)

pytestmark = pytest.mark.anyio


async def _verify(world: World, credential: str) -> dict[str, Any]:
    """One presentation request of the landlord's, answered with ``credential``; the verifier's result."""
    created = await world.create()
    request = await world.fetch_request(created)
    response = await world.respond(request, {"employment": [world.present(credential, request, INCOME_PATHS)]})
    assert (response.status_code, response.json()) == (200, {}), response.text
    result = await world.result(created)
    assert result["status"] == "completed"
    return result


def _status(result: dict[str, Any]) -> dict[str, Any]:
    return checks_by_id(result)["status"]


async def test_a_suspended_credential_is_refused_naming_its_issuer(world: World) -> None:
    result = await _verify(world, world.credential(status_idx=SUSPENDED_IDX))
    assert result["result"]["decision"] == "rejected"
    status = _status(result)
    assert (status["outcome"], status["party"], status["code"]) == ("failed", "issuer", "credential_status.suspended")
    assert status["reason"] == {
        "en": "Suspended by Sakura Logistics: the issuer has put this credential on hold and may reinstate it.",
        "ja": "さくら物流がこの証明書を一時停止しています。発行者が再開する可能性があります。"}


async def test_an_application_specific_status_is_not_taken_for_valid(world: World) -> None:
    world.issuer.status_list.set(5, 0x03)
    status = _status(await _verify(world, world.credential(status_idx=5)))
    assert (status["outcome"], status["party"], status["code"]) == ("failed", "issuer", "credential_status.unknown")
    assert "0x03" in status["reason"]["en"]


async def test_an_index_outside_the_list_is_the_issuers_error(world: World) -> None:
    status = _status(await _verify(world, world.credential(status_idx=5000)))
    assert (status["outcome"], status["party"], status["code"]) == (
        "failed", "issuer", "status_list.index_out_of_range")


async def test_a_status_uri_off_the_issuers_origin_is_never_fetched(tmp_path: Path, database_url: str) -> None:
    fetched: list[str] = []

    def elsewhere(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return httpx.Response(200, text="", headers={"Content-Type": "application/statuslist+jwt"})

    async with open_world(tmp_path, database_url, mounts={"https://attacker.test": httpx.MockTransport(elsewhere)}) \
            as world:
        result = await _verify(world, world.credential(status_uri="https://attacker.test/status/1"))
        status = _status(result)
        assert (status["outcome"], status["party"], status["code"]) == ("failed", "issuer", "sd_jwt_vc.invalid_status")
        assert fetched == []
        assert world.issuer.hits == ["metadata"]


# --- an unreachable status list: the issuer's infrastructure, rejected or only warned about -------------------


async def test_an_unreachable_status_list_rejects_and_blames_the_issuers_infrastructure(world: World) -> None:
    world.issuer.answer = Response("<html>Service Unavailable</html>", status_code=503, media_type="text/html")
    result = await _verify(world, world.credential())
    assert result["result"]["decision"] == "rejected"
    status = _status(result)
    assert (status["outcome"], status["party"], status["code"]) == ("failed", "issuer", "status_list.unreachable")
    assert status["reason"]["en"] == (
        "Status could not be established: Sakura Logistics's status list unreachable since 2026-11-23 18:00:00 JST "
        "(https://issuer.test/employer/status/1 answered HTTP 503). "
        "This is a failure of the issuer's infrastructure, not of the resident.")
    assert status["reason"]["ja"].startswith(
        "失効状態を確認できませんでした。さくら物流の失効リストを2026年11月23日 18:00:00（日本時間）から取得できません")
    assert all(c["party"] != "resident" for c in result["result"]["checks"])

    # Ten minutes later it still fails, and it is still unreachable since the first failure.
    world.clock.now = NOW + timedelta(minutes=10)
    later = _status(await _verify(world, world.credential()))
    assert "unreachable since 2026-11-23 18:00:00 JST" in later["reason"]["en"]
    assert world.issuer.hits.count("status") == 2  # retried after the 30 s pause, not kept as failed

    world.issuer.answer = None
    world.clock.now = NOW + timedelta(minutes=20)
    assert (await _verify(world, world.credential()))["result"]["decision"] == "accepted"


async def test_under_the_warn_policy_an_unreachable_list_is_a_warning_and_the_decision_stands(
    tmp_path: Path, database_url: str
) -> None:
    async with open_world(tmp_path, database_url, unreachable_status_policy="warn") as world:
        world.issuer.answer = Response(status_code=503)
        result = await _verify(world, world.credential())
        assert result["result"]["decision"] == "accepted"
        status = _status(result)
        assert (status["outcome"], status["party"], status["code"]) == ("warning", "issuer", "status_list.unreachable")
        assert status["reason"]["en"].endswith("Accepted without a status check, as this verifier's policy allows.")
        assert result["claims"] is not None and result["claims"]["employment"][0]["employer_name"] == "さくら物流株式会社"

        # The policy covers an unreachable list only: a list that says "revoked" still rejects.
        world.issuer.answer = None
        world.clock.now = NOW + timedelta(minutes=1)
        revoked = await _verify(world, world.credential(status_idx=7))
        assert (revoked["result"]["decision"], _status(revoked)["code"]) == ("rejected", "credential_status.revoked")


# --- one fetch for many checks, kept for its ttl and never past its exp ----------------------------------------


async def test_twenty_concurrent_verifications_on_a_cold_cache_fetch_the_list_once(world: World) -> None:
    answers = []
    for n in range(20):
        created = await world.create()
        request = await world.fetch_request(created)
        credential = world.credential(status_idx=7 if n % 4 == 0 else 3)
        answers.append((created, request, {"employment": [world.present(credential, request, INCOME_PATHS)]}))
    world.issuer.release = anyio.Event()

    async def respond(request: Any, vp_token: dict[str, list[str]]) -> None:
        response = await world.respond(request, vp_token)
        assert response.status_code == 200, response.text

    async with anyio.create_task_group() as group:
        for _, request, vp_token in answers:
            group.start_soon(respond, request, vp_token)
        with anyio.fail_after(30):  # every verification is under way, and the list is held at the issuer
            while [(await world.result(c))["status"] for c, _, _ in answers].count("verifying") < 20:
                await anyio.sleep(0.02)
        await anyio.sleep(0.1)
        world.issuer.release.set()

    decisions = [(await world.result(created))["result"]["decision"] for created, _, _ in answers]
    assert decisions == ["rejected" if n % 4 == 0 else "accepted" for n in range(20)]
    assert (world.issuer.hits.count("metadata"), world.issuer.hits.count("status")) == (1, 1)


async def test_the_list_is_kept_for_its_ttl_then_fetched_again(world: World) -> None:
    await _verify(world, world.credential())
    world.clock.now = NOW + timedelta(seconds=3599)
    assert (await _verify(world, world.credential()))["result"]["decision"] == "accepted"
    assert world.issuer.hits.count("status") == 1
    world.issuer.status_list.set(3, 1)  # revoked meanwhile: seen once the ttl is over
    world.clock.now = NOW + timedelta(seconds=3600)
    result = await _verify(world, world.credential())
    assert (result["result"]["decision"], _status(result)["code"]) == ("rejected", "credential_status.revoked")
    assert world.issuer.hits.count("status") == 2


async def test_the_list_is_never_kept_past_its_exp(world: World) -> None:
    world.issuer.exp = NOW + timedelta(minutes=30)  # before the hour of its ttl
    await _verify(world, world.credential())
    world.clock.now = NOW + timedelta(minutes=29, seconds=59)
    await _verify(world, world.credential())
    assert world.issuer.hits.count("status") == 1
    world.issuer.exp = NOW + timedelta(days=1)
    world.clock.now = NOW + timedelta(minutes=30)
    assert (await _verify(world, world.credential()))["result"]["decision"] == "accepted"
    assert world.issuer.hits.count("status") == 2
