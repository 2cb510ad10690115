"""Taking a consent back, and the signed consent receipts (issue #5, docs/consent.md).

Registered before ``routes/records.py``: ``/consents/receipts`` must not be read as a consent id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Request
from fastapi.responses import JSONResponse, Response

from tsunagu.jose import parse_compact
from tsunagu.consent import TYP_CONSENT_RECEIPT

from ..deps import ClockDep, RegistryDep, ResidentDep, SessionDep, SettingsDep
from ..errors import NotFound
from ..schemas import ConsentView, ReceiptView
from ..notifications import deliver_soon
from ..services import consents, notifying, records
from ..services.receipts import receipt_jwks
from ..tables import WalletConsent
from .records import one_consent_view

router = APIRouter(tags=["consents"])

_JWT = "application/jwt"


@router.get("/.well-known/jwks.json", tags=["receipts"])
def jwks(session: SessionDep, settings: SettingsDep, now: ClockDep) -> JSONResponse:
    """The wallet's public keys: verify a consent receipt (``typ`` consent-receipt+jwt) with them."""
    return JSONResponse(receipt_jwks(session, settings, now=now), media_type="application/jwk-set+json",
                        headers={"Cache-Control": "public, max-age=3600"})


@router.post("/consents/{consent_id}/revoke", response_model=ConsentView)
def revoke(consent_id: str, resident: ResidentDep, session: SessionDep, settings: SettingsDep, registry: RegistryDep,
           now: ClockDep, request: Request, background: BackgroundTasks) -> ConsentView:
    """Take a consent back. When this answers, the revocation is committed: nothing more is presented under it.

    Revoking a revoked consent answers the same again; an expired one cannot be revoked (409). A consent
    that was used is followed by a signed revocation event to the verifier, asking it to delete what it
    holds: tried at once, then retried until it acknowledges (``notification`` in the answer and in
    ``GET /consents/{id}``).
    """
    row = consents.revoke(session, settings, registry, resident.id, consent_id, now=now)
    pending = notifying.pending_ids(session, row.id)
    if pending:
        # After the answer: a reachable verifier hears at once; a failure is one failed attempt, retried later.
        background.add_task(deliver_soon, request.app, pending)
    return one_consent_view(session, resident.id, row, registry)


def _receipt(row: WalletConsent) -> ReceiptView:
    if row.receipt is None:
        raise NotFound("this consent has no receipt (it was granted without a registered purpose)")
    parsed = parse_compact(row.receipt, typ=TYP_CONSENT_RECEIPT)
    return ReceiptView(consent_id=row.id, receipt=row.receipt, header=dict(parsed.header),
                       claims=dict(parsed.payload))


@router.get("/consents/receipts", response_model=list[ReceiptView])
def list_receipts(resident: ResidentDep, session: SessionDep) -> JSONResponse:
    """Every receipt of yours, newest first, as one JSON file to download."""
    receipts = [_receipt(row).model_dump(mode="json")
                for row in records.list_consents(session, resident.id) if row.receipt is not None]
    return JSONResponse(receipts, headers={"Content-Disposition": 'attachment; filename="consent-receipts.json"',
                                           "Cache-Control": "no-store"})


@router.get("/consents/{consent_id}/receipt", response_model=ReceiptView,
            responses={200: {"content": {_JWT: {}}}})
def get_receipt(consent_id: str, resident: ResidentDep, session: SessionDep,
                accept: Annotated[str | None, Header()] = None) -> Any:
    """The signed receipt: the JWT itself with ``Accept: application/jwt``, else the JWT and its decoded claims."""
    view = _receipt(consents.own_consent(session, resident.id, consent_id))
    if accept is not None and _JWT in accept.lower():
        return Response(view.receipt, media_type=_JWT, headers={"Cache-Control": "no-store"})
    return view
