"""The demo deployment in one process, with the hooks the negative end-to-end tests need.

``conftest.world`` runs the three apps exactly as ``tsunagu demo`` configures them. The negative
tests need a little more, and get it here without changing that fixture:

* a movable clock per service (``create_app(settings, clock=...)``), so an offer, a session or a
  presentation request can expire without sleeping;
* the wallet's outbound roads to the issuer and to the verifier go through :class:`Wire`, which
  records every request (to replay a ``direct_post`` body, or to prove nothing was sent) and can
  rewrite a request or an answer in transit (a replayed ``c_nonce``, a broken proof);
* the verifier's road to the issuer is recorded too (to prove an untrusted issuer is never asked);
* optionally a re-signed trust registry (:func:`rebuild_trust`): the demo keeps its registry key to
  itself, so a test that needs the root CA's key (to certify a verifier the registry does not list)
  or a registry with other issuer entries gets a fresh root, fresh demo verifiers under it and a
  registry signed the same way, written over the demo's files.

Tests use ``async with open_world(tmp_path, database_urls, ...) as world`` (one world per test).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from asgi_lifespan import LifespanManager
from cryptography import x509
from sqlalchemy import update
from sqlmodel import Session

from issuer.app import create_app as create_issuer
from issuer.settings import DEFAULT_TENANTS
from tsunagu import jose
from tsunagu.cli.demo_deployment import (
    REGISTRY_ID,
    DemoDeployment,
    build_demo_deployment,
)
from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS, Story
from tsunagu.credential_types import credential_type
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.oid4vp import TYP_REQUEST_OBJECT
from tsunagu.trust import IssuerEntry, LocalizedText, build_trust_registry
from tsunagu.x509 import certificate_to_pem, create_root_ca
from verifier.app import create_app as create_verifier
from verifier.demo import build_demo_verifiers
from verifier.tables import VerifierRequest
from wallet.app import create_app as create_wallet

__all__ = [
    "FORM",
    "Clock",
    "Sent",
    "Wire",
    "Pki",
    "IssuersEdit",
    "World",
    "open_world",
    "rebuild_trust",
    "demo_issuer_entries",
    "assert_error",
    "request_object_claims",
    "direct_post",
]

FORM = "application/x-www-form-urlencoded"


@dataclass
class Clock:
    """A service's clock that a test moves; starts at the wall clock, as the demo's keys and registry do."""

    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def form(self) -> dict[str, str]:
        """A form body as ``{name: value}`` (every field of a ``direct_post`` appears once)."""
        return {name: values[0] for name, values in parse_qs(self.body.decode(), keep_blank_values=True).items()}


#: Rewrites a request before it is forwarded (``None``: forward unchanged).
RequestEdit = Callable[[httpx.Request], Awaitable[httpx.Request | None]]
#: Rewrites an answer before the caller sees it (``None``: unchanged).
AnswerEdit = Callable[[httpx.Request, httpx.Response], Awaitable[httpx.Response | None]]


class Wire(httpx.AsyncBaseTransport):
    """An app's transport that records every request and lets a test tamper with requests or answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[Sent] = []
        self.edit_request: RequestEdit | None = None
        self.edit_answer: AnswerEdit | None = None
        #: The service at the other end is down: every request fails to connect (and is not recorded).
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused (the service is down)", request=request)
        if self.edit_request is not None:
            request = await self.edit_request(request) or request
        body = await request.aread()
        self.sent.append(Sent(request.method, str(request.url), dict(request.headers), body))
        response = await self.inner.handle_async_request(request)
        if self.edit_answer is not None:
            edited = await self.edit_answer(request, response)
            if edited is not None:
                await response.aclose()
                return edited
        return response

    def posted(self, fragment: str) -> list[Sent]:
        return [s for s in self.sent if s.method == "POST" and fragment in s.path]


@dataclass(frozen=True)
class Pki:
    """The registry's root CA (its key signs the registry too, as in the demo)."""

    key: PrivateJwk
    root: x509.Certificate


IssuersEdit = Callable[[list[IssuerEntry]], Sequence[IssuerEntry]]


def demo_issuer_entries(deployment: DemoDeployment) -> list[IssuerEntry]:
    """The issuer entries the demo signs into its registry: each tenant for the types it issues."""
    return [
        IssuerEntry(
            id=deployment.issuer_id(tenant.id),
            name=LocalizedText(tenant.name_en, tenant.name_ja),
            vcts=tuple(credential_type(c).vct for c in tenant.credential_configuration_ids),
        )
        for tenant in DEFAULT_TENANTS
    ]


