"""Annotated dependencies of the wallet's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tsunagu.service.auth import AdminKeyDep
from tsunagu.service.clock import ClockDep
from tsunagu.service.database import SessionDep
from tsunagu.service.http import HttpDep
from tsunagu.service.issuer_documents import IssuerDocuments
from tsunagu.service.registry import RegistryDep

from .services.accounts import Resident, authenticate
from .settings import WalletSettings

__all__ = ["SettingsDep", "SessionDep", "ClockDep", "AdminKeyDep", "HttpDep", "RegistryDep", "ResidentDep",
           "SessionTokenDep", "IssuerDocumentsDep"]


def _settings(request: Request) -> WalletSettings:
    settings: WalletSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[WalletSettings, Depends(_settings)]


def _issuer_documents(request: Request) -> IssuerDocuments:
    documents: IssuerDocuments = request.app.state.issuer_documents
    return documents


#: Issuers' keys and status lists: fetched from registered origins only, verified, cached, shared by all requests.
IssuerDocumentsDep = Annotated[IssuerDocuments, Depends(_issuer_documents)]

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
