"""A wallet's revocation event: verified with the keys of the wallet that sent the receipt, everything
received under the consent deleted, and a signed deletion acknowledgement answered (again, for a retry)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tsunagu.consent import verify_deletion_ack
from tsunagu.jwk import generate_key

from .conftest import ADMIN, NOW
from .consent_wallet import OTHER_WALLET, WALLET, Setup, consent_view, grant, open_setup, request_view

pytestmark = pytest.mark.anyio

REVOCATION = "application/consent-revocation+jwt"


@pytest.fixture
async def setup(tmp_path: Path, database_url: str) -> AsyncIterator[Setup]:
    async with open_setup(tmp_path, database_url) as opened:
        yield opened


async def _post(setup: Setup, token: str, *, media_type: str = REVOCATION,
                tenant: str = "landlord") -> httpx.Response:
    return await setup.world.client.post(f"/{tenant}/consent-notifications", content=token,
                                         headers={"Content-Type": media_type})


async def test_a_revocation_deletes_everything_under_the_consent_and_is_acknowledged(setup: Setup) -> None:
    world = setup.world
    original = await grant(setup, ongoing=True)
    refreshed = await world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert refreshed.status_code == 200 and refreshed.json()["claims"] is not None
    client_id = original["client_id"]
    world.clock.now += timedelta(minutes=5)
    response = await _post(setup, setup.wallet.revocation("cns_ongoing", client_id, jti="evt-1"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/consent-deletion-ack+jwt"
    assert response.headers["cache-control"] == "no-store"
    ack = verify_deletion_ack(response.text, trust_anchor=world.root, expected_client_id=client_id,
                              expected_aud=WALLET, now=world.clock())
    assert (ack.consent_id, ack.outcome, ack.event_jti) == ("cns_ongoing", "deleted", "evt-1")
    for request_id in (original["request_id"], refreshed.json()["request_id"]):
        shown = await request_view(world, request_id)
        assert shown["claims"] is None and shown["deletion_reason"] == "consent revoked"
        assert shown["deleted_at"].startswith(world.clock.now.strftime("%Y-%m-%dT%H:%M"))
    view = await consent_view(world, "cns_ongoing")
    assert view["status"] == "revoked"
    assert [(n["jti"], n["event"]) for n in view["notices"]] == [("evt-1", "revoked")]
    assert not any(r["held"] for r in view["requests"])
    # Ended locally: no more refreshes.
    response = await world.client.post("/admin/landlord/consents/cns_ongoing/refresh", headers=ADMIN)
    assert response.status_code == 409 and response.json()["error"] == "consent_ended"


async def test_the_same_event_again_gets_the_same_ack(setup: Setup) -> None:
    original = await grant(setup, ongoing=False)
    token = setup.wallet.revocation("cns_once", original["client_id"], jti="evt-9", event="expired")
    first = await _post(setup, token)
    setup.world.clock.now += timedelta(hours=1)
    again = await _post(setup, token)
    assert first.status_code == again.status_code == 200
    assert again.text == first.text
    assert (await request_view(setup.world, original["request_id"]))["deletion_reason"] == "consent expired"
    assert len((await consent_view(setup.world, "cns_once"))["notices"]) == 1


async def test_an_event_for_a_consent_held_nowhere_is_still_verified_and_acknowledged(setup: Setup) -> None:
    client_id = setup.world.landlord.registry_entry.client_id
    response = await _post(setup, setup.other.revocation("cns_unknown", client_id))
    assert response.status_code == 200, response.text
    ack = verify_deletion_ack(response.text, trust_anchor=setup.world.root, expected_client_id=client_id,
                              expected_aud=OTHER_WALLET, now=NOW)
    assert (ack.consent_id, ack.outcome) == ("cns_unknown", "deleted")
    forged = setup.other.revocation("cns_unknown2", client_id, key=generate_key("ES256", kid="wallet-2026"))
    refused = await _post(setup, forged)
    assert refused.status_code == 401, refused.text


@pytest.mark.parametrize(("case", "status", "error"), [
    ("addressed to the bank", 400, "invalid_request"),
    ("issued in the future", 400, "invalid_request"),
    ("signed by another key", 401, "invalid_client"),
    ("from a wallet that did not send the receipt", 401, "invalid_client"),
    ("iss names the other wallet, signed with its key", 401, "invalid_client"),
    ("not a JWS", 400, "invalid_request"),
    ("wrong media type", 400, "invalid_request"),
])
async def test_a_revocation_that_does_not_hold_is_refused_and_nothing_is_deleted(
        setup: Setup, case: str, status: int, error: str) -> None:
    original = await grant(setup, ongoing=False)
    client_id, wallet, other = original["client_id"], setup.wallet, setup.other
    media_type = REVOCATION
    token = {
        "addressed to the bank": lambda: wallet.revocation("cns_once", setup.world.bank.registry_entry.client_id),
        "issued in the future": lambda: wallet.revocation("cns_once", client_id, issued_at=NOW + timedelta(hours=1)),
        "signed by another key": lambda: wallet.revocation("cns_once", client_id,
                                                           key=generate_key("ES256", kid="wallet-2026")),
        "from a wallet that did not send the receipt": lambda: other.revocation("cns_once", client_id),
        "iss names the other wallet, signed with its key": lambda: wallet.revocation(
            "cns_once", client_id, iss=OTHER_WALLET, key=other.key),
        "not a JWS": lambda: "not-a-token",
        "wrong media type": lambda: wallet.revocation("cns_once", client_id),
    }[case]()
    if case == "wrong media type":
        media_type = "application/jwt"
    response = await _post(setup, token, media_type=media_type)
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert response.headers["cache-control"] == "no-store"
    shown = await request_view(setup.world, original["request_id"])
    assert shown["claims"] is not None and shown["deleted_at"] is None
    assert (await consent_view(setup.world, "cns_once"))["notices"] == []


async def test_an_unknown_tenant_is_404(setup: Setup) -> None:
    response = await _post(setup, setup.wallet.revocation("cns_once", "x509_san_dns:x.example"), tenant="nobody")
    assert response.status_code == 404


async def test_a_wallet_whose_keys_cannot_be_fetched_is_502(setup: Setup) -> None:
    original = await grant(setup, ongoing=False)
    setup.wallet.down = True
    response = await _post(setup, setup.wallet.revocation("cns_once", original["client_id"]))
    assert response.status_code == 502 and response.json()["error"] == "wallet_unavailable"
    assert (await request_view(setup.world, original["request_id"]))["claims"] is not None
