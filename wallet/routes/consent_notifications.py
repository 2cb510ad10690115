"""``POST /consent-notifications``: a verifier says it deleted (or must keep) what it held under a consent.

Sent by the verifier on its own when the consented retention ended (contract 3, docs/consent.md);
the acknowledgements that answer the wallet's revocation events come back as the answer to the
wallet's own POST instead (``notifications.py``). Authenticated by the signed token, not a session.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tsunagu.consent import MEDIA_TYPE_DELETION_ACK

from ..deps import ClockDep, RegistryDep, SessionDep, SettingsDep
from ..schemas import DeletionAckRecorded
from ..services import notifying
from .refresh import signed_body

router = APIRouter(tags=["verifiers"])

_BODY: dict[str, Any] = {"content": {MEDIA_TYPE_DELETION_ACK: {"schema": {"type": "string"}}}, "required": True}


@router.post("/consent-notifications", response_model=DeletionAckRecorded, openapi_extra={"requestBody": _BODY},
             responses={400: {"description": "invalid_request"}, 401: {"description": "invalid_client"},
                        404: {"description": "unknown_consent"}})
async def consent_notification(request: Request, session: SessionDep, settings: SettingsDep,
                               registry: RegistryDep, now: ClockDep) -> JSONResponse:
    """A verifier's deletion acknowledgement (``consent-deletion-ack+jwt``) at the end of the retention period.

    Signed with the verifier's request-signing key and ``x5c`` (checked to the trust registry's root),
    addressed to this wallet, naming a consent the resident gave that verifier. Recorded once per
    ``jti`` (the same token again answers the same) and shown to the resident with her consent.
    """
    token = signed_body(request.headers.get("content-type"), MEDIA_TYPE_DELETION_ACK, await request.body())
    ack, _new = notifying.receive_ack(session, settings, registry, token, now=now)
    answer = DeletionAckRecorded(consent_id=ack.consent_id, outcome=ack.outcome, recorded=True)
    return JSONResponse(answer.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
