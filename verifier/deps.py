"""Annotated dependencies of the verifier's routes."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from tsunagu.service.auth import AdminKeyDep
from tsunagu.service.clock import ClockDep
from tsunagu.service.database import SessionDep
from tsunagu.trust import TrustRegistry

from .settings import VerifierSettings

__all__ = ["SettingsDep", "SessionDep", "ClockDep", "AdminKeyDep", "HttpDep", "RegistryDep"]


def _settings(request: Request) -> VerifierSettings:
    settings: VerifierSettings = request.app.state.settings
    return settings


def _http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http
    return client


def _registry(request: Request) -> TrustRegistry | None:
    registry: TrustRegistry | None = request.app.state.registry
    return registry


SettingsDep = Annotated[VerifierSettings, Depends(_settings)]
HttpDep = Annotated[httpx.AsyncClient, Depends(_http)]
RegistryDep = Annotated[TrustRegistry | None, Depends(_registry)]
