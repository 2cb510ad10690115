"""A fake Tsunagu wallet for the verifier's consent tests: its JWK Set, its refresh endpoint (answering
real presentations bound to the refresh nonce) and its notification endpoint (recording deletion acks);
and helpers that give the landlord a consent (one-time or ongoing) with a real presentation and receipt."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tsunagu.claims_path import ClaimsPath
from tsunagu.consent import (
    ConsentedClaims,
    ConsentReceipt,
    ConsentRefreshRequest,
    ConsentRevocation,
    build_consent_receipt,
    build_consent_revocation,
    pairwise_subject,
    verify_consent_refresh_request,
)
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.kb_jwt import KeyBindingRequest
from tsunagu.oid4vp import AuthorizationRequest
from tsunagu.sd_jwt.holder import decode_sd_jwt, present_sd_jwt
from tsunagu.trust import LocalizedText

from .conftest import ADMIN, NOW, VCT_EMPLOYMENT, World, open_world

WALLET = "https://wallet.test"
OTHER_WALLET = "https://other-wallet.test"
GUARANTOR_PATHS: list[ClaimsPath] = [("employer_name",), ("employment_type",), ("annual_income",)]


@dataclass
class FakeWallet:
    url: str
    key: PrivateJwk = field(default_factory=lambda: generate_key("ES256", kid="wallet-2026"))
    world: World | None = None
    #: Refresh requests received and verified.
    refreshes: list[ConsentRefreshRequest] = field(default_factory=list)
    #: When set, the refresh endpoint answers this instead.
    refresh_answer: Response | None = None
    #: When set, the presentation's KB-JWT carries this nonce instead of the request's.
    refresh_nonce: str | None = None
    #: Deletion acks received at the notification endpoint (body, content type).
    acks: list[tuple[str, str]] = field(default_factory=list)
    #: When set, every connection to the wallet is refused.
    down: bool = False

    def transport(self) -> httpx.AsyncBaseTransport:
        return _Switchable(self, httpx.ASGITransport(self.app()))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/jwks.json")
        def jwks() -> Response:
            return JSONResponse({"keys": [self.key.public.to_jwk()]})

        @app.post("/consent-refresh")
        async def refresh(request: Request) -> Response:
            if self.refresh_answer is not None:
                return self.refresh_answer
            world = self.world
            assert world is not None
            assert request.headers["content-type"] == "application/consent-refresh+jwt"
            asked = verify_consent_refresh_request((await request.body()).decode(), trust_anchor=world.root,
                                                   expected_aud=self.url, now=world.clock())
            self.refreshes.append(asked)
            binding = KeyBindingRequest(holder_key=world.holder_key, aud=asked.client_id,
                                        nonce=self.refresh_nonce or asked.nonce, iat=world.clock())
            presentation = present_sd_jwt(decode_sd_jwt(world.credential()), GUARANTOR_PATHS, key_binding=binding)
            return JSONResponse({"consent_id": asked.consent_id, "vp_token": {"employment": [presentation]}},
                                headers={"Cache-Control": "no-store"})

        @app.post("/consent-notifications")
        async def notifications(request: Request) -> Response:
            body = (await request.body()).decode()
            self.acks.append((body, request.headers.get("content-type", "")))
            return JSONResponse({"consent_id": "?", "outcome": "deleted", "recorded": True})

        return app

    def revocation(self, consent_id: str, client_id: str, *, event: str = "revoked", jti: str = "evt-1",
                   iss: str | None = None, key: PrivateJwk | None = None, issued_at: datetime | None = None) -> str:
        return build_consent_revocation(ConsentRevocation(
            consent_id=consent_id, wallet=iss or self.url, client_id=client_id, event=event,  # type: ignore[arg-type]
            issued_at=issued_at or NOW, jti=jti), key or self.key)


class _Switchable(httpx.AsyncBaseTransport):
    def __init__(self, wallet: FakeWallet, inner: httpx.AsyncBaseTransport) -> None:
        self.wallet, self.inner = wallet, inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.wallet.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


@dataclass
class Setup:
    world: World
    wallet: FakeWallet
    other: FakeWallet

    @property
    def app(self) -> FastAPI:
        assert self.world.app is not None
        return self.world.app


@asynccontextmanager
async def open_setup(tmp_path: Path, database_url: str, **settings: Any) -> AsyncIterator[Setup]:
    wallet, other = FakeWallet(WALLET), FakeWallet(OTHER_WALLET)
    mounts = {WALLET: wallet.transport(), OTHER_WALLET: other.transport()}
    async with open_world(tmp_path, database_url, mounts=mounts, **settings) as world:
        wallet.world = other.world = world
        yield Setup(world, wallet, other)


def receipt_for(request: AuthorizationRequest, *, ongoing: bool, **changes: Any) -> ConsentReceipt:
    paths = GUARANTOR_PATHS if ongoing else [("employer_name",), ("employment_type",), ("employment_start_date",),
                                             ("job_title",), ("annual_income",)]
    receipt = ConsentReceipt(
        consent_id="cns_ongoing" if ongoing else "cns_once", wallet=WALLET,
        subject=pairwise_subject(b"w" * 32, "mai", request.client_id), verifier_client_id=request.client_id,
        verifier_name=LocalizedText("Sakura Homes", "さくら不動産"),
        purpose="guarantor_screening" if ongoing else "rental_screening",
        purpose_text=LocalizedText("Screening", "審査"),
        claims=(ConsentedClaims("employment", VCT_EMPLOYMENT, tuple(paths)),),
        granted_at=NOW, expires_at=NOW + timedelta(days=730 if ongoing else 1), retention_days=90,
        access_type="ongoing" if ongoing else "one-time", notification_uri=f"{WALLET}/consent-notifications",
        refresh_uri=f"{WALLET}/consent-refresh" if ongoing else None,
    )
    return replace(receipt, **changes)


async def grant(setup: Setup, *, ongoing: bool, **changes: Any) -> dict[str, Any]:
    """The landlord asks, the resident approves with a receipt; the request's status body."""
    world = setup.world
    if ongoing:
        created = await world.create(purpose="guarantor_screening", template="guarantor_screening_employment",
                                     access_type="ongoing", access_period_days=730)
    else:
        created = await world.create()
    request = await world.fetch_request(created)
    receipt = receipt_for(request, ongoing=ongoing, **changes)
    paths = list(receipt.claims[0].paths)
    presentation = world.present(world.credential(), request, paths)
    form = {"vp_token": json.dumps({"employment": [presentation]}), "state": request.state or "",
            "consent_receipt": build_consent_receipt(receipt, setup.wallet.key)}
    response = await world.client.post(urlsplit(request.response_uri).path, content=urlencode(form),
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    return await world.result(created)


async def consent_view(world: World, consent_id: str) -> dict[str, Any]:
    response = await world.client.get(f"/admin/landlord/consents/{consent_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def request_view(world: World, request_id: str) -> dict[str, Any]:
    return await world.result({"tenant": "landlord", "request_id": request_id})
