"""The three well-known documents of each tenant (OpenID4VCI §12.2, §12.3; SD-JWT VC §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from tsunagu.credential_types import credential_type
from tsunagu.oid4vci import (
    PRE_AUTHORIZED_CODE_GRANT,
    AuthorizationServerMetadata,
    CredentialIssuerMetadata,
    Display,
)

from ..settings import IssuerSettings, IssuerTenant
from .keys import published_jwks

__all__ = ["credential_issuer_metadata", "authorization_server_metadata", "jwt_vc_issuer_metadata"]


def credential_issuer_metadata(settings: IssuerSettings, tenant: IssuerTenant) -> dict[str, Any]:
    """§12.2.4; the tenant is its own authorization server, so ``authorization_servers`` is omitted."""
    issuer = settings.credential_issuer(tenant.id)
    return CredentialIssuerMetadata(
        credential_issuer=issuer,
        credential_endpoint=f"{issuer}/credential",
        nonce_endpoint=f"{issuer}/nonce",
        notification_endpoint=f"{issuer}/notification",
        batch_size=settings.batch_size if settings.batch_size >= 2 else None,
        display=(Display(tenant.name_en, "en"), Display(tenant.name_ja, "ja")),
        credential_configurations={
            config_id: credential_type(config_id).to_configuration(
                credential_signing_algs=("ES256",), proof_signing_algs=settings.proof_signing_algs
            )
            for config_id in tenant.credential_configuration_ids
        },
    ).to_json()


def authorization_server_metadata(settings: IssuerSettings, tenant: IssuerTenant) -> dict[str, Any]:
    """RFC 8414 §2 with §12.3's ``pre-authorized_grant_anonymous_access_supported`` and RFC 9449 §5.1."""
    issuer = settings.credential_issuer(tenant.id)
    return AuthorizationServerMetadata(
        issuer=issuer,
        token_endpoint=f"{issuer}/token",
        grant_types_supported=(PRE_AUTHORIZED_CODE_GRANT,),
        pre_authorized_grant_anonymous_access_supported=True,
        dpop_signing_alg_values_supported=settings.dpop_signing_algs,
        token_endpoint_auth_methods_supported=("none",),
    ).to_json()


def jwt_vc_issuer_metadata(session: Session, settings: IssuerSettings, tenant: IssuerTenant, *, now: datetime) -> dict[str, Any]:
    """SD-JWT VC §5: ``issuer`` (the ``iss`` of the tenant's credentials) and its keys, inline.

    After a rotation the older keys stay listed until everything they signed has expired.
    """
    return {"issuer": settings.credential_issuer(tenant.id), "jwks": published_jwks(session, settings, tenant.id, now=now)}
