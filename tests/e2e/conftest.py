"""The three services in one test process, configured exactly as ``tsunagu demo`` configures them.

Each app's outbound client routes to the others' ASGI apps (httpx mounts), so every call between
services is a real HTTP exchange over the standards, without sockets. Databases come from the
``database_urls`` fixture: SQLite always, PostgreSQL when it runs (always in CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from issuer.app import create_app as create_issuer
from tsunagu.cli.demo_deployment import DemoDeployment, build_demo_deployment
from tsunagu.cli.demo_story import Story
from verifier.app import create_app as create_verifier
from wallet.app import create_app as create_wallet


@dataclass
class World:
    deployment: DemoDeployment
    issuer: httpx.AsyncClient
    wallet: httpx.AsyncClient
    verifier: httpx.AsyncClient

    def story(self) -> Story:
        return Story(self.deployment, self.issuer, self.wallet, self.verifier)


@pytest.fixture
async def world(tmp_path: Path, database_urls: dict[str, str]) -> AsyncIterator[World]:
    deployment = build_demo_deployment(
        tmp_path / "demo", now=datetime.now(timezone.utc), database_urls=database_urls
    )
    issuer = create_issuer(deployment.issuer)
    to_issuer = {deployment.issuer.public_url: httpx.ASGITransport(issuer)}
    async with httpx.AsyncClient(mounts=to_issuer) as verifier_http:
        verifier = create_verifier(deployment.verifier, http=verifier_http)
        to_verifier = {deployment.verifier.public_url: httpx.ASGITransport(verifier)}
        async with httpx.AsyncClient(mounts={**to_issuer, **to_verifier}) as wallet_http:
            wallet = create_wallet(deployment.wallet, http=wallet_http)
            async with LifespanManager(issuer), LifespanManager(verifier), LifespanManager(wallet):
                clients = [
                    httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=settings.public_url)
                    for app, settings in (
                        (issuer, deployment.issuer),
                        (wallet, deployment.wallet),
                        (verifier, deployment.verifier),
                    )
                ]
                async with clients[0], clients[1], clients[2]:
                    yield World(deployment, *clients)