def rebuild_trust(deployment: DemoDeployment, *, now: datetime,
                  issuers: IssuersEdit | None = None) -> tuple[DemoDeployment, Pki]:
    """A fresh root, fresh demo verifiers under it and a re-signed registry, written over the demo's files.

    ``issuers`` changes the demo's issuer entries (drop one, give one other ``vct`` values).
    """
    key = generate_key("ES256", kid="demo-registry")
    root = create_root_ca(key, common_name="Tsunagu Demo Trust Registry Root", now=now, valid_for=timedelta(days=365))
    verifiers = build_demo_verifiers(ca_key=key, ca_certificate=root, public_url=deployment.verifier.public_url,
                                     now=now)
    entries = demo_issuer_entries(deployment)
    registry = build_trust_registry(
        iss=REGISTRY_ID, root_certificate=root, issuers=list(issuers(entries) if issuers else entries),
        verifiers=[v.registry_entry for v in verifiers], key=key, iat=now, exp=now + timedelta(days=365),
    )
    settings = deployment.wallet
    assert settings.trust_registry_path is not None and settings.trust_registry_jwk_path is not None
    Path(settings.trust_registry_path).write_text(registry, encoding="ascii")
    Path(settings.trust_registry_jwk_path).write_text(json.dumps(key.public.to_jwk()), encoding="utf-8")
    root_pem = certificate_to_pem(root)
    (deployment.data_dir / "trust-registry-root.pem").write_text(root_pem, encoding="ascii")
    return dataclasses.replace(deployment, verifiers=verifiers, registry_root_pem=root_pem), Pki(key, root)


@dataclass
class World:
    deployment: DemoDeployment
    issuer: httpx.AsyncClient
    wallet: httpx.AsyncClient
    verifier: httpx.AsyncClient
    clocks: dict[str, Clock]
    #: The wallet's roads to the issuer and to the verifier, and the verifier's to the issuer.
    wallet_to_issuer: Wire
    wallet_to_verifier: Wire
    verifier_to_issuer: Wire
    apps: dict[str, Any]
    pki: Pki | None
    #: The verifier's road to the wallet (receipt keys, refresh requests, deletion acknowledgements).
    verifier_to_wallet: Wire
    #: Stops the running wallet app and starts a new one on the same database (:meth:`restart_wallet`).
    _restart_wallet: Callable[[], Awaitable[None]] | None = None

    async def restart_wallet(self) -> None:
        """The wallet service stops (its process, connections and scheduled jobs end) and starts again."""
        assert self._restart_wallet is not None
        await self._restart_wallet()

    def story(self) -> Story:
        async def pause(seconds: float) -> None:
            self.advance(seconds=seconds)

        return Story(self.deployment, self.issuer, self.wallet, self.verifier, pause=pause)

    def advance(self, **delta: float) -> None:
        """Time passes for everyone (the wallet's DPoP and key proofs must stay fresh at the issuer)."""
        for clock in self.clocks.values():
            clock.advance(**delta)

    def admin(self, service: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.deployment.admin_key(service)}"}

    async def mai_with_employment(self) -> str:
        """The story's set-up: the landlord and the bank hosted, Mai logged in (her token), holding her
        employment certificate."""
        story = self.story()
        await story.set_up()
        token = await story.login()
        await story.issue("employer", "EmploymentCertificate", EMPLOYMENT_CLAIMS, token)
        return token

    async def resident(self, username: str, password: str = "another-resident-2026") -> dict[str, str]:
        """Open a second resident's account and log in: that resident's auth headers."""
        created = await self.wallet.post("/admin/residents", headers=self.admin("wallet"), json={
            "username": username, "password": password, "display_name": username.upper(),
            "preferred_language": "ja"})
        assert created.status_code == 201, created.text
        login = await self.wallet.post("/session", json={"username": username, "password": password})
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def offer(self, tenant: str, configuration: str, claims: dict[str, Any], **extra: Any) -> dict[str, Any]:
        created = await self.issuer.post(f"/admin/{tenant}/offers", headers=self.admin("issuer"), json={
            "credential_configuration_id": configuration, "subject": "NGUYEN THI MAI", "claims": claims, **extra})
        assert created.status_code == 201, created.text
        body: dict[str, Any] = created.json()
        return body

    async def offer_status(self, tenant: str, offer_id: str) -> dict[str, Any]:
        response = await self.issuer.get(f"/admin/{tenant}/offers/{offer_id}", headers=self.admin("issuer"))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ask(self, tenant: str, **body: Any) -> dict[str, Any]:
        created = await self.verifier.post(f"/admin/{tenant}/requests", headers=self.admin("verifier"), json=body)
        assert created.status_code == 201, created.text
        answer: dict[str, Any] = created.json()
        return answer

    async def result(self, tenant: str, request_id: str) -> dict[str, Any]:
        response = await self.verifier.get(f"/admin/{tenant}/requests/{request_id}", headers=self.admin("verifier"))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def set_request_nonce(self, request_id: str, nonce: str) -> None:
        """What a verifier running modified software can do: choose the ``nonce`` of its own request."""
        with Session(self.apps["verifier"].state.engine) as session:
            session.execute(update(VerifierRequest).where(VerifierRequest.id == request_id)  # type: ignore[arg-type]
                            .values(nonce=nonce))
            session.commit()


