"""The endpoints wallets call (OpenID4VP 1.0): the ``request_uri`` (§5.10) and the ``response_uri`` (§8.2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tsunagu.oid4vp import MEDIA_TYPE_REQUEST_OBJECT, InvalidRequest, parse_request_uri_post

from ..deps import ClockDep, HttpDep, IssuerDocumentsDep, RegistryDep, SessionDep, SettingsDep
from ..services import requests as request_service
from ..services import tenants as tenant_service
from ..services.responses import receive_response

router = APIRouter(tags=["OpenID4VP"])

_REQUEST_OBJECT: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA_TYPE_REQUEST_OBJECT: {}}, "description": "The signed Request Object."},
}
_FORM = "application/x-www-form-urlencoded"


def _object_response(token: str) -> Response:
    return Response(token, media_type=MEDIA_TYPE_REQUEST_OBJECT, headers={"Cache-Control": "no-store"})


@router.get("/{tenant}/requests/{request_id}/object", response_class=Response, responses=_REQUEST_OBJECT)
def get_request_object(tenant: str, request_id: str, session: SessionDep, settings: SettingsDep,
                       registry: RegistryDep, now: ClockDep) -> Response:
    """The ``request_uri``: the signed Request Object (``typ`` ``oauth-authz-req+jwt``)."""
    hosted = tenant_service.get_tenant(session, settings, tenant)
    return _object_response(request_service.request_object(session, settings, hosted, request_id,
                                                           registry=registry, now=now))


@router.post("/{tenant}/requests/{request_id}/object", response_class=Response, responses=_REQUEST_OBJECT)
async def post_request_object(tenant: str, request_id: str, request: Request, session: SessionDep,
                              settings: SettingsDep, registry: RegistryDep, now: ClockDep) -> Response:
    """``request_uri_method=post`` (§5.10): the wallet may send ``wallet_nonce`` and ``wallet_metadata``."""
    _require_form(request)
    posted = parse_request_uri_post(await request.body())
    hosted = tenant_service.get_tenant(session, settings, tenant)
    return _object_response(request_service.request_object(session, settings, hosted, request_id, registry=registry,
                                                           now=now, wallet_nonce=posted.wallet_nonce))


@router.post("/{tenant}/responses/{request_id}")
async def post_response(tenant: str, request_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                        documents: IssuerDocumentsDep, registry: RegistryDep, http: HttpDep,
                        now: ClockDep) -> dict[str, Any]:
    """The ``response_uri`` of Response Mode ``direct_post``: ``vp_token`` and ``state``, or an error response.

    A Tsunagu wallet adds ``consent_receipt``, the resident's signed consent (docs/consent.md); other
    wallets don't, and the presentation is decided the same way (unless ``require_consent_receipt``).
    """
    _require_form(request)
    return await receive_response(session, settings, documents, registry, tenant, request_id, await request.body(),
                                  http=http, now=now)


def _require_form(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != _FORM:
        raise InvalidRequest(f"the body must be {_FORM}, not {media_type or 'missing'}")
