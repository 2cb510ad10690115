"""Telling verifiers a consent ended (contract 2) and receiving their deletion acknowledgements (contracts 2, 3).

The landlord's ``consent-notifications`` endpoint is played by a stand-in that verifies the wallet's
revocation event with the wallet's published keys and answers with an acknowledgement signed with the
landlord's real key and certificate (under the registry root), or misbehaves as each test needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from tsunagu.consent import (
    MEDIA_TYPE_CONSENT_REVOCATION,
    MEDIA_TYPE_DELETION_ACK,
    ConsentRevocation,
    verify_consent_revocation,
)
from tsunagu.jwk import PublicJwk, parse_jwks
from wallet import create_app
from wallet.consent_sweep import sweep_once
from wallet.notifications import deliver_once
from wallet.services import consents, notifying

from .conftest import WALLET, World, assert_error
from .consent_messages import ack_token, answer_with, login, mai_with_ongoing_consent, request_link, \
    show_link, stand_in_responses

pytestmark = pytest.mark.anyio

NOTIFICATIONS = "/landlord/consent-notifications"


class StandIn:
    """The landlord's notification endpoint: verifies each event; answers as ``behaviour`` says."""

    def __init__(self, world: World, keys: Sequence[PublicJwk]) -> None:
        self.world, self.keys = world, keys
        self.received: list[ConsentRevocation] = []
        self.media_types: list[str] = []
        self.behaviour: Callable[[ConsentRevocation], httpx.Response] = self.acknowledge

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.media_types.append(request.headers["content-type"])
        event = verify_consent_revocation(request.content.decode(), keys=self.keys,
                                          expected_aud=self.world.landlord.registry_entry.client_id,
                                          now=self.world.clock.now, expected_iss=WALLET)
        self.received.append(event)
        return self.behaviour(event)

    def acknowledge(self, event: ConsentRevocation) -> httpx.Response:
        return answer_with(200, ack_token(self.world, event.consent_id, event_jti=event.jti).encode(),
                           MEDIA_TYPE_DELETION_ACK)


def down(event: ConsentRevocation) -> httpx.Response:
    raise httpx.ConnectError("connection refused")


async def _stand_in(world: World) -> StandIn:
    keys = parse_jwks((await world.wallet.get("/.well-known/jwks.json")).json())
    stand_in = StandIn(world, keys)
    world.to_verifier.intercept[NOTIFICATIONS] = stand_in
    return stand_in


def _outbox(world: World) -> list[dict[str, Any]]:
    return world.rows("SELECT consent_id, status, attempts, event, event_jti, last_error, next_attempt_at "
                      "FROM wallet_outbox")


async def _kinds(world: World, resident: dict[str, str]) -> list[str]:
    response = await world.wallet.get("/events", headers=resident)
    assert response.status_code == 200, response.text
    return [e["kind"] for e in response.json()]


async def test_a_revoke_tells_the_verifier_at_once_and_records_its_acknowledgement(world: World) -> None:
    stand_in = await _stand_in(world)
    mai, consent = await mai_with_ongoing_consent(world)
    revoked = await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)
    assert revoked.status_code == 200, revoked.text

    (event,) = stand_in.received
    assert stand_in.media_types == [MEDIA_TYPE_CONSENT_REVOCATION]
    assert (event.consent_id, event.event, event.wallet) == (consent["id"], "revoked", WALLET)
    (message,) = _outbox(world)
    assert (message["status"], message["attempts"], message["event_jti"]) == ("delivered", 1, event.jti)
    (ack,) = world.rows("SELECT consent_id, outcome, event_jti, resident_id FROM wallet_deletion_ack")
    assert (ack["consent_id"], ack["outcome"], ack["event_jti"]) == (consent["id"], "deleted", event.jti)

    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=mai)).json()
    assert shown["notification"]["status"] == "delivered" and shown["notification"]["attempts"] == 1
    assert shown["deletion"]["outcome"] == "deleted" and shown["deletion"]["legal_basis"] is None
    assert shown["status_text"]["en"].endswith(" Sakura Homes confirmed on 2026-11-23 that it deleted your data.")
    assert shown["status_text"]["ja"].endswith("さくら不動産は2026-11-23にデータの削除を確認しました。")
    kinds = await _kinds(world, mai)
    assert kinds[:3] == ["deletion_acknowledged", "notification_delivered", "consent_revoked"]
    log = (await world.wallet.get("/events", headers=mai, params={"kind": "deletion_acknowledged"})).json()
    assert log[0]["details"]["outcome"] == "deleted" and log[0]["details"]["verifier_name"]["en"] == "Sakura Homes"


