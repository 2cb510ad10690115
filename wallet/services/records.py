"""The resident's records: consents given and every answer sent to a verifier, newest first."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from tsunagu.service.database import utc

from ..errors import NotFound
from ..tables import (
    WalletConsent,
    WalletConsentEvent,
    WalletConsentUse,
    WalletDeletionAck,
    WalletPresentation,
    WalletPresentationRequest,
)
from .notifying import NotificationState, latest_acks, notification_states

__all__ = ["list_consents", "get_consent", "consent_events", "list_presentations", "get_presentation", "list_requests",
           "ConsentDetails", "consent_details"]


def list_consents(session: Session, resident_id: str) -> list[WalletConsent]:
    return list(session.exec(select(WalletConsent).where(WalletConsent.resident_id == resident_id)
                             .order_by(col(WalletConsent.granted_at).desc(), col(WalletConsent.id))))


def get_consent(session: Session, resident_id: str, consent_id: str) -> WalletConsent:
    """Raises: NotFound."""
    row = session.get(WalletConsent, consent_id)
    if row is None or row.resident_id != resident_id:
        raise NotFound("you have no consent with this id")
    return row


def list_presentations(session: Session, resident_id: str) -> list[WalletPresentation]:
    return list(session.exec(select(WalletPresentation).where(WalletPresentation.resident_id == resident_id)
                             .order_by(col(WalletPresentation.sent_at).desc(), col(WalletPresentation.id))))


def get_presentation(session: Session, resident_id: str, presentation_id: str) -> WalletPresentation:
    """Raises: NotFound."""
    row = session.get(WalletPresentation, presentation_id)
    if row is None or row.resident_id != resident_id:
        raise NotFound("you have no presentation with this id")
    return row


def list_requests(session: Session, resident_id: str) -> list[WalletPresentationRequest]:
    return list(session.exec(select(WalletPresentationRequest)
                             .where(WalletPresentationRequest.resident_id == resident_id)
                             .order_by(col(WalletPresentationRequest.created_at).desc(),
                                       col(WalletPresentationRequest.id))))



def consent_events(session: Session, resident_id: str, consent_ids: list[str]) -> dict[str, list[WalletConsentEvent]]:
    """Each consent's history, oldest first (the grant before a change made in the same instant)."""
    out: dict[str, list[WalletConsentEvent]] = {cid: [] for cid in consent_ids}
    if not consent_ids:
        return out
    rows = session.exec(select(WalletConsentEvent).where(WalletConsentEvent.resident_id == resident_id,
                                                         col(WalletConsentEvent.consent_id).in_(consent_ids)))
    for row in sorted(rows, key=lambda e: (utc(e.at), e.from_status is not None, e.id)):
        out[row.consent_id].append(row)
    return out


@dataclass
class ConsentDetails:
    """What the consent view shows beside the consent row itself."""

    events: list[WalletConsentEvent] = field(default_factory=list)
    refresh_count: int = 0
    notification: NotificationState | None = None
    deletion: WalletDeletionAck | None = None


def consent_details(session: Session, resident_id: str, rows: list[WalletConsent]) -> dict[str, ConsentDetails]:
    """Each consent's history, refreshes, notification to the verifier and latest deletion acknowledgement."""
    ids = [row.id for row in rows]
    events = consent_events(session, resident_id, ids)
    refreshes: dict[str, int] = {}
    if ids:
        counted = session.exec(select(WalletConsentUse.consent_id, func.count()).where(
            col(WalletConsentUse.resident_id) == resident_id, col(WalletConsentUse.consent_id).in_(ids),
            col(WalletConsentUse.kind) == "refresh").group_by(col(WalletConsentUse.consent_id)))
        refreshes = {consent_id: int(count) for consent_id, count in counted}
    notifications = notification_states(session, resident_id, rows)
    acks = latest_acks(session, resident_id, ids)
    return {cid: ConsentDetails(events[cid], refreshes.get(cid, 0), notifications[cid], acks[cid]) for cid in ids}