@asynccontextmanager
async def open_world(tmp_path: Path, database_urls: dict[str, str], *, rebuild: bool = False,
                     issuers: IssuersEdit | None = None) -> AsyncIterator[World]:
    """The demo deployment's three apps in one process, with clocks, wires and (``rebuild``) a known root key."""
    now = datetime.now(timezone.utc)
    deployment = build_demo_deployment(tmp_path / "demo", now=now, database_urls=database_urls)
    pki = None
    if rebuild or issuers is not None:
        deployment, pki = rebuild_trust(deployment, now=now, issuers=issuers)
    clocks = {name: Clock(now) for name in ("issuer", "wallet", "verifier")}
    issuer_app = create_issuer(deployment.issuer, clock=clocks["issuer"])
    verifier_to_issuer = Wire(httpx.ASGITransport(issuer_app))
    # The verifier fetches the wallet's JWK Set to check consent receipts; the wallet app is made
    # after the verifier's (it needs the verifier's transport), so this wire reaches it late.
    late: dict[str, Any] = {}

    async def wallet_asgi(scope: Any, receive: Any, send: Any) -> None:
        await late["wallet"](scope, receive, send)

    verifier_to_wallet = Wire(httpx.ASGITransport(wallet_asgi))
    verifier_http = httpx.AsyncClient(mounts={deployment.issuer.public_url: verifier_to_issuer,
                                              deployment.wallet.public_url: verifier_to_wallet})
    verifier_app = create_verifier(deployment.verifier, http=verifier_http, clock=clocks["verifier"])
    wallet_to_issuer = Wire(httpx.ASGITransport(issuer_app))
    wallet_to_verifier = Wire(httpx.ASGITransport(verifier_app))
    wallet_http = httpx.AsyncClient(mounts={deployment.issuer.public_url: wallet_to_issuer,
                                            deployment.verifier.public_url: wallet_to_verifier})
    wallet_app = create_wallet(deployment.wallet, http=wallet_http, clock=clocks["wallet"])
    late["wallet"] = wallet_app
    apps = {"issuer": issuer_app, "wallet": wallet_app, "verifier": verifier_app}
    try:
        async with (verifier_http, wallet_http, LifespanManager(issuer_app), LifespanManager(verifier_app),
                    AsyncExitStack() as wallet_life):
            await wallet_life.enter_async_context(LifespanManager(wallet_app))
            clients = {
                name: httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=getattr(deployment, name).public_url)
                for name, app in apps.items()
            }
            async with clients["issuer"], clients["verifier"], AsyncExitStack() as wallet_client:
                await wallet_client.enter_async_context(clients["wallet"])
                world = World(deployment, clients["issuer"], clients["wallet"], clients["verifier"], clocks,
                              wallet_to_issuer, wallet_to_verifier, verifier_to_issuer, apps, pki, verifier_to_wallet)

                async def restart_wallet() -> None:
                    nonlocal wallet_life, wallet_client
                    await wallet_client.aclose()
                    await wallet_life.aclose()
                    apps["wallet"].state.engine.dispose()
                    restarted = create_wallet(deployment.wallet, http=wallet_http, clock=clocks["wallet"])
                    apps["wallet"] = late["wallet"] = restarted
                    wallet_life, wallet_client = AsyncExitStack(), AsyncExitStack()
                    await wallet_life.enter_async_context(LifespanManager(restarted))
                    world.wallet = await wallet_client.enter_async_context(httpx.AsyncClient(
                        transport=httpx.ASGITransport(restarted), base_url=deployment.wallet.public_url))

                world._restart_wallet = restart_wallet
                try:
                    yield world
                finally:
                    await wallet_client.aclose()
                    await wallet_life.aclose()
    finally:
        for app in apps.values():
            app.state.engine.dispose()  # close pooled connections before the test databases are dropped


def assert_error(response: httpx.Response, status: int, error: str) -> str:
    """The refusal a person sees: this status, this ``error``, a description, not cached. The description."""
    body = response.json()
    assert (response.status_code, body.get("error")) == (status, error), response.text
    description = body.get("error_description")
    assert isinstance(description, str) and description, response.text
    assert response.headers.get("cache-control") == "no-store", response.headers
    return description


def request_object_claims(token: str) -> dict[str, Any]:
    """The payload of a signed Request Object, as anyone who fetches the public ``request_uri`` can read it."""
    return dict(jose.parse_compact(token, typ=TYP_REQUEST_OBJECT).payload)


def direct_post(vp_token: str, state: str) -> str:
    return urlencode({"vp_token": vp_token, "state": state})
