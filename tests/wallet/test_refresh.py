"""``POST /consent-refresh`` (contract 1): a verifier with an ongoing consent gets a fresh presentation of exactly
the consented claims, and every way it can be refused."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tsunagu.consent import ConsentRefreshRequest, build_consent_refresh_request
from tsunagu.consent.tokens import sign_token
from tsunagu.jwk import generate_key
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.x509 import certificate_to_x5c, create_root_ca, issue_verifier_certificate
from verifier.demo import DemoVerifier

from .conftest import EMPLOYMENT_CLAIMS, World, assert_error
from .consent_messages import (
    GUARANTOR_CLAIMS,
    grant_ongoing,
    mai_with_ongoing_consent,
    login,
    post_refresh,
    refresh_token,
    request_link,
    show_link,
    stand_in_responses,
    verify_presentation,
)

pytestmark = pytest.mark.anyio


async def _events(world: World, resident: dict[str, str], kind: str) -> list[dict[str, Any]]:
    response = await world.wallet.get("/events", headers=resident, params={"kind": kind})
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = [e for e in response.json() if e["kind"] == kind]
    return events


async def test_a_refresh_presents_exactly_the_consented_claims_bound_to_the_nonce(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    world.clock.advance(days=30)
    nonce = secrets.token_urlsafe(16)
    response = await post_refresh(world, refresh_token(world, consent["id"], nonce=nonce))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["consent_id"] == consent["id"] and list(body["vp_token"]) == ["employment"]
    (presentation,) = body["vp_token"]["employment"]
    client_id = world.landlord.registry_entry.client_id
    verified = await verify_presentation(world, presentation, nonce=nonce, aud=client_id)
    disclosed = {name: value for name, value in verified.claims.items() if name in EMPLOYMENT_CLAIMS}
    assert disclosed == {name: EMPLOYMENT_CLAIMS[name] for name in GUARANTOR_CLAIMS}

    # The same copy (holder key) the first presentation used: the other copies stay unused.
    mai = await login(world)
    assert len(world.rows("SELECT id FROM wallet_credential_copy WHERE used_at IS NOT NULL")) == 1
    shown = await world.wallet.get(f"/consents/{consent['id']}", headers=mai)
    assert shown.json()["refresh_count"] == 1 and shown.json()["status"] == "active"
    (event,) = await _events(world, mai, "consent_refreshed")
    assert event["details"]["consent_id"] == consent["id"]
    assert event["details"]["claims"] == {"employment": [[n] for n in GUARANTOR_CLAIMS]}
    assert "4800000" not in str(event["details"]) and "Sakura Systems" not in str(event["details"])

    second = await post_refresh(world, refresh_token(world, consent["id"]))
    assert second.status_code == 200, second.text
    first_key = decode_sd_jwt(presentation).payload["cnf"]
    again = decode_sd_jwt(second.json()["vp_token"]["employment"][0]).payload["cnf"]
    assert first_key == again


async def test_a_revoked_credential_is_still_presented_for_the_verifier_to_see(world: World) -> None:
    """The re-check exists to see a change: the wallet does not hide a credential whose status changed."""
    mai = await world.resident()
    held = await world.receive(mai)
    consent = await grant_ongoing(world, mai)
    with world.wallet_app.state.engine.begin() as conn:  # the issuer's word, as the wallet last learned it
        conn.execute(text("UPDATE wallet_credential_status SET status='revoked', status_value=1 "
                          "WHERE credential_id=:id"), {"id": held["id"]})
    response = await post_refresh(world, refresh_token(world, consent["id"]))
    assert response.status_code == 200, response.text


async def test_wrong_media_type_malformed_expired_and_misaddressed_requests_are_invalid(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    token = refresh_token(world, consent["id"])
    assert_error(await post_refresh(world, token, content_type="application/jwt"), 400, "invalid_request")
    assert_error(await post_refresh(world, "not.a.token"), 400, "invalid_request")
    assert_error(await post_refresh(world, refresh_token(world, consent["id"], aud="https://other-wallet.test")),
                 400, "invalid_request")
    old = refresh_token(world, consent["id"], issued_at=world.clock.now - timedelta(minutes=20))
    assert_error(await post_refresh(world, old), 400, "invalid_request")
    future = refresh_token(world, consent["id"], issued_at=world.clock.now + timedelta(minutes=20))
    assert_error(await post_refresh(world, future), 400, "invalid_request")
    # Valid for longer than ten minutes: built by hand, since the dataclass refuses it.
    demo = world.landlord
    now = int(world.clock.now.timestamp())
    long_lived = sign_token("consent-refresh+jwt", {
        "client_id": demo.registry_entry.client_id, "aud": "https://wallet.test", "consent_id": consent["id"],
        "nonce": "n-long", "iat": now, "exp": now + 3600}, demo.tenant.key, x5c=demo.tenant.x5c)
    assert_error(await post_refresh(world, long_lived), 400, "invalid_request")
    assert world.rows("SELECT id FROM wallet_consent_use WHERE kind='refresh'") == []


async def test_an_unauthenticated_or_unregistered_client_is_invalid_client(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    landlord = world.landlord
    # Signed by another key than the certificate's.
    stranger_key = generate_key("ES256")
    bad_signature = build_consent_refresh_request(ConsentRefreshRequest(
        client_id=landlord.registry_entry.client_id, wallet="https://wallet.test", consent_id=consent["id"],
        nonce="n1", issued_at=world.clock.now.replace(microsecond=0),
        expires_at=world.clock.now.replace(microsecond=0) + timedelta(minutes=5)), stranger_key, x5c=landlord.tenant.x5c)
    assert_error(await post_refresh(world, bad_signature), 401, "invalid_client")
    # A certificate under another root.
    other_root_key = generate_key("ES256")
    other_root = create_root_ca(other_root_key, common_name="Not the registry", now=world.clock.now - timedelta(days=1),
                                valid_for=timedelta(days=30))
    cert = issue_verifier_certificate(ca_key=other_root_key, ca_certificate=other_root, subject_key=stranger_key.public,
                                      dns_name="verifier.test", organization="Sakura Homes", now=world.clock.now,
                                      valid_for=timedelta(days=30))
    impostor = DemoVerifier(replace(landlord.tenant, key=stranger_key, x5c=(certificate_to_x5c(cert),)),
                            landlord.registry_entry)
    foreign = refresh_token(world, consent["id"], verifier=impostor)
    assert_error(await post_refresh(world, foreign), 401, "invalid_client")
    # The bank's certificate does not authenticate the landlord's client_id.
    assert_error(await post_refresh(world, refresh_token(world, consent["id"], verifier=world.bank,
                                                         client_id=landlord.registry_entry.client_id)),
                 401, "invalid_client")
    # A certificate under the registry root, for a client the registry does not list.
    unlisted_key = generate_key("ES256")
    unlisted_cert = issue_verifier_certificate(
        ca_key=world.root_key, ca_certificate=world.root, subject_key=unlisted_key.public, dns_name="unlisted.test",
        organization="Unlisted", now=world.clock.now, valid_for=timedelta(days=30))
    unlisted = DemoVerifier(replace(world.bank.tenant, key=unlisted_key, x5c=(certificate_to_x5c(unlisted_cert),)),
                            world.bank.registry_entry)
    token = refresh_token(world, consent["id"], verifier=unlisted, client_id="x509_san_dns:unlisted.test")
    assert_error(await post_refresh(world, token), 401, "invalid_client")
    assert world.rows("SELECT id FROM wallet_consent_use WHERE kind='refresh'") == []


async def test_unknown_and_another_verifiers_consent_are_unknown(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    assert_error(await post_refresh(world, refresh_token(world, "no-such-consent")), 404, "unknown_consent")
    # The bank is registered, but the consent was given to the landlord.
    response = await post_refresh(world, refresh_token(world, consent["id"], verifier=world.bank))
    assert_error(response, 404, "unknown_consent")
    (refused,) = await _events(world, mai, "refresh_refused")
    assert refused["details"]["refusal"] == "unknown_consent"
    assert refused["details"]["client_id"] == world.bank.registry_entry.client_id
    assert world.rows("SELECT id FROM wallet_consent_use WHERE kind='refresh'") == []


async def test_a_one_time_consent_cannot_be_refreshed(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    link, path = request_link(world, purpose="rental_screening", access_period_days=None)
    stand_in_responses(world, path)
    shown = await show_link(world, mai, link)
    approved = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    consent_id = approved.json()["consent_id"]
    body = assert_error(await post_refresh(world, refresh_token(world, consent_id)), 403, "consent_not_ongoing")
    assert "one presentation" in body["error_description"]
    (refused,) = await _events(world, mai, "refresh_refused")
    assert refused["details"]["refusal"] == "consent_not_ongoing"


async def test_a_reused_nonce_is_refused(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    first = await post_refresh(world, refresh_token(world, consent["id"], nonce="same-nonce"))
    assert first.status_code == 200, first.text
    world.clock.advance(seconds=10)
    assert_error(await post_refresh(world, refresh_token(world, consent["id"], nonce="same-nonce")), 409,
                 "nonce_reused")
    assert len(world.rows("SELECT id FROM wallet_consent_use WHERE kind='refresh'")) == 1
    (refused,) = await _events(world, mai, "refresh_refused")
    assert refused["details"]["refusal"] == "nonce_reused"


async def test_a_revoked_consent_is_refused(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    revoked = await world.wallet.post(f"/consents/{consent['id']}/revoke", headers=mai)
    assert revoked.status_code == 200, revoked.text
    assert_error(await post_refresh(world, refresh_token(world, consent["id"])), 403, "consent_revoked")
    assert world.rows("SELECT id FROM wallet_consent_use WHERE kind='refresh'") == []


async def test_a_consent_past_its_end_is_expired_before_the_sweep_runs(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world, access_period_days=30)
    world.clock.advance(days=30, seconds=1)
    mai = await login(world)
    assert world.rows(f"SELECT status FROM wallet_consent WHERE id='{consent['id']}'") == [{"status": "active"}]
    assert_error(await post_refresh(world, refresh_token(world, consent["id"])), 403, "consent_expired")
    (refused,) = await _events(world, mai, "refresh_refused")
    assert refused["details"]["refusal"] == "consent_expired"


async def test_a_credential_no_longer_held_is_unavailable(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    with world.wallet_app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM wallet_credential_copy WHERE used_at IS NOT NULL"))
    assert_error(await post_refresh(world, refresh_token(world, consent["id"])), 409, "credential_unavailable")
    assert world.rows("SELECT id FROM wallet_consent_use WHERE kind='refresh'") == []


async def test_an_oversized_nonce_is_invalid_not_a_server_error(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    assert_error(await post_refresh(world, refresh_token(world, consent["id"], nonce="n" * 300)), 400,
                 "invalid_request")
