"""Annotated dependencies of the verifier's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tsunagu.service.auth import AdminKeyDep
from tsunagu.service.clock import ClockDep
from tsunagu.service.database import SessionDep
from tsunagu.service.http import HttpDep
from tsunagu.service.issuer_documents import IssuerDocuments
from tsunagu.service.registry import RegistryDep

from .settings import VerifierSettings

__all__ = ["SettingsDep", "SessionDep", "ClockDep", "AdminKeyDep", "HttpDep", "RegistryDep", "IssuerDocumentsDep"]


def _settings(request: Request) -> VerifierSettings:
    settings: VerifierSettings = request.app.state.settings
    return settings


def _issuer_documents(request: Request) -> IssuerDocuments:
    documents: IssuerDocuments = request.app.state.issuer_documents
    return documents


SettingsDep = Annotated[VerifierSettings, Depends(_settings)]
#: The process-wide cache of issuers' keys and status lists (``app.state.issuer_documents``).
IssuerDocumentsDep = Annotated[IssuerDocuments, Depends(_issuer_documents)]