async def test_the_event_is_written_in_the_transaction_of_the_revoke(world: World,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    await _stand_in(world)
    mai, consent = await mai_with_ongoing_consent(world)
    app = world.wallet_app
    (owner,) = world.rows(f"SELECT resident_id FROM wallet_consent WHERE id='{consent['id']}'")
    consent["resident_id"] = owner["resident_id"]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the outbox write failed")

    monkeypatch.setattr(notifying, "enqueue_revocation", broken)
    with Session(app.state.engine) as session, pytest.raises(RuntimeError):
        consents.revoke(session, app.state.settings, app.state.registry, consent["resident_id"], consent["id"],
                        now=world.clock.now)
    # Neither happened: the consent is still active, and no event is owed.
    assert world.rows(f"SELECT status FROM wallet_consent WHERE id='{consent['id']}'") == [{"status": "active"}]
    assert _outbox(world) == []
    monkeypatch.undo()
    with Session(app.state.engine) as session:
        consents.revoke(session, app.state.settings, app.state.registry, consent["resident_id"], consent["id"],
                        now=world.clock.now)
        consents.revoke(session, app.state.settings, app.state.registry, consent["resident_id"], consent["id"],
                        now=world.clock.now)  # twice: still one event
    assert [(m["status"], m["event"], m["attempts"]) for m in _outbox(world)] == [("pending", "revoked", 0)]


async def test_a_consent_never_used_owes_the_verifier_nothing(world: World) -> None:
    stand_in = await _stand_in(world)
    mai = await world.resident()
    await world.receive(mai)
    link, path = request_link(world)
    stand_in_responses(world, path)
    world.to_verifier.intercept[path] = lambda request: (_ for _ in ()).throw(httpx.ConnectError("down"))
    shown = await show_link(world, mai, link)
    approved = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    consent_id = approved.json()["consent_id"]
    # The send failed, but the use was recorded before it: force a consent that was never used at all.
    with world.wallet_app.state.engine.begin() as conn:
        conn.execute(text("UPDATE wallet_consent SET use_count = 0 WHERE id = :id"), {"id": consent_id})
    assert (await world.wallet.post(f"/consents/{consent_id}/revoke", headers=mai)).status_code == 200
    assert _outbox(world) == [] and stand_in.received == []
    shown_consent = (await world.wallet.get(f"/consents/{consent_id}", headers=mai)).json()
    assert shown_consent["notification"] is None


async def test_a_verifier_that_is_down_is_retried_with_backoff_and_reached_after_a_restart(world: World) -> None:
    stand_in = await _stand_in(world)
    stand_in.behaviour = down
    mai, consent = await mai_with_ongoing_consent(world)
    assert (await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)).status_code == 200
    (message,) = _outbox(world)
    assert (message["status"], message["attempts"]) == ("pending", 1) and "not delivered" in message["last_error"]

    # Not due yet: nothing is tried.
    report = await deliver_once(world.wallet_app)
    assert report.failed == () and len(stand_in.received) == 1
    world.clock.advance(seconds=5)
    report = await deliver_once(world.wallet_app)
    assert len(report.failed) == 1 and len(stand_in.received) == 2
    world.clock.advance(seconds=9)  # the second failure waits 10 seconds
    assert (await deliver_once(world.wallet_app)).failed == ()
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=mai)).json()
    assert shown["notification"]["status"] == "pending" and shown["notification"]["attempts"] == 2
    assert shown["deletion"] is None

    # The verifier is back; the wallet restarts (a new app on the same database) and delivers.
    stand_in.behaviour = stand_in.acknowledge
    world.clock.advance(seconds=1)
    restarted = create_app(world.wallet_app.state.settings, http=world.wallet_app.state.http, clock=world.clock)
    try:
        report = await deliver_once(restarted)
    finally:
        restarted.state.engine.dispose()
    assert len(report.delivered) == 1
    (message,) = _outbox(world)
    assert (message["status"], message["attempts"]) == ("delivered", 3)
    assert len({e.jti for e in stand_in.received}) == 1  # the same event, three times
    mai = await login(world)
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=mai)).json()
    assert shown["notification"]["status"] == "delivered" and shown["deletion"]["outcome"] == "deleted"


