"""``POST /consent-refresh``: a verifier with an ongoing consent asks for a fresh presentation (server to server).

Not a resident's route: the caller is a verifier, authenticated by the signed ``consent-refresh+jwt``
it sends (``services/refreshing.py``), never by a session.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tsunagu.consent import MEDIA_TYPE_CONSENT_REFRESH_REQUEST

from ..deps import ClockDep, RegistryDep, SessionDep, SettingsDep
from ..errors import InvalidVerifierMessage
from ..schemas import RefreshAnswer
from ..services import refreshing

router = APIRouter(tags=["verifiers"])

#: A refresh request or an acknowledgement is a few hundred bytes plus a certificate chain.
_MAX_TOKEN_BYTES = 64 * 1024

_BODY: dict[str, Any] = {"content": {MEDIA_TYPE_CONSENT_REFRESH_REQUEST: {"schema": {"type": "string"}}},
                         "required": True}


def signed_body(content_type: str | None, expected: str, body: bytes) -> str:
    """The compact JWS a verifier posted as ``expected`` media type.

    Raises:
        InvalidVerifierMessage: another media type, or not ASCII text.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != expected:
        raise InvalidVerifierMessage(f"send the token as {expected}, not {media_type or 'untyped'}")
    if len(body) > _MAX_TOKEN_BYTES:
        raise InvalidVerifierMessage("the token is too large")
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidVerifierMessage("the body is not a compact JWS") from None


@router.post("/consent-refresh", response_model=RefreshAnswer, openapi_extra={"requestBody": _BODY},
             responses={400: {"description": "invalid_request"}, 401: {"description": "invalid_client"},
                        403: {"description": "consent_not_ongoing, consent_revoked or consent_expired"},
                        404: {"description": "unknown_consent"},
                        409: {"description": "nonce_reused or credential_unavailable"}})
async def consent_refresh(request: Request, session: SessionDep, settings: SettingsDep, registry: RegistryDep,
                          now: ClockDep) -> JSONResponse:
    """A verifier's refresh under an ongoing consent: a fresh presentation of exactly the consented claims.

    The body is a ``consent-refresh+jwt`` (``Content-Type: application/consent-refresh+jwt``) signed with
    the verifier's request-signing key and its ``x5c``, addressed to this wallet, with a fresh ``nonce``.
    The answer's ``vp_token`` holds, per consented credential query, one SD-JWT VC presentation whose
    KB-JWT is bound to the verifier's ``client_id`` and that ``nonce``. Refused once the consent is
    revoked or past its end, for a one-time consent, and for a nonce used before.
    """
    token = signed_body(request.headers.get("content-type"), MEDIA_TYPE_CONSENT_REFRESH_REQUEST,
                        await request.body())
    refreshed = refreshing.refresh(session, settings, registry, token, now=now)
    answer = RefreshAnswer(consent_id=refreshed.consent_id, vp_token=refreshed.vp_token)
    return JSONResponse(answer.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
