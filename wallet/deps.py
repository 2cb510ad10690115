"""Annotated dependencies of the wallet's routes."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tsunagu.service.auth import AdminKeyDep
from tsunagu.service.clock import ClockDep
from tsunagu.service.database import SessionDep
from tsunagu.trust import TrustRegistry

from .services.accounts import Resident, authenticate
from .settings import WalletSettings

__all__ = ["SettingsDep", "SessionDep", "ClockDep", "AdminKeyDep", "HttpDep", "RegistryDep", "ResidentDep",
           "SessionTokenDep"]


def _settings(request: Request) -> WalletSettings:
    settings: WalletSettings = request.app.state.settings
    return settings


def _http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http
    return client


def _registry(request: Request) -> TrustRegistry | None:
    registry: TrustRegistry | None = request.app.state.registry
    return registry


SettingsDep = Annotated[WalletSettings, Depends(_settings)]
HttpDep = Annotated[httpx.AsyncClient, Depends(_http)]
RegistryDep = Annotated[TrustRegistry | None, Depends(_registry)]

# Declared so /docs offers an "Authorize" button; the check itself is authenticate()'s.
_bearer = HTTPBearer(auto_error=False, scheme_name="ResidentSession",
                     description="The access_token from POST /session.")


def _session_token(request: Request, session: SessionDep, now: ClockDep,
                   _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> tuple[Resident, str]:
    return authenticate(session, request.headers.get("authorization"), now=now)


SessionTokenDep = Annotated[tuple[Resident, str], Depends(_session_token)]


def _resident(token: SessionTokenDep) -> Resident:
    return token[0]


#: The logged-in resident: every route that takes it acts for exactly this resident.
ResidentDep = Annotated[Resident, Depends(_resident)]
