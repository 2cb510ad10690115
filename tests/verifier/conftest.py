"""A verifier service with a bank and a landlord, a trust registry, and fake issuers it fetches from.

The fake issuers are small ASGI apps reached through ``httpx`` mounts: one employer (registered
for employment certificates) serving its JWT VC Issuer Metadata and a status list, and a host that
is "down" (every connection fails). A test plays the wallet with the core: it fetches and verifies
the request object as a wallet must, builds a presentation and posts it to the ``response_uri``.

``open_world`` builds the same world with more registered issuers, more mounts (a real socket, a
fake issuer of the test's own) and other verifier settings; the ``world`` fixture is its default.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from tsunagu.claims_path import ClaimsPath
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.kb_jwt import KeyBindingRequest
from tsunagu.oid4vp import AuthorizationRequest, build_authorization_response_form, verify_request_object
from tsunagu.sd_jwt.holder import decode_sd_jwt, present_sd_jwt
from tsunagu.sd_jwt_vc import issue_sd_jwt_vc
from tsunagu.status_list import INVALID, MEDIA_TYPE_STATUSLIST_JWT, SUSPENDED, StatusList, issue_status_list_token
from tsunagu.trust import IssuerEntry, LocalizedText, build_trust_registry
from tsunagu.x509 import create_root_ca
from verifier import VerifierSettings, create_app
from verifier.demo import DemoVerifier, build_demo_verifiers
from verifier.templates import VCT_EMPLOYMENT, VCT_RESIDENCE_CARD, VCT_RESIDENT_TAX

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
VERIFIER = "https://verifier.test"
EMPLOYER = "https://issuer.test/employer"
TAX_OFFICE = "https://down.test/tax"
STATUS_URI = "https://issuer.test/employer/status/1"
ADMIN_KEY = "verifier-admin-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
REVOKED_IDX = 7
SUSPENDED_IDX = 9
#: When the fake employer published its status list (the token's iat): "revoked ... on 2026-11-21".
PUBLISHED = NOW - timedelta(days=2)
EMPLOYMENT_CLAIMS = {
    "employee_name": "NGUYEN THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "VN",
    "employer_name": "さくら物流株式会社",
    "employment_type": "regular",
    "employment_start_date": "2021-04-01",
    "job_title": "Logistics Planner",
    "annual_income": 4_800_000,
}


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeIssuer:
    """An issuer's well-known metadata and one status list; a test may change what the list endpoint answers."""

    key: PrivateJwk
    app: FastAPI
    iss: str
    status_uri: str
    status_list: StatusList
    hits: list[str] = field(default_factory=list)
    iat: datetime = PUBLISHED
    exp: datetime | None = NOW + timedelta(days=1)
    ttl: int | None = 3600
    #: When set, the status list endpoint answers with this instead of its own token (a failure, a token
    #: made elsewhere).
    answer: Response | None = None
    #: When set, the status list endpoint answers only once this fires (to hold concurrent checks).
    release: anyio.Event | None = None

    def token(self) -> str:
        return issue_status_list_token(self.status_list, key=self.key, sub=self.status_uri, iat=self.iat,
                                       exp=self.exp, ttl=self.ttl)


def fake_issuer(key: PrivateJwk, iss: str = EMPLOYER, status_uri: str = STATUS_URI) -> FakeIssuer:
    app = FastAPI()
    status_list = StatusList.new(size=1024, bits=2)
    status_list.set(REVOKED_IDX, INVALID)
    status_list.set(SUSPENDED_IDX, SUSPENDED)
    issuer = FakeIssuer(key, app, iss, status_uri, status_list)

    @app.get(f"/.well-known/jwt-vc-issuer{urlsplit(iss).path}")
    def metadata() -> JSONResponse:
        issuer.hits.append("metadata")
        return JSONResponse({"issuer": iss, "jwks": {"keys": [key.public.to_jwk()]}})

    @app.get(urlsplit(status_uri).path)
    async def status() -> Response:
        issuer.hits.append("status")
        if issuer.release is not None:
            await issuer.release.wait()
        if issuer.answer is not None:
            return issuer.answer
        return Response(issuer.token(), media_type=MEDIA_TYPE_STATUSLIST_JWT)

    return issuer


