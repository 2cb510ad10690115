"""The well-known documents, one set per tenant, found by path insertion (OpenID4VCI §12.2.2, RFC 8414 §3.1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import ClockDep, SessionDep, SettingsDep, TenantDep
from ..services import metadata

router = APIRouter(tags=["metadata"])


@router.get("/.well-known/openid-credential-issuer/{tenant}")
def credential_issuer_metadata(tenant: TenantDep, settings: SettingsDep) -> dict[str, Any]:
    """Credential Issuer Metadata (OpenID4VCI 1.0 §12.2) of the tenant, with claim names in English and Japanese."""
    return metadata.credential_issuer_metadata(settings, tenant)


@router.get("/.well-known/oauth-authorization-server/{tenant}")
def authorization_server_metadata(tenant: TenantDep, settings: SettingsDep) -> dict[str, Any]:
    """OAuth 2.0 Authorization Server Metadata (RFC 8414): Pre-Authorized Code grant, anonymous access, DPoP."""
    return metadata.authorization_server_metadata(settings, tenant)


@router.get("/.well-known/jwt-vc-issuer/{tenant}")
def jwt_vc_issuer_metadata(tenant: TenantDep, settings: SettingsDep, session: SessionDep, now: ClockDep) -> dict[str, Any]:
    """JWT VC Issuer Metadata (SD-JWT VC §5): the keys that sign the tenant's credentials and status lists.

    After a key rotation, older keys stay listed until the last credential they signed has expired.
    """
    return metadata.jwt_vc_issuer_metadata(session, settings, tenant, now=now)
