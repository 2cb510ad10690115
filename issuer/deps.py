"""Annotated dependencies of the issuer's routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from tsunagu.encoding import json_loads
from tsunagu.errors import EncodingError
from tsunagu.oid4vci import InvalidCredentialRequest, InvalidNotificationRequest
from tsunagu.service.auth import AdminKeyDep
from tsunagu.service.clock import ClockDep
from tsunagu.service.database import SessionDep

from .services.status_lists import StatusListCache
from .services.tenants import get_tenant
from .services.tokens import AccessContext, authenticate_access_token
from .settings import IssuerSettings, IssuerTenant

__all__ = [
    "SettingsDep",
    "SessionDep",
    "ClockDep",
    "AdminKeyDep",
    "TenantDep",
    "AccessTokenDep",
    "CredentialRequestBodyDep",
    "NotificationRequestBodyDep",
    "StatusListCacheDep",
    "AdminActorDep",
]


def _settings(request: Request) -> IssuerSettings:
    settings: IssuerSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[IssuerSettings, Depends(_settings)]


def _tenant(tenant: str, settings: SettingsDep) -> IssuerTenant:
    return get_tenant(settings, tenant)


TenantDep = Annotated[IssuerTenant, Depends(_tenant)]


def _access_token(request: Request, session: SessionDep, settings: SettingsDep, tenant: TenantDep, now: ClockDep) -> AccessContext:
    # htu is the URL the wallet was told to use (metadata), not what a proxy forwarded to us.
    url = f"{settings.credential_issuer(tenant.id)}/{request.url.path.rsplit('/', 1)[-1]}"
    return authenticate_access_token(
        session,
        settings,
        tenant,
        authorization=request.headers.get("authorization"),
        dpop_headers=request.headers.getlist("dpop"),
        method=request.method,
        url=url,
        now=now,
    )


AccessTokenDep = Annotated[AccessContext, Depends(_access_token)]


async def _json_body(request: Request, error: type[InvalidCredentialRequest] | type[InvalidNotificationRequest]) -> Any:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise error("the request body must be application/json")
    try:
        return json_loads(await request.body())
    except EncodingError as exc:
        raise error(f"the request body is not JSON: {exc.reason}") from None


async def _credential_request_body(request: Request) -> Any:
    return await _json_body(request, InvalidCredentialRequest)


async def _notification_request_body(request: Request) -> Any:
    return await _json_body(request, InvalidNotificationRequest)


#: The raw JSON of a Credential Request: parsed by ``tsunagu.oid4vci`` so its errors are the spec's.
CredentialRequestBodyDep = Annotated[Any, Depends(_credential_request_body)]
NotificationRequestBodyDep = Annotated[Any, Depends(_notification_request_body)]


def _status_list_cache(request: Request) -> StatusListCache:
    cache: StatusListCache = request.app.state.status_list_cache
    return cache


#: This worker's compressed status list segments and last tokens (``services.status_lists``).
StatusListCacheDep = Annotated[StatusListCache, Depends(_status_list_cache)]


def _admin_actor(request: Request) -> str:
    """Who is acting, as the admin client says (``X-Tsunagu-Actor``); all holders of the admin key are one otherwise."""
    actor = request.headers.get("x-tsunagu-actor", "").strip()
    if not actor or len(actor) > 200 or not actor.isprintable():
        return "admin API"
    return f"admin API ({actor})"


AdminActorDep = Annotated[str, Depends(_admin_actor)]
