"""The wallet against the real issuer and verifier services, all three in one process.

The issuer runs at ``https://issuer.test``, the verifier at ``https://verifier.test`` and the wallet
at ``https://wallet.test``, each an ASGI app reached through ``httpx`` mounts (STYLE.md §5). One
trust registry (signed in the test) lists the issuer's tenants and the verifier's bank and landlord;
one clock drives all three. Tests act as an admin (create residents, offers, requests) and as
residents, through each service's public API only.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from issuer.app import create_app as create_issuer
from issuer.settings import IssuerSettings
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.trust import IssuerEntry, LocalizedText, build_trust_registry
from tsunagu.x509 import create_root_ca
from verifier import VerifierSettings
from verifier import create_app as create_verifier
from verifier.demo import DemoVerifier, build_demo_verifiers
from verifier.templates import VCT_EMPLOYMENT, VCT_RESIDENCE_CARD, VCT_RESIDENT_TAX
from wallet import WalletSettings, create_app

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ISSUER = "https://issuer.test"
VERIFIER = "https://verifier.test"
WALLET = "https://wallet.test"
EMPLOYER = f"{ISSUER}/employer"
TAX_OFFICE = f"{ISSUER}/tax-office"
ADMIN_KEYS = {"issuer": "issuer-admin", "verifier": "verifier-admin", "wallet": "wallet-admin"}
PASSWORD = "correct horse battery staple"

EMPLOYMENT_CLAIMS: dict[str, Any] = {
    "employee_name": "NGUYEN THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "Viet Nam",
    "employer_name": "Sakura Systems K.K., Tokyo Branch",
    "employment_type": "regular",
    "job_title": "Logistics Planner",
    "employment_start_date": "2021-04-01",
    "annual_income": 4_800_000,
    "as_of_date": "2026-11-20",
}
TAX_CLAIMS: dict[str, Any] = {
    "taxpayer_name": "NGUYEN THI MAI",
    "fiscal_year": 2026,
    "income_year": 2025,
    "municipality": "Shibuya City",
    "total_income": 4_650_000,
    "resident_tax_amount": 312_000,
    "no_arrears": True,
}
#: What rental screening asks of an employment certificate (verifier template).
RENTAL_CLAIMS = ["employer_name", "employment_type", "employment_start_date", "job_title", "annual_income"]


def admin(service: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEYS[service]}"}


def master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def wallet_settings(database_url: str, tmp_path: Path | None = None, **overrides: Any) -> WalletSettings:
    registry: dict[str, Any] = {}
    if tmp_path is not None and (tmp_path / "registry.jwt").exists():
        registry = {"trust_registry_path": tmp_path / "registry.jwt",
                    "trust_registry_jwk_path": tmp_path / "registry.jwk"}
    values: dict[str, Any] = {
        "public_url": WALLET, "database_url": database_url, "master_key": master_key(),
        "admin_api_key": ADMIN_KEYS["wallet"],
        # A cheap argon2id for tests; the default is RFC 9106's 64 MiB.
        "argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1,
        # Tests deliver consent notifications themselves (notifications.deliver_once), on the test clock.
        "notification_retry_seconds": 0,
        **registry, **overrides,
    }
    return WalletSettings(**values)


async def new_resident(client: httpx.AsyncClient, username: str, *, language: str = "en") -> dict[str, str]:
    """Create a resident through the admin API, log in, and return the resident's auth headers."""
    created = await client.post("/admin/residents", headers=admin("wallet"), json={
        "username": username, "password": PASSWORD, "display_name": username.title(), "preferred_language": language})
    assert created.status_code == 201, created.text
    login = await client.post("/session", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


class Recording(httpx.AsyncBaseTransport):
    """Forwards to an app and records what the wallet sent it; can play "unreachable" for direct_post."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, bytes]] = []
        self.refuse_responses = False
        #: Path → a stand-in answering instead of the app (a fake verifier endpoint in a test).
        self.intercept: dict[str, Callable[[httpx.Request], httpx.Response]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.sent.append((request.method, request.url.path, body))
        if self.refuse_responses and "/responses/" in request.url.path:
            raise httpx.ConnectError("connection refused", request=request)
        stand_in = self.intercept.get(request.url.path)
        if stand_in is not None:
            return stand_in(request)
        return await self.inner.handle_async_request(request)

    def posted(self) -> list[bytes]:
        """Bodies posted to a response_uri (presentations and declines)."""
        return [body for method, path, body in self.sent if method == "POST" and "/responses/" in path]


def _down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@dataclass
class World:
    wallet: httpx.AsyncClient
    issuer: httpx.AsyncClient
    verifier: httpx.AsyncClient
    clock: Clock
    bank: DemoVerifier
    landlord: DemoVerifier
    root_key: PrivateJwk
    root: Any
    to_verifier: Recording
    tmp_path: Path
    issuer_app: Any
    wallet_app: Any

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """Rows of the wallet's own database, as an attacker with a copy of it would see them."""
        with self.wallet_app.state.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql))]

    async def resident(self, username: str = "mai") -> dict[str, str]:
        return await new_resident(self.wallet, username)

    async def offer(self, tenant: str = "employer", *, configuration: str = "EmploymentCertificate",
                    claims: dict[str, Any] | None = None, tx_code: bool = False) -> dict[str, Any]:
        response = await self.issuer.post(f"/admin/{tenant}/offers", headers=admin("issuer"), json={
            "credential_configuration_id": configuration, "subject": "resident 4711",
            "claims": EMPLOYMENT_CLAIMS if claims is None else claims, "tx_code": tx_code})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def receive(self, resident: dict[str, str], tenant: str = "employer", **offer: Any) -> dict[str, Any]:
        """An issuer offers a credential and the resident's wallet accepts it: the stored credential."""
        created = await self.offer(tenant, **offer)
        response = await self.wallet.post("/offers", headers=resident, json={
            "offer_uri": created["offer_uri"], "tx_code": created["tx_code"]})
        assert response.status_code == 201, response.text
        (credential,) = response.json()
        result: dict[str, Any] = credential
        return result

    async def ask(self, tenant: str = "landlord", **body: Any) -> dict[str, Any]:
        """The verifier creates a presentation request (rental screening by default)."""
        body.setdefault("purpose", "rental_screening")
        body.setdefault("retention_days", 90)
        if "dcql_query" not in body:
            body.setdefault("template", "rental_screening_employment_income")
        response = await self.verifier.post(f"/admin/{tenant}/requests", headers=admin("verifier"), json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        created["tenant"] = tenant
        return created

    async def show(self, resident: dict[str, str], created: dict[str, Any]) -> dict[str, Any]:
        """The resident's wallet receives the request link: what the resident is shown."""
        response = await self.wallet.post("/presentation-requests", headers=resident,
                                          json={"uri": created["authorization_request_uri"]})
        assert response.status_code == 201, response.text
        shown: dict[str, Any] = response.json()
        return shown

    async def result(self, created: dict[str, Any]) -> dict[str, Any]:
        response = await self.verifier.get(f"/admin/{created['tenant']}/requests/{created['request_id']}",
                                           headers=admin("verifier"))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def write_registry(tmp_path: Path, *, root_key: PrivateJwk, root: Any, verifiers: list[DemoVerifier]) -> None:
    registry_key = generate_key("ES256", kid="registry")
    token = build_trust_registry(
        iss="https://registry.tsunagu.example", root_certificate=root,
        issuers=[IssuerEntry(EMPLOYER, LocalizedText("Sakura Systems (registered)", "さくらシステムズ（登録）"),
                             (VCT_EMPLOYMENT,)),
                 IssuerEntry(TAX_OFFICE, LocalizedText("Shibuya City", "渋谷区"), (VCT_RESIDENT_TAX,)),
                 IssuerEntry(f"{ISSUER}/immigration", LocalizedText("ISA", "出入国在留管理庁"), (VCT_RESIDENCE_CARD,))],
        verifiers=[v.registry_entry for v in verifiers], key=registry_key, iat=NOW - timedelta(hours=1),
        exp=NOW + timedelta(days=30))
    (tmp_path / "registry.jwt").write_text(token)
    (tmp_path / "registry.jwk").write_text(json.dumps(registry_key.public.to_jwk()))


@asynccontextmanager
async def another_wallet(world: World, *, issuer_transport: httpx.AsyncBaseTransport | None = None,
                         clock: Clock | None = None, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second wallet (own SQLite database) beside the world's, with other settings, another road to the
    issuer, or its own clock."""
    outbound = httpx.AsyncClient(mounts={ISSUER: issuer_transport or httpx.ASGITransport(world.issuer_app),
                                         VERIFIER: world.to_verifier})
    app = create_app(wallet_settings(f"sqlite:///{world.tmp_path}/wallet-2.db", world.tmp_path, **overrides),
                     http=outbound, clock=clock or world.clock)
    try:
        async with LifespanManager(app), outbound, httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                                                     base_url=WALLET) as client:
            yield client
    finally:
        app.state.engine.dispose()


@pytest.fixture
async def world(tmp_path: Path, database_urls: dict[str, str]) -> AsyncIterator[World]:
    clock = Clock()
    root_key = generate_key("ES256")
    root = create_root_ca(root_key, common_name="Tsunagu Registry Root", now=NOW - timedelta(days=1),
                          valid_for=timedelta(days=3650))
    bank, landlord = build_demo_verifiers(ca_key=root_key, ca_certificate=root, public_url=VERIFIER, now=NOW)
    write_registry(tmp_path, root_key=root_key, root=root, verifiers=[bank, landlord])

    issuer_app = create_issuer(IssuerSettings(public_url=ISSUER, database_url=database_urls["issuer"],
                                              master_key=master_key(), admin_api_key=ADMIN_KEYS["issuer"]),
                               clock=clock)
    to_issuer = {ISSUER: httpx.ASGITransport(issuer_app)}
    # The verifier fetches the wallet's JWK Set to check consent receipts; the wallet app is made below.
    to_wallet = Recording(httpx.MockTransport(_down))
    verifier_out = httpx.AsyncClient(mounts={**to_issuer, WALLET: to_wallet})
    verifier_app = create_verifier(VerifierSettings(
        public_url=VERIFIER, database_url=database_urls["verifier"], master_key=master_key(),
        admin_api_key=ADMIN_KEYS["verifier"], trust_registry_path=tmp_path / "registry.jwt",
        trust_registry_jwk_path=tmp_path / "registry.jwk"), http=verifier_out, clock=clock)
    to_verifier = Recording(httpx.ASGITransport(verifier_app))
    wallet_out = httpx.AsyncClient(mounts={**to_issuer, VERIFIER: to_verifier,
                                           "https://down.test": httpx.MockTransport(_down)})
    wallet_app = create_app(wallet_settings(database_urls["wallet"], tmp_path), http=wallet_out, clock=clock)
    to_wallet.inner = httpx.ASGITransport(wallet_app)
    apps = (issuer_app, verifier_app, wallet_app)
    try:
        async with (LifespanManager(issuer_app), LifespanManager(verifier_app), LifespanManager(wallet_app),
                    verifier_out, wallet_out,
                    httpx.AsyncClient(transport=httpx.ASGITransport(wallet_app), base_url=WALLET) as wallet,
                    httpx.AsyncClient(transport=httpx.ASGITransport(issuer_app), base_url=ISSUER) as issuer,
                    httpx.AsyncClient(transport=httpx.ASGITransport(verifier_app), base_url=VERIFIER) as verifier):
            for demo in (bank, landlord):
                spec = demo.tenant
                response = await verifier.put(f"/admin/tenants/{spec.slug}", headers=admin("verifier"), json={
                    "name": {"en": spec.name_en, "ja": spec.name_ja},
                    "private_jwk": spec.key.to_jwk(include_private=True),
                    "x5c": list(spec.x5c), "client_id_prefix": spec.prefix})
                assert response.status_code == 200, response.text
            yield World(wallet, issuer, verifier, clock, bank, landlord, root_key, root, to_verifier, tmp_path,
                        issuer_app, wallet_app)
    finally:
        for app in apps:
            app.state.engine.dispose()  # close pooled connections before the test databases are dropped


@dataclass
class Alone:
    client: httpx.AsyncClient
    clock: Clock
    app: Any


@pytest.fixture
async def wallet_only(database_url: str) -> AsyncIterator[Alone]:
    """The wallet alone (no registry, no other services): accounts, sessions and the login lock."""
    clock = Clock()
    app = create_app(wallet_settings(database_url, login_max_failures=3, login_lock_seconds=600), clock=clock)
    try:
        async with LifespanManager(app), httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                                           base_url=WALLET) as client:
            yield Alone(client, clock, app)
    finally:
        app.state.engine.dispose()


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert (response.status_code, body.get("error")) == (status, error), response.text
    assert isinstance(body.get("error_description"), str) and body["error_description"]
    assert response.headers["cache-control"] == "no-store"
    return body