@dataclass
class World:
    client: httpx.AsyncClient
    clock: Clock
    issuer: FakeIssuer
    bank: DemoVerifier
    landlord: DemoVerifier
    root: Any
    holder_key: PrivateJwk = field(default_factory=lambda: generate_key("ES256"))
    #: The verifier app itself, for its scheduled jobs' single runs (``verifier.retention``).
    app: FastAPI | None = None

    async def create(self, tenant: str = "landlord", **body: Any) -> dict[str, Any]:
        body.setdefault("purpose", "rental_screening")
        body.setdefault("retention_days", 90)
        if "dcql_query" not in body:
            body.setdefault("template", "rental_screening_employment_income")
        response = await self.client.post(f"/admin/{tenant}/requests", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        result["tenant"] = tenant
        return result

    async def fetch_request(self, created: dict[str, Any]) -> AuthorizationRequest:
        """What a wallet does with the link: fetch the request object and verify it against the registry root."""
        response = await self.client.get(urlsplit(created["request_uri"]).path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/oauth-authz-req+jwt"
        return verify_request_object(response.text, client_id=created["client_id"], trust_anchor=self.root,
                                     now=self.clock(), response_uri_origins=[VERIFIER]).request

    def credential(self, *, vct: str = VCT_EMPLOYMENT, exp: datetime | None = None, status_idx: int | None = 3,
                   iss: str = EMPLOYER, key: PrivateJwk | None = None, status_uri: str = STATUS_URI) -> str:
        status = {"status_list": {"idx": status_idx, "uri": status_uri}} if status_idx is not None else None
        return issue_sd_jwt_vc(EMPLOYMENT_CLAIMS, vct=vct, key=key or self.issuer.key, issuer=iss,
                               iat=NOW - timedelta(days=30), exp=exp or NOW + timedelta(days=335),
                               holder_key=self.holder_key.public, status=status).compact

    def present(self, credential: str, request: AuthorizationRequest, paths: Iterable[ClaimsPath], *,
                nonce: str | None = None, aud: str | None = None) -> str:
        binding = KeyBindingRequest(holder_key=self.holder_key, aud=aud if aud is not None else request.client_id,
                                    nonce=nonce if nonce is not None else request.nonce, iat=self.clock())
        return present_sd_jwt(decode_sd_jwt(credential), paths, key_binding=binding)

    async def respond(self, request: AuthorizationRequest, vp_token: dict[str, list[str]], *,
                      state: str | None = "<from request>") -> httpx.Response:
        body = build_authorization_response_form(vp_token, state=request.state if state == "<from request>" else state)
        return await self.client.post(urlsplit(request.response_uri).path, content=body,
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})

    async def result(self, created: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.get(f"/admin/{created['tenant']}/requests/{created['request_id']}", headers=ADMIN)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


INCOME_PATHS: list[ClaimsPath] = [("employer_name",), ("employment_type",), ("employment_start_date",), ("job_title",),
                                  ("annual_income",)]


def _down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@asynccontextmanager
async def open_world(tmp_path: Path, database_url: str, *, issuers: Sequence[IssuerEntry] = (),
                     mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
                     **settings: Any) -> AsyncIterator[World]:
    """The verifier with the employer and the down tax office registered, plus ``issuers`` and ``mounts``."""
    root_key, registry_key = generate_key("ES256"), generate_key("ES256", kid="registry")
    root = create_root_ca(root_key, common_name="Tsunagu Registry Root", now=NOW - timedelta(days=1),
                          valid_for=timedelta(days=3650))
    bank, landlord = build_demo_verifiers(ca_key=root_key, ca_certificate=root, public_url=VERIFIER, now=NOW)
    registry = build_trust_registry(
        iss="https://registry.tsunagu.example", root_certificate=root,
        issuers=[IssuerEntry(EMPLOYER, LocalizedText("Sakura Logistics", "さくら物流"), (VCT_EMPLOYMENT,)),
                 IssuerEntry(TAX_OFFICE, LocalizedText("Koto City", "江東区"), (VCT_RESIDENT_TAX,)), *issuers],
        verifiers=[bank.registry_entry, landlord.registry_entry], key=registry_key, iat=NOW - timedelta(hours=1),
        exp=NOW + timedelta(days=30))
    (tmp_path / "registry.jwt").write_text(registry)
    (tmp_path / "registry.jwk").write_text(json.dumps(registry_key.public.to_jwk()))
    verifier_settings = VerifierSettings(
        public_url=VERIFIER, database_url=database_url,
        master_key=base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="), admin_api_key=ADMIN_KEY,
        trust_registry_path=tmp_path / "registry.jwt", trust_registry_jwk_path=tmp_path / "registry.jwk",
        **settings,
    )
    issuer = fake_issuer(generate_key("ES256", kid="employer-2026"))
    outbound = httpx.AsyncClient(mounts={"https://issuer.test": httpx.ASGITransport(issuer.app),
                                         "https://down.test": httpx.MockTransport(_down), **(mounts or {})})
    clock = Clock()
    app = create_app(verifier_settings, http=outbound, clock=clock)
    try:
        async with LifespanManager(app), outbound, httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                                                     base_url=VERIFIER) as client:
            for demo in (bank, landlord):
                spec = demo.tenant
                response = await client.put(f"/admin/tenants/{spec.slug}", headers=ADMIN, json={
                    "name": {"en": spec.name_en, "ja": spec.name_ja},
                    "private_jwk": spec.key.to_jwk(include_private=True),
                    "x5c": list(spec.x5c), "client_id_prefix": spec.prefix})
                assert response.status_code == 200, response.text
            yield World(client, clock, issuer, bank, landlord, root, app=app)
    finally:
        app.state.engine.dispose()  # close pooled connections before the test database is dropped


@pytest.fixture
async def world(tmp_path: Path, database_url: str) -> AsyncIterator[World]:
    async with open_world(tmp_path, database_url) as opened:
        yield opened


def checks_by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in result["result"]["checks"]}


__all__ = ["World", "NOW", "ADMIN", "INCOME_PATHS", "VCT_EMPLOYMENT", "VCT_RESIDENCE_CARD", "VCT_RESIDENT_TAX",
           "TAX_OFFICE", "REVOKED_IDX", "SUSPENDED_IDX", "PUBLISHED", "EMPLOYER", "STATUS_URI", "FakeIssuer",
           "fake_issuer", "open_world", "checks_by_id"]