@pytest.mark.parametrize("answer", ["wrong_event_jti", "another_verifier", "wrong_consent", "json", "wrong_aud"])
async def test_an_answer_that_does_not_acknowledge_the_event_is_refused_and_retried(world: World, answer: str) -> None:
    stand_in = await _stand_in(world)
    mai, consent = await mai_with_ongoing_consent(world)

    def misbehave(event: ConsentRevocation) -> httpx.Response:
        if answer == "json":
            return answer_with(200, b'{"ok": true}', "application/json")
        token = {
            "wrong_event_jti": lambda: ack_token(world, event.consent_id, event_jti="another-event"),
            "another_verifier": lambda: ack_token(world, event.consent_id, event_jti=event.jti, verifier=world.bank),
            "wrong_consent": lambda: ack_token(world, "another-consent", event_jti=event.jti),
            "wrong_aud": lambda: ack_token(world, event.consent_id, event_jti=event.jti, aud="https://other.test"),
        }[answer]()
        return answer_with(200, token.encode(), MEDIA_TYPE_DELETION_ACK)

    stand_in.behaviour = misbehave
    assert (await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)).status_code == 200
    (message,) = _outbox(world)
    assert (message["status"], message["attempts"]) == ("pending", 1)
    assert world.rows("SELECT jti FROM wallet_deletion_ack") == []
    assert "deletion_acknowledged" not in await _kinds(world, mai)

    stand_in.behaviour = stand_in.acknowledge
    world.clock.advance(seconds=5)
    assert len((await deliver_once(world.wallet_app)).delivered) == 1
    assert len(world.rows("SELECT jti FROM wallet_deletion_ack")) == 1


async def test_after_the_give_up_period_the_resident_learns_the_verifier_was_never_told(world: World) -> None:
    stand_in = await _stand_in(world)
    stand_in.behaviour = down
    mai, consent = await mai_with_ongoing_consent(world)
    assert (await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)).status_code == 200
    world.clock.advance(days=30)
    report = await deliver_once(world.wallet_app)
    assert len(report.abandoned) == 1
    mai = await login(world)
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=mai)).json()
    assert shown["notification"]["status"] == "abandoned"
    assert "could not be told" in shown["status_text"]["en"]
    assert "notification_abandoned" in await _kinds(world, mai)


async def test_an_expired_ongoing_consent_tells_the_verifier(world: World) -> None:
    stand_in = await _stand_in(world)
    await mai_with_ongoing_consent(world, access_period_days=30)
    world.clock.advance(days=30)
    assert sweep_once(world.wallet_app) == 1
    assert [(m["event"], m["status"]) for m in _outbox(world)] == [("expired", "pending")]
    assert len((await deliver_once(world.wallet_app)).delivered) == 1
    assert [e.event for e in stand_in.received] == ["expired"]


async def test_a_verifier_without_a_notification_address_is_recorded_as_undeliverable(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    registry = world.wallet_app.state.registry
    without = tuple(dataclasses.replace(v, consent_notification_uri=None) for v in registry.verifiers)
    world.wallet_app.state.registry = dataclasses.replace(registry, verifiers=without)
    try:
        assert (await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)).status_code == 200
        assert _outbox(world) == []
        shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=mai)).json()
    finally:
        world.wallet_app.state.registry = registry
    assert shown["notification"] == {"status": "undeliverable", "attempts": 0, "last_error": None,
                                     "delivered_at": None}
    assert "could not be told" in shown["status_text"]["en"]
    assert "notification_undeliverable" in await _kinds(world, mai)


