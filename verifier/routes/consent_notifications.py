"""The endpoint wallets deliver consent revocation events to (docs/consent.md, the registry's
``consent_notification_uri``): ``POST /{tenant}/consent-notifications``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tsunagu.consent import MEDIA_TYPE_CONSENT_REVOCATION, MEDIA_TYPE_DELETION_ACK

from ..deps import ClockDep, HttpDep, SessionDep, SettingsDep
from ..errors import InvalidConsentNotice
from ..services import tenants as tenant_service
from ..services.consent_notices import receive_revocation

router = APIRouter(tags=["consent"])

_ACK: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA_TYPE_DELETION_ACK: {}},
          "description": "The signed deletion acknowledgement (consent-deletion-ack+jwt)."},
}


@router.post("/{tenant}/consent-notifications", response_class=Response, responses=_ACK)
async def post_consent_notification(tenant: str, request: Request, session: SessionDep, settings: SettingsDep,
                                    http: HttpDep, now: ClockDep) -> Response:
    """A wallet's consent revocation event (`application/consent-revocation+jwt`): the consent was revoked or
    expired. The event is verified with the keys of the wallet that sent the consent receipt, everything
    received under the consent is deleted, and a signed deletion acknowledgement
    (`application/consent-deletion-ack+jwt`, with `event_jti`) is answered. The same event delivered again
    gets the same acknowledgement."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != MEDIA_TYPE_CONSENT_REVOCATION:
        raise InvalidConsentNotice(f"the body must be {MEDIA_TYPE_CONSENT_REVOCATION}, not {media_type or 'missing'}")
    hosted = tenant_service.get_tenant(session, settings, tenant)
    token = (await request.body()).decode("ascii", "replace").strip()
    answer = await receive_revocation(session, settings, hosted, token, http=http, now=now)
    return Response(answer.ack, media_type=MEDIA_TYPE_DELETION_ACK, headers={"Cache-Control": "no-store"})
