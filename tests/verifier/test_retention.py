"""Retention end: the sweep deletes claims past retain_until and queues one signed deletion ack per consent;
delivery retries a down wallet with backoff and delivers once it is back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tsunagu.consent import verify_deletion_ack
from verifier.retention import deliver_once, sweep_once

from .conftest import ADMIN
from .consent_wallet import WALLET, Setup, consent_view, grant, open_setup, request_view

pytestmark = pytest.mark.anyio


@pytest.fixture
async def setup(tmp_path: Path, database_url: str) -> AsyncIterator[Setup]:
    async with open_setup(tmp_path, database_url, retention_sweep_seconds=0, ack_retry_seconds=0) as opened:
        yield opened


async def test_the_sweep_deletes_at_retention_end_and_queues_one_ack(setup: Setup) -> None:
    world = setup.world
    original = await grant(setup, ongoing=False)
    world.clock.now += timedelta(days=89)
    assert await sweep_once(setup.app) == 0  # still within the 90 days
    assert (await request_view(world, original["request_id"]))["claims"] is not None
    world.clock.now += timedelta(days=1, seconds=1)
    assert await sweep_once(setup.app) == 1
    shown = await request_view(world, original["request_id"])
    assert shown["claims"] is None and shown["deletion_reason"] == "retention ended" and shown["deleted_at"]
    view = await consent_view(world, "cns_once")
    # Queued with the deletion and tried at once: the wallet is up, so it is delivered.
    assert [(a["status"], a["target_uri"], a["attempts"]) for a in view["acks"]] == [
        ("delivered", f"{WALLET}/consent-notifications", 1)]
    assert len(setup.wallet.acks) == 1
    assert await sweep_once(setup.app) == 0
    assert len((await consent_view(world, "cns_once"))["acks"]) == 1 and len(setup.wallet.acks) == 1


async def test_no_ack_while_something_is_still_held_under_the_consent(setup: Setup) -> None:
    world = setup.world
    await grant(setup, ongoing=True)
    world.clock.now += timedelta(days=20)  # the test registry is valid for 30 days
    world.issuer.iat, world.issuer.exp = world.clock.now, world.clock.now + timedelta(days=1)
    refreshed = await world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert refreshed.json()["claims"] is not None, [c for c in refreshed.json()["result"]["checks"] if c["outcome"] == "failed"]
    world.clock.now += timedelta(days=71)  # the first presentation's 90 days are over, the refresh's are not
    assert await sweep_once(setup.app) == 1
    view = await consent_view(world, "cns_ongoing")
    assert [r["held"] for r in view["requests"]] == [False, True] and view["acks"] == []
    world.clock.now += timedelta(days=60)
    assert await sweep_once(setup.app) == 1
    assert len((await consent_view(world, "cns_ongoing"))["acks"]) == 1


async def test_no_ack_after_the_wallet_revoked(setup: Setup) -> None:
    world = setup.world
    original = await grant(setup, ongoing=False)
    revoked = await world.client.post("/landlord/consent-notifications",
                                      content=setup.wallet.revocation("cns_once", original["client_id"]),
                                      headers={"Content-Type": "application/consent-revocation+jwt"})
    assert revoked.status_code == 200
    world.clock.now += timedelta(days=91)
    assert await sweep_once(setup.app) == 0  # nothing left to delete, and the wallet was answered already
    assert (await consent_view(world, "cns_once"))["acks"] == []


async def test_delivery_retries_a_down_wallet_with_backoff_then_delivers(setup: Setup) -> None:
    world = setup.world
    original = await grant(setup, ongoing=False)
    world.clock.now += timedelta(days=91)
    setup.wallet.down = True
    assert await sweep_once(setup.app) == 1  # the first attempt, at once, fails
    (ack,) = (await consent_view(world, "cns_once"))["acks"]
    assert (ack["status"], ack["attempts"]) == ("pending", 1) and "could not be reached" in ack["last_error"]
    setup.wallet.down = False
    assert (await deliver_once(setup.app)).failed == ()  # not due yet: it waits 5 seconds
    assert setup.wallet.acks == []
    world.clock.now += timedelta(seconds=5)
    report = await deliver_once(setup.app)
    assert len(report.delivered) == 1
    ((body, media_type),) = setup.wallet.acks
    assert media_type == "application/consent-deletion-ack+jwt"
    delivered = verify_deletion_ack(body, trust_anchor=world.root, expected_client_id=original["client_id"],
                                    expected_aud=WALLET, now=world.clock())
    assert (delivered.consent_id, delivered.outcome, delivered.event_jti) == ("cns_once", "deleted", None)
    (ack,) = (await consent_view(world, "cns_once"))["acks"]
    assert (ack["status"], ack["attempts"]) == ("delivered", 2) and len(setup.wallet.acks) == 1
    assert (await deliver_once(setup.app)).delivered == ()


async def test_the_backoff_doubles(setup: Setup) -> None:
    world = setup.world
    await grant(setup, ongoing=False)
    world.clock.now += timedelta(days=91)
    setup.wallet.down = True
    await sweep_once(setup.app)  # attempt 1
    waits = []
    for n in range(3):
        if n:
            await deliver_once(setup.app)
        (ack,) = (await consent_view(world, "cns_once"))["acks"]
        due = ack["next_attempt_at"]
        waits.append(due)
        world.clock.now += timedelta(seconds=40)
    assert [w[11:19] for w in waits] == [
        (world.clock.now - timedelta(seconds=120) + timedelta(seconds=5)).strftime("%H:%M:%S"),
        (world.clock.now - timedelta(seconds=80) + timedelta(seconds=10)).strftime("%H:%M:%S"),
        (world.clock.now - timedelta(seconds=40) + timedelta(seconds=20)).strftime("%H:%M:%S"),
    ]