# --- POST /consent-notifications (contract 3) ---------------------------------------------------------


async def _post_ack(world: World, token: str, content_type: str = MEDIA_TYPE_DELETION_ACK) -> httpx.Response:
    return await world.wallet.post("/consent-notifications", content=token, headers={"Content-Type": content_type})


async def test_a_deletion_ack_at_retention_end_is_recorded_once(world: World) -> None:
    await _stand_in(world)
    mai, consent = await mai_with_ongoing_consent(world)
    token = ack_token(world, consent["id"], event_jti=None, jti="ack-1")
    first = await _post_ack(world, token)
    assert first.status_code == 200, first.text
    assert first.json() == {"consent_id": consent["id"], "outcome": "deleted", "recorded": True}
    assert first.headers["cache-control"] == "no-store"
    again = await _post_ack(world, token)
    assert again.status_code == 200 and again.json() == first.json()
    assert len(world.rows("SELECT jti FROM wallet_deletion_ack")) == 1
    assert (await _kinds(world, mai)).count("deletion_acknowledged") == 1

    world.clock.advance(seconds=1)
    retained = ack_token(world, consent["id"], event_jti=None, outcome="retained", jti="ack-2",
                         legal_basis="Act on Prevention of Transfer of Criminal Proceeds, Art. 6",
                         retain_until=datetime(2033, 11, 22, 20, 0, tzinfo=timezone.utc))  # the 23rd in Japan
    assert (await _post_ack(world, retained)).json()["outcome"] == "retained"
    shown = (await world.wallet.get(f"/consents/{consent['id']}", headers=mai)).json()
    assert shown["deletion"]["outcome"] == "retained"
    assert shown["deletion"]["legal_basis"].startswith("Act on Prevention")
    assert shown["deletion"]["retain_until"] is not None
    assert shown["status_text"]["en"].endswith(
        "Sakura Homes said on 2026-11-23 that it keeps your data until 2033-11-23, as required by "
        "Act on Prevention of Transfer of Criminal Proceeds, Art. 6.")
    log = (await world.wallet.get("/events", headers=mai, params={"kind": "deletion_acknowledged"})).json()
    assert log[0]["summary"]["en"] == ("Sakura Homes says it keeps your data until 2033-11-23, as required by "
                                    "Act on Prevention of Transfer of Criminal Proceeds, Art. 6.")


async def test_a_deletion_ack_that_does_not_check_out_is_refused(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    good = ack_token(world, consent["id"], event_jti=None)
    assert_error(await _post_ack(world, good, content_type="application/json"), 400, "invalid_request")
    assert_error(await _post_ack(world, "garbage"), 400, "invalid_request")
    assert_error(await _post_ack(world, ack_token(world, consent["id"], event_jti=None, aud="https://x.test")), 400,
                 "invalid_request")
    header, payload, signature = good.split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")])
    assert_error(await _post_ack(world, forged), 401, "invalid_client")
    # The bank is who it says, but the consent was given to the landlord.
    assert_error(await _post_ack(world, ack_token(world, consent["id"], event_jti=None, verifier=world.bank)), 404,
                 "unknown_consent")
    assert_error(await _post_ack(world, ack_token(world, "no-such-consent", event_jti=None)), 404, "unknown_consent")
    assert world.rows("SELECT jti FROM wallet_deletion_ack") == []


async def test_a_resident_never_sees_anothers_notifications_or_acknowledgements(world: World) -> None:
    await _stand_in(world)
    mai, consent = await mai_with_ongoing_consent(world)
    assert (await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)).status_code == 200
    ken = await world.resident("ken")
    assert (await world.wallet.get("/consents", headers=ken)).json() == []
    assert_error(await world.wallet.get(f"/consents/{consent['id']}", headers=ken), 404, "not_found")
    assert_error(await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=ken), 404, "not_found")
    kinds = await _kinds(world, ken)
    assert not {"deletion_acknowledged", "notification_delivered", "consent_revoked"} & set(kinds)
    mine = (await world.wallet.get("/consents", headers=mai)).json()
    assert mine[0]["deletion"]["outcome"] == "deleted"
