"""Helpers for the consent slice 2 tests: an ongoing request signed as the landlord would sign it, and the
verifier's signed messages (refresh requests, deletion acknowledgements) built with the demo verifiers' keys.

The ongoing request is passed by value (``openid4vp://?client_id=...&request=...``) and its ``response_uri``
answered by a stand-in, so these tests do not depend on the verifier service's side of ongoing access.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from tsunagu.consent import (
    MEDIA_TYPE_CONSENT_REFRESH_REQUEST,
    ConsentRefreshRequest,
    DeletionAck,
    build_consent_refresh_request,
    build_deletion_ack,
)
from tsunagu.jwk import parse_jwks
from tsunagu.kb_jwt import KbExpectation
from tsunagu.oid4vp import PurposeStatement, request_object_claims, sign_request_object
from tsunagu.sd_jwt_vc import VerifiedCredential, verify_sd_jwt_vc
from verifier.demo import DemoVerifier
from verifier.templates import VCT_EMPLOYMENT

from .conftest import PASSWORD, VERIFIER, WALLET, World

GUARANTOR_CLAIMS = ["employer_name", "employment_type", "annual_income"]


def answer_with(status: int, body: bytes, content_type: str) -> httpx.Response:
    """A response a transport hands back unread (``exchange_bounded`` streams it)."""
    return httpx.Response(status, headers={"Content-Type": content_type}, stream=httpx.ByteStream(body))


def stand_in_responses(world: World, path: str) -> list[bytes]:
    """Answer direct_post at ``path`` with 200 {} and collect what was posted there."""
    posted: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posted.append(request.content)
        return answer_with(200, b"{}", "application/json")

    world.to_verifier.intercept[path] = answer
    return posted


def request_link(world: World, *, verifier: DemoVerifier | None = None, purpose: str = "guarantor_screening",
                 claims: list[str] | None = None, access_period_days: int | None = 365, retention_days: int = 90,
                 nonce: str | None = None) -> tuple[str, str]:
    """A signed request for (by default) ongoing access, by value: (the link, the response_uri path)."""
    demo = verifier or world.landlord
    request_id = secrets.token_hex(8)
    path = f"/{demo.tenant.slug}/responses/stand-in-{request_id}"
    purpose_statement = PurposeStatement(
        purpose=purpose, text_en="Re-checking employment during the lease", text_ja="契約期間中の在職確認",
        retention_days=retention_days, registry="https://registry.tsunagu.example",
        registration=demo.registry_entry.client_id,
        access_type="ongoing" if access_period_days is not None else "one-time", access_period_days=access_period_days)
    query = {"credentials": [{"id": "employment", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT_EMPLOYMENT]},
                              "claims": [{"path": [name]} for name in (claims or GUARANTOR_CLAIMS)]}]}
    claims_ = request_object_claims(
        client_id=demo.registry_entry.client_id, response_uri=f"{VERIFIER}{path}",
        nonce=nonce or secrets.token_urlsafe(16), state=secrets.token_urlsafe(8), dcql_query=query,
        verifier_info=[purpose_statement.to_verifier_info()], iat=world.clock.now,
        exp=world.clock.now + timedelta(minutes=5))
    token = sign_request_object(claims_, key=demo.tenant.key, x5c=demo.tenant.x5c)
    link = (f"openid4vp://?client_id={quote(demo.registry_entry.client_id, safe='')}"
            f"&request={quote(token, safe='')}")
    return link, path


async def show_link(world: World, resident: dict[str, str], link: str) -> dict[str, Any]:
    response = await world.wallet.post("/presentation-requests", headers=resident, json={"uri": link})
    assert response.status_code == 201, response.text
    shown: dict[str, Any] = response.json()
    return shown


async def mai_with_ongoing_consent(world: World, **request: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """Mai's login, once she holds a credential and has granted Sakura Homes ongoing access to it."""
    mai = await world.resident()
    await world.receive(mai)
    return mai, await grant_ongoing(world, mai, **request)


async def grant_ongoing(world: World, resident: dict[str, str], **request: Any) -> dict[str, Any]:
    """The landlord asks for ongoing access, the resident approves: the consent as she sees it."""
    link, path = request_link(world, **request)
    stand_in_responses(world, path)
    shown = await show_link(world, resident, link)
    response = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=resident, json={})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "sent", response.text
    consent = await world.wallet.get(f"/consents/{response.json()['consent_id']}", headers=resident)
    assert consent.status_code == 200, consent.text
    result: dict[str, Any] = consent.json()
    return result


def refresh_token(world: World, consent_id: str, *, verifier: DemoVerifier | None = None, nonce: str | None = None,
                  aud: str = WALLET, issued_at: datetime | None = None, lifetime: timedelta = timedelta(minutes=5),
                  client_id: str | None = None) -> str:
    demo = verifier or world.landlord
    iat = (issued_at or world.clock.now).replace(microsecond=0)
    return build_consent_refresh_request(
        ConsentRefreshRequest(client_id=client_id or demo.registry_entry.client_id, wallet=aud,
                              consent_id=consent_id, nonce=nonce or secrets.token_urlsafe(16), issued_at=iat,
                              expires_at=iat + lifetime),
        demo.tenant.key, x5c=demo.tenant.x5c)


async def post_refresh(world: World, token: str, *,
                       content_type: str = MEDIA_TYPE_CONSENT_REFRESH_REQUEST) -> httpx.Response:
    return await world.wallet.post("/consent-refresh", content=token, headers={"Content-Type": content_type})


def ack_token(world: World, consent_id: str, *, event_jti: str | None, verifier: DemoVerifier | None = None,
              aud: str = WALLET, outcome: str = "deleted", jti: str | None = None, **extra: Any) -> str:
    demo = verifier or world.landlord
    ack = DeletionAck(consent_id=consent_id, client_id=demo.registry_entry.client_id, wallet=aud,
                      outcome=outcome, issued_at=world.clock.now.replace(microsecond=0),  # type: ignore[arg-type]
                      jti=jti or secrets.token_hex(16), event_jti=event_jti, **extra)
    return build_deletion_ack(ack, demo.tenant.key, x5c=demo.tenant.x5c)


async def verify_presentation(world: World, presentation: str, *, nonce: str, aud: str) -> VerifiedCredential:
    """Verify as a verifier would: the issuer's signature (its published keys) and the KB-JWT."""
    metadata = await world.issuer.get("/.well-known/jwt-vc-issuer/employer")
    assert metadata.status_code == 200, metadata.text
    keys = parse_jwks(metadata.json()["jwks"])

    def issuer_key(header: Any, payload: Any) -> Any:
        return next(k for k in keys if k.kid == header.get("kid")) if header.get("kid") else keys[0]

    return verify_sd_jwt_vc(presentation, issuer_key=issuer_key, kb=KbExpectation(nonce=nonce, aud=aud),
                            now=world.clock.now)


async def login(world: World, username: str = "mai") -> dict[str, str]:
    """A fresh session (after the clock moved past the last one's lifetime)."""
    response = await world.wallet.post("/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
