"""An issuer service with the three demo tenants, and a wallet played with ``tsunagu.oid4vci``.

The app runs in-process (``httpx.ASGITransport``) at ``https://issuer.test``; time comes from a
clock the test can move. ``Wallet`` walks the pre-authorized flow step by step so each test can
break exactly one step.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from issuer.app import create_app
from issuer.settings import IssuerSettings
from tsunagu import oid4vci
from tsunagu.dpop import build_dpop_proof
from tsunagu.jwk import PrivateJwk, generate_key

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
BASE = "https://issuer.test"
EMPLOYER = f"{BASE}/employer"
ADMIN_KEY = "issuer-admin-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
MASTER_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")

EMPLOYMENT_CLAIMS: dict[str, Any] = {
    "employee_name": "NGUYEN THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "Viet Nam",
    "employer_name": "Sakura Systems K.K.",
    "employer_corporate_number": "1234567890123",
    "employment_type": "regular",
    "job_title": "Logistics Planner",
    "department": "Planning",
    "employment_start_date": "2021-04-01",
    "annual_income": 4_800_000,
    "social_insurance_enrolled": True,
    "as_of_date": "2026-11-20",
}


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


def make_settings(database_url: str, **overrides: Any) -> IssuerSettings:
    return IssuerSettings(
        public_url=BASE,
        database_url=database_url,
        master_key=MASTER_KEY,
        admin_api_key=ADMIN_KEY,
        **overrides,
    )


@dataclass
class Issuer:
    client: httpx.AsyncClient
    clock: Clock
    settings: IssuerSettings
    app: FastAPI

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.state.engine
        return engine

    async def offer(self, tenant: str = "employer", *, tx_code: bool = False, claims: dict[str, Any] | None = None,
                    configuration: str = "EmploymentCertificate", expires_in: int | None = None,
                    subject: str = "employee 4711") -> dict[str, Any]:
        body: dict[str, Any] = {
            "credential_configuration_id": configuration,
            "subject": subject,
            "claims": EMPLOYMENT_CLAIMS if claims is None else claims,
            "tx_code": tx_code,
        }
        if expires_in is not None:
            body["expires_in"] = expires_in
        response = await self.client.post(f"/admin/{tenant}/offers", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@dataclass
class Wallet:
    """A wallet that follows OpenID4VCI 1.0 with the core's client-side functions."""

    issuer: Issuer
    dpop_key: PrivateJwk | None = None
    access_token: str | None = None
    token_type: str | None = None
    holder_keys: list[PrivateJwk] = field(default_factory=list)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.issuer.client

    @property
    def now(self) -> datetime:
        return self.issuer.clock.now

    def dpop(self, method: str, url: str, *, access_token: str | None = None) -> dict[str, str]:
        if self.dpop_key is None:
            return {}
        proof = build_dpop_proof(self.dpop_key, htm=method, htu=url, iat=self.now, jti=secrets.token_urlsafe(12),
                                 access_token=access_token)
        return {"DPoP": proof}

    async def token(self, pre_authorized_code: str, *, tx_code: str | None = None, tenant: str = "employer",
                    extra: dict[str, str] | None = None) -> httpx.Response:
        url = f"{BASE}/{tenant}/token"
        form = {**oid4vci.build_token_request(pre_authorized_code, tx_code=tx_code), **(extra or {})}
        response = await self.client.post(url, data=form, headers=self.dpop("POST", url))
        if response.status_code == 200:
            parsed = oid4vci.parse_token_response(response.json())
            self.access_token, self.token_type = parsed.access_token, parsed.token_type
        return response

    async def redeem(self, offer: dict[str, Any], *, tx_code: str | None = None) -> None:
        code = offer["credential_offer"]["grants"][oid4vci.PRE_AUTHORIZED_CODE_GRANT]["pre-authorized_code"]
        tenant = offer["credential_offer"]["credential_issuer"].rsplit("/", 1)[-1]
        response = await self.token(code, tx_code=tx_code, tenant=tenant)
        assert response.status_code == 200, response.text

    async def nonce(self, tenant: str = "employer") -> str:
        response = await self.client.post(f"{BASE}/{tenant}/nonce")
        assert response.status_code == 200, response.text
        return oid4vci.parse_nonce_response(response.json()).c_nonce

    def proof(self, nonce: str | None, *, audience: str = EMPLOYER, key: PrivateJwk | None = None) -> str:
        key = key or generate_key("ES256")
        self.holder_keys.append(key)
        return oid4vci.build_proof_jwt(key, audience=audience, nonce=nonce, iat=self.now)

    def auth_headers(self, url: str, *, access_token: str | None = None) -> dict[str, str]:
        token = access_token or self.access_token
        assert token is not None
        scheme = "DPoP" if self.token_type == "DPoP" else "Bearer"
        return {"Authorization": f"{scheme} {token}", **self.dpop("POST", url, access_token=token)}

    async def credential(self, body: Any, *, tenant: str = "employer", headers: dict[str, str] | None = None) -> httpx.Response:
        url = f"{BASE}/{tenant}/credential"
        return await self.client.post(url, json=body, headers=headers if headers is not None else self.auth_headers(url))

    async def notify(self, body: Any, *, tenant: str = "employer") -> httpx.Response:
        url = f"{BASE}/{tenant}/notification"
        return await self.client.post(url, json=body, headers=self.auth_headers(url))


async def issue(issuer: Issuer, count: int = 1, *, subject: str = "employee 4711") -> list[str]:
    """``count`` employment credentials for one resident, through the whole OpenID4VCI flow (one batch request)."""
    wallet = Wallet(issuer)
    await wallet.redeem(await issuer.offer(subject=subject))
    nonce = await wallet.nonce()
    body = oid4vci.build_credential_request(credential_configuration_id="EmploymentCertificate",
                                            proofs=[wallet.proof(nonce) for _ in range(count)])
    response = await wallet.credential(body)
    assert response.status_code == 200, response.text
    return [c for c in oid4vci.parse_credential_response(response.json()).credentials if isinstance(c, str)]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/issuer.db"


async def running(settings: IssuerSettings, clock: Clock) -> AsyncIterator[Issuer]:
    app = create_app(settings, clock=clock)
    try:
        async with LifespanManager(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as client:
                yield Issuer(client, clock, settings, app)
    finally:
        app.state.engine.dispose()  # close pooled connections before the test database is dropped


@pytest.fixture
async def issuer(sqlite_url: str) -> AsyncIterator[Issuer]:
    """The issuer on SQLite, for tests of what the endpoints refuse."""
    async for running_issuer in running(make_settings(sqlite_url), Clock()):
        yield running_issuer


@pytest.fixture
async def issuer_any_db(database_url: str) -> AsyncIterator[Issuer]:
    """The issuer on SQLite and on PostgreSQL, for the flows whose state must hold in either."""
    async for running_issuer in running(make_settings(database_url), Clock()):
        yield running_issuer


@pytest.fixture
def wallet(issuer: Issuer) -> Iterator[Wallet]:
    yield Wallet(issuer)


def assert_error(response: httpx.Response, status: int, error: str) -> str:
    """The spec's error JSON, with its status, never cached (RFC 6749 §5.2, OpenID4VCI §8.3.1). The description."""
    assert (response.status_code, response.json().get("error")) == (status, error), response.text
    description = response.json().get("error_description")
    assert isinstance(description, str) and description
    # OpenID4VCI §8.3.1.2 / RFC 6749 §5.2: printable ASCII without '"' and '\\'.
    assert all(0x20 <= ord(ch) <= 0x7E and ch not in '"\\' for ch in description), description
    assert response.headers["cache-control"] == "no-store"
    return description
