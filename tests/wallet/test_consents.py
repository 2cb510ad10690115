"""Consent records (issue #5): status and history, revocation, expiry, signed receipts sent with presentations."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tsunagu.consent import TYP_CONSENT_RECEIPT, ConsentSignatureInvalid, verify_consent_receipt
from tsunagu.jose import parse_compact
from tsunagu.jwk import parse_jwks
from wallet import create_app
from wallet.consent_sweep import sweep_once

from .conftest import PASSWORD, RENTAL_CLAIMS, WALLET, World, assert_error

pytestmark = pytest.mark.anyio


async def approve(world: World, resident: dict[str, str], **ask: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The verifier asks, the resident approves: (the request as created, the consent)."""
    created = await world.ask(**ask)
    shown = await world.show(resident, created)
    response = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=resident, json={})
    assert response.status_code == 200, response.text
    consent = await world.wallet.get(f"/consents/{response.json()['consent_id']}", headers=resident)
    assert consent.status_code == 200, consent.text
    return created, consent.json()


async def login(world: World, username: str) -> dict[str, str]:
    response = await world.wallet.post("/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def transitions(consent: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    return [(e["from_status"], e["to_status"], e["by"]) for e in consent["history"]]


async def test_a_one_time_consent_is_fulfilled_by_its_presentation(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    _, consent = await approve(world, mai)
    assert consent["status"] == "fulfilled" and consent["access_type"] == "one-time"
    assert consent["legal_basis"] == "consent" and consent["has_receipt"] is True
    assert consent["expires_at"].startswith("2027-02-21T09:00:00")  # granted + the 90 days the landlord asked
    assert transitions(consent) == [(None, "active", "resident"), ("active", "fulfilled", "system")]
    assert consent["status_text"]["en"].startswith("Used: your answer was sent to Sakura Homes")


async def test_revoke_is_committed_when_it_returns_and_recorded(world: World) -> None:
    mai, ken = await world.resident("mai"), await world.resident("ken")
    await world.receive(mai)
    _, consent = await approve(world, mai)

    # Another resident cannot revoke it, nor see that it exists.
    for path in (f"/consents/{consent['id']}/revoke",):
        assert_error(await world.wallet.post(path, headers=ken), 404, "not_found")
    assert_error(await world.wallet.get(f"/consents/{consent['id']}/receipt", headers=ken), 404, "not_found")
    assert (await world.wallet.get(f"/consents/{consent['id']}", headers=mai)).json()["status"] == "fulfilled"

    world.clock.advance(minutes=5)
    revoked = await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert transitions(revoked.json())[-1] == ("fulfilled", "revoked", "resident")
    assert revoked.json()["status_changed_at"].startswith("2026-11-23T09:05")
    # What the database says, read afresh: committed.
    (row,) = world.rows(f"SELECT status FROM wallet_consent WHERE id = '{consent['id']}'")
    assert row["status"] == "revoked"
    again = await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)
    assert again.status_code == 200 and len(again.json()["history"]) == 3  # not a second event
    assert_error(await world.wallet.post("/consents/nope/revoke", headers=mai), 404, "not_found")
    assert_error(await world.wallet.post(f"/consents/{consent['id']}/revoke"), 401, "invalid_token")


async def test_expiry_sweep_ends_an_unused_consent(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    world.to_verifier.refuse_responses = True  # the presentation fails: the one-time consent stays active
    _, unused = await approve(world, mai)
    world.to_verifier.refuse_responses = False
    _, used = await approve(world, mai)
    assert (unused["status"], used["status"]) == ("active", "fulfilled")

    world.clock.advance(days=89)
    assert sweep_once(world.wallet_app) == 0
    world.clock.advance(days=1, seconds=1)
    assert sweep_once(world.wallet_app) == 1
    assert sweep_once(world.wallet_app) == 0  # once
    mai = await login(world, "mai")  # 90 days on: a new session
    expired = (await world.wallet.get(f"/consents/{unused['id']}", headers=mai)).json()
    assert expired["status"] == "expired" and expired["status_text"]["en"].startswith("Expired on 2027-02-21")
    assert transitions(expired)[-1] == ("active", "expired", "system")
    assert (await world.wallet.get(f"/consents/{used['id']}", headers=mai)).json()["status"] == "fulfilled"
    log = (await world.wallet.get("/events", headers=mai, params={"kind": "consent_expired"})).json()
    assert [e["details"]["consent_id"] for e in log] == [unused["id"]]
    assert log[0]["summary"]["en"] == "Your consent for Sakura Homes (Rental screening) has ended."
    # An expired consent cannot be revoked: there is nothing left to take back.
    assert_error(await world.wallet.post(f"/consents/{unused['id']}/revoke", headers=mai), 409,
                 "consent_not_revocable")


async def test_the_receipt_is_signed_sent_with_the_presentation_and_verifiable(world: World) -> None:
    mai = await world.resident()
    credential = await world.receive(mai)
    created, consent = await approve(world, mai)

    jwks = await world.wallet.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and jwks.headers["content-type"] == "application/jwk-set+json"
    assert all("d" not in key for key in jwks.json()["keys"])
    keys = parse_jwks(jwks.json())

    raw = await world.wallet.get(f"/consents/{consent['id']}/receipt", headers={**mai, "Accept": "application/jwt"})
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/jwt")
    token = raw.text
    assert parse_compact(token, typ=TYP_CONSENT_RECEIPT).header["typ"] == TYP_CONSENT_RECEIPT
    receipt = verify_consent_receipt(token, keys=keys, expected_aud=created["client_id"], now=world.clock.now,
                                     expected_iss=WALLET)
    assert receipt.consent_id == consent["id"] and receipt.purpose == "rental_screening"
    assert receipt.retention_days == 90 and receipt.access_type == "one-time" and receipt.legal_basis == "consent"
    assert receipt.verifier_name.en == "Sakura Homes"
    (consented,) = receipt.claims
    assert consented.credential_query_id == "employment" and consented.vct == credential["type"]["vct"]
    assert [p[0] for p in consented.paths] == RENTAL_CLAIMS
    assert "mai" not in receipt.subject and len(receipt.subject) == 43

    decoded = (await world.wallet.get(f"/consents/{consent['id']}/receipt", headers=mai)).json()
    assert decoded["receipt"] == token and decoded["claims"]["jti"] == consent["id"]
    assert decoded["header"]["typ"] == TYP_CONSENT_RECEIPT and decoded["claims"]["sub"] == receipt.subject

    # It left with the presentation, beside vp_token and state, and the verifier accepted the response.
    (posted,) = world.to_verifier.posted()
    form = parse_qs(posted.decode())
    assert form["consent_receipt"] == [token] and "vp_token" in form and "state" in form
    result = (await world.result(created))["result"]
    assert result["decision"] == "accepted"
    (check,) = [c for c in result["checks"] if c["id"] == "consent_receipt"]
    assert check["outcome"] == "passed", check

    # A receipt signed by another key does not verify with the wallet's JWKS.
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    with pytest.raises(ConsentSignatureInvalid):
        verify_consent_receipt(forged, keys=keys, expected_aud=created["client_id"], now=world.clock.now)

    # The pseudonym is stable per verifier and differs between verifiers.
    _, second = await approve(world, mai)
    bank_receipt = await approve(world, mai, tenant="bank", purpose="account_opening_kyc", retention_days=30,
                                 dcql_query={"credentials": [{
                                     "id": "employment", "format": "dc+sd-jwt",
                                     "meta": {"vct_values": [credential["type"]["vct"]]},
                                     "claims": [{"path": ["employer_name"]}]}]})
    subjects = []
    for c in (second, bank_receipt[1]):
        claims = (await world.wallet.get(f"/consents/{c['id']}/receipt", headers=mai)).json()["claims"]
        subjects.append(claims["sub"])
    assert subjects[0] == receipt.subject and subjects[1] != receipt.subject


async def test_all_receipts_download_and_are_the_residents_own(world: World) -> None:
    mai, ken = await world.resident("mai"), await world.resident("ken")
    await world.receive(mai)
    _, first = await approve(world, mai)
    world.clock.advance(seconds=10)
    _, second = await approve(world, mai)
    download = await world.wallet.get("/consents/receipts", headers=mai)
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="consent-receipts.json"'
    assert [r["consent_id"] for r in download.json()] == [second["id"], first["id"]]
    assert all(r["claims"]["aud"] == r["claims"]["verifier"]["client_id"] for r in download.json())
    assert (await world.wallet.get("/consents/receipts", headers=ken)).json() == []
    assert (await world.wallet.get("/consents", headers=ken)).json() == []


async def test_the_receipt_key_survives_a_restart(world: World) -> None:
    before = (await world.wallet.get("/.well-known/jwks.json")).json()
    again = create_app(world.wallet_app.state.settings, clock=world.clock)  # a second worker, or a restart
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(again), base_url=WALLET) as client:
            assert (await client.get("/.well-known/jwks.json")).json() == before
    finally:
        again.state.engine.dispose()
    assert len(world.rows("SELECT purpose FROM wallet_service_key")) == 1
    (row,) = world.rows("SELECT sealed_private_key FROM wallet_service_key")
    assert '"d"' not in row["sealed_private_key"]  # sealed at rest


async def test_a_revoke_that_lands_before_the_send_stops_the_presentation(world: World,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The consent is re-checked in the transaction that sends: a revoke committed after the grant wins."""
    from sqlmodel import Session

    from wallet.services import presenting
    from wallet.services.consents import revoke

    mai = await world.resident()
    await world.receive(mai)
    shown = await world.show(mai, await world.ask())
    real_open_copy = presenting.open_copy

    def open_copy_while_the_resident_revokes(settings: Any, copy: Any) -> Any:
        with Session(world.wallet_app.state.engine) as other:  # another worker, another connection
            (consent,) = world.rows("SELECT id, resident_id FROM wallet_consent")
            revoke(other, world.wallet_app.state.settings, world.wallet_app.state.registry, consent["resident_id"],
                   consent["id"], now=world.clock.now)
        return real_open_copy(settings, copy)

    monkeypatch.setattr(presenting, "open_copy", open_copy_while_the_resident_revokes)
    response = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "failed" and "revoked" in response.json()["error"]
    assert world.to_verifier.posted() == []  # nothing left the wallet
    (consent,) = (await world.wallet.get("/consents", headers=mai)).json()
    assert consent["status"] == "revoked"
    assert transitions(consent) == [(None, "active", "resident"), ("active", "revoked", "resident")]
    assert world.rows("SELECT count(*) AS n FROM wallet_consent_use") == [{"n": 0}]
