"""Annotated dependencies of the verifier's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tsunagu.service.auth import AdminKeyDep
from tsunagu.service.clock import ClockDep
from tsunagu.service.database import SessionDep
from tsunagu.service.http import HttpDep
from tsunagu.service.registry import RegistryDep

from .settings import VerifierSettings

__all__ = ["SettingsDep", "SessionDep", "ClockDep", "AdminKeyDep", "HttpDep", "RegistryDep"]


def _settings(request: Request) -> VerifierSettings:
    settings: VerifierSettings = request.app.state.settings
    return settings




SettingsDep = Annotated[VerifierSettings, Depends(_settings)]
