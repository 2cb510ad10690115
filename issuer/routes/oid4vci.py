"""The endpoints wallets call (OpenID4VCI 1.0): offer by reference, token, nonce, credential, notification."""

from __future__ import annotations


from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from tsunagu.oid4vci import InvalidRequest, parse_credential_request, parse_notification_request

from ..deps import (
    AccessTokenDep,
    ClockDep,
    CredentialRequestBodyDep,
    NotificationRequestBodyDep,
    SessionDep,
    SettingsDep,
    TenantDep,
)
from ..oauth import TokenContext, token_endpoint_response
from ..schemas import CredentialResponseBody, NonceResponseBody, TokenResponseBody
from ..services import issuance, nonces, notifications, offers
from ..services.dpop_proofs import check_dpop_proof

router = APIRouter(tags=["OpenID4VCI"])

_NO_STORE = {"Cache-Control": "no-store"}
_FORM = "application/x-www-form-urlencoded"


async def _token_form(request: Request) -> dict[str, list[str]]:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != _FORM:
        raise InvalidRequest(f"the token request must be {_FORM}")
    form: dict[str, list[str]] = {}
    async with request.form(max_files=0, max_fields=100) as data:
        for name, value in data.multi_items():
            if isinstance(value, str):
                form.setdefault(name, []).append(value)
    return form


_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            _FORM: {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "pre-authorized_code"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]},
                        "pre-authorized_code": {"type": "string"},
                        "tx_code": {"type": "string"},
                    },
                }
            }
        },
    }
}
_JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


@router.get("/{tenant}/credential-offers/{offer_id}")
def credential_offer(tenant: TenantDep, offer_id: str, session: SessionDep, settings: SettingsDep, now: ClockDep) -> JSONResponse:
    """A Credential Offer by reference (``credential_offer_uri``, §4.1.3), until its code is used or expires."""
    document = offers.offer_document(session, settings, tenant, offer_id, now=now)
    return JSONResponse(document, headers=_NO_STORE)


@router.post("/{tenant}/token", response_model=TokenResponseBody, openapi_extra=_TOKEN_BODY)
def token(
    request: Request,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    now: ClockDep,
    form: dict[str, list[str]] = Depends(_token_form),
) -> JSONResponse:
    """Token Endpoint (§6): a Pre-Authorized Code (and ``tx_code``) for an access token, DPoP-bound with a DPoP proof."""
    issuer = settings.credential_issuer(tenant.id)
    dpop_headers = request.headers.getlist("dpop")
    jkt = None
    if dpop_headers or settings.require_dpop:
        jkt = check_dpop_proof(session, settings, dpop_headers, htm="POST", htu=f"{issuer}/token", now=now).jkt
    context = TokenContext(session=session, settings=settings, tenant=tenant, now=now, dpop_jkt=jkt)
    status, body, headers = token_endpoint_response(context, uri=f"{issuer}/token", form=form, headers=dict(request.headers))
    return JSONResponse(body, status_code=status, headers=headers)


@router.post("/{tenant}/nonce", response_model=NonceResponseBody)
def nonce(tenant: TenantDep, session: SessionDep, settings: SettingsDep, now: ClockDep) -> JSONResponse:
    """Nonce Endpoint (§7): a fresh ``c_nonce`` for key proofs, single use; not cacheable."""
    return JSONResponse(nonces.create_nonce(session, settings, tenant, now=now).to_json(), headers=_NO_STORE)


@router.post("/{tenant}/credential", response_model=CredentialResponseBody, openapi_extra=_JSON_BODY)
def credential(
    tenant: TenantDep,
    access: AccessTokenDep,
    body: CredentialRequestBodyDep,
    session: SessionDep,
    settings: SettingsDep,
    now: ClockDep,
) -> JSONResponse:
    """Credential Endpoint (§8): one SD-JWT VC per key proof in ``proofs.jwt``, each bound to its proof's key."""
    request = parse_credential_request(body, max_proofs=settings.batch_size)
    response = issuance.issue_credentials(session, settings, tenant, access, request, now=now)
    return JSONResponse(response.to_json(), headers=_NO_STORE)


@router.post("/{tenant}/notification", status_code=204, response_class=Response, openapi_extra=_JSON_BODY)
def notification(
    tenant: TenantDep, access: AccessTokenDep, body: NotificationRequestBodyDep, session: SessionDep, now: ClockDep
) -> Response:
    """Notification Endpoint (§11): the wallet reports ``credential_accepted``, ``credential_failure`` or ``credential_deleted``."""
    notifications.record_notification(session, access, parse_notification_request(body), now=now)
    return Response(status_code=204)


