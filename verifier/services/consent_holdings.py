"""What this verifier holds under a consent, and what it knows of the consent's state (the admin view)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, select

from tsunagu.service.database import utc

from ..tables import VerifierConsentNotice, VerifierConsentReceipt, VerifierOutbox, VerifierRequest
from .consent_notices import notices_of
from .refreshes import consent_receipts_of

__all__ = ["ConsentHoldings", "consent_holdings"]


@dataclass(frozen=True, slots=True)
class ConsentHoldings:
    consent_id: str
    tenant: str
    status: Literal["active", "revoked", "expired"]
    receipt: VerifierConsentReceipt
    requests: tuple[VerifierRequest, ...]
    notices: tuple[VerifierConsentNotice, ...]
    acks: tuple[VerifierOutbox, ...]


def consent_holdings(session: Session, tenant: str, consent_id: str, *, now: datetime) -> ConsentHoldings:
    """Raises: UnknownConsent."""
    receipts = consent_receipts_of(session, tenant, consent_id)
    requests = list(session.exec(select(VerifierRequest).where(
        col(VerifierRequest.id).in_([r.request_id for r in receipts])).order_by(col(VerifierRequest.created_at))))
    notices = notices_of(session, tenant, consent_id)
    acks = list(session.exec(select(VerifierOutbox).where(
        VerifierOutbox.tenant == tenant, VerifierOutbox.consent_id == consent_id)
        .order_by(col(VerifierOutbox.created_at))))
    first = receipts[0]
    status: Literal["active", "revoked", "expired"] = "active"
    if any(n.event == "revoked" for n in notices):
        status = "revoked"
    elif notices or now >= utc(first.expires_at):
        status = "expired"
    return ConsentHoldings(consent_id, tenant, status, first, tuple(requests), tuple(notices), tuple(acks))
