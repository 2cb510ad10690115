"""The resident's access log: every event about the resident's data, newest first (issue #5).

Changes in the status of held credentials (revoked, suspended, reinstated, expired), and every
step of a verifier's access: a request received, refused (unknown verifier, outside its registered
purpose), declined, a consent granted, a presentation sent or failed, a consent revoked or expired.
An event is generic: a kind, the verifier and credentials it concerns (both filterable), and
details that name claims by path and never hold a claim value. Each event is written in the
transaction of the change it records.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final

from sqlalchemy import case, or_
from sqlmodel import Session, col, select

from tsunagu.encoding import json_dumps
from tsunagu.service.database import utc

from ..tables import WalletEvent, WalletEventCredential

__all__ = [
    "CREDENTIAL_REVOKED",
    "CREDENTIAL_SUSPENDED",
    "CREDENTIAL_REINSTATED",
    "CREDENTIAL_EXPIRED",
    "CREDENTIAL_STATUS_UNKNOWN",
    "CREDENTIAL_EVENT_KINDS",
    "REQUEST_RECEIVED",
    "REQUEST_REFUSED",
    "REQUEST_REFUSED_OUTSIDE_PURPOSE",
    "REQUEST_DECLINED",
    "CONSENT_GRANTED",
    "PRESENTATION_SENT",
    "PRESENTATION_FAILED",
    "CONSENT_REVOKED",
    "CONSENT_EXPIRED",
    "CONSENT_REFRESHED",
    "REFRESH_REFUSED",
    "NOTIFICATION_DELIVERED",
    "NOTIFICATION_ABANDONED",
    "NOTIFICATION_UNDELIVERABLE",
    "DELETION_ACKNOWLEDGED",
    "EVENT_KINDS",
    "record_event",
    "list_events",
    "linked_credentials",
]

CREDENTIAL_REVOKED: Final = "credential_revoked"
CREDENTIAL_SUSPENDED: Final = "credential_suspended"
CREDENTIAL_REINSTATED: Final = "credential_reinstated"
CREDENTIAL_EXPIRED: Final = "credential_expired"
#: The issuer gives the credential a status value this wallet does not know (Token Status List §7.1: 0x03, 0x0C-0x0F).
CREDENTIAL_STATUS_UNKNOWN: Final = "credential_status_unknown"
CREDENTIAL_EVENT_KINDS: Final = frozenset({CREDENTIAL_REVOKED, CREDENTIAL_SUSPENDED, CREDENTIAL_REINSTATED,
                                           CREDENTIAL_EXPIRED, CREDENTIAL_STATUS_UNKNOWN})
#: A verified request from a registered verifier, now waiting for the resident.
REQUEST_RECEIVED: Final = "request_received"
#: The wallet refused a verifier's request: unknown verifier, or claims/retention outside its registered purpose.
REQUEST_REFUSED: Final = "request_refused"
REQUEST_DECLINED: Final = "request_declined"
#: The resident declined because the request asks for claims outside the verifier's registered purpose;
#: the verifier was told which (``access_denied``).
REQUEST_REFUSED_OUTSIDE_PURPOSE: Final = "request_refused_outside_purpose"
CONSENT_GRANTED: Final = "consent_granted"
PRESENTATION_SENT: Final = "presentation_sent"
PRESENTATION_FAILED: Final = "presentation_failed"
CONSENT_REVOKED: Final = "consent_revoked"
CONSENT_EXPIRED: Final = "consent_expired"
#: A verifier refreshed its presentation under an ongoing consent (server to server, ``routes/refresh.py``).
CONSENT_REFRESHED: Final = "consent_refreshed"
#: A verifier's refresh under one of the resident's consents was refused (ended, one-time, replayed nonce ...).
REFRESH_REFUSED: Final = "refresh_refused"
#: The verifier acknowledged the revocation/expiry event; it gave up being told after the retry period;
#: or it could not be told at all (the trust registry gives it no notification address).
NOTIFICATION_DELIVERED: Final = "notification_delivered"
NOTIFICATION_ABANDONED: Final = "notification_abandoned"
NOTIFICATION_UNDELIVERABLE: Final = "notification_undeliverable"
#: The verifier's signed word on what it did with the data: deleted, or retained on a legal basis.
DELETION_ACKNOWLEDGED: Final = "deletion_acknowledged"
EVENT_KINDS: Final = CREDENTIAL_EVENT_KINDS | frozenset({
    REQUEST_RECEIVED, REQUEST_REFUSED, REQUEST_DECLINED, REQUEST_REFUSED_OUTSIDE_PURPOSE, CONSENT_GRANTED,
    PRESENTATION_SENT, PRESENTATION_FAILED, CONSENT_REVOKED, CONSENT_EXPIRED, CONSENT_REFRESHED, REFRESH_REFUSED,
    NOTIFICATION_DELIVERED, NOTIFICATION_ABANDONED, NOTIFICATION_UNDELIVERABLE, DELETION_ACKNOWLEDGED})

#: The order of the steps of one access, for events recorded in the same instant.
_STEP: Final = {REQUEST_RECEIVED: 1, REQUEST_REFUSED: 2, REQUEST_DECLINED: 2, REQUEST_REFUSED_OUTSIDE_PURPOSE: 2,
                CONSENT_GRANTED: 3, PRESENTATION_SENT: 4, PRESENTATION_FAILED: 4, CONSENT_REFRESHED: 5, REFRESH_REFUSED: 5,
                CONSENT_REVOKED: 6, CONSENT_EXPIRED: 6, NOTIFICATION_UNDELIVERABLE: 7, NOTIFICATION_DELIVERED: 7,
                NOTIFICATION_ABANDONED: 7, DELETION_ACKNOWLEDGED: 8}

#: A history is read a page at a time; the newest first.
MAX_EVENTS = 500


def record_event(session: Session, resident_id: str, kind: str, *, credential_id: str | None = None,
                 credential_ids: Iterable[str] = (), client_id: str | None = None,
                 details: Mapping[str, object], now: datetime) -> WalletEvent:
    """Add an event to the resident's log; the caller commits (with the change it records)."""
    concerned = list(dict.fromkeys([*([credential_id] if credential_id else []), *credential_ids]))
    event = WalletEvent(id=secrets.token_hex(16), resident_id=resident_id, occurred_at=utc(now), kind=kind,
                        credential_id=concerned[0] if concerned else None, client_id=client_id,
                        details=json_dumps(dict(details)))
    session.add(event)
    # The event row first: the link rows reference it (PostgreSQL checks the foreign key at insert).
    session.flush()
    for cid in concerned:
        session.add(WalletEventCredential(event_id=event.id, credential_id=cid, resident_id=resident_id))
    return event


def list_events(session: Session, resident_id: str, *, credential_id: str | None = None,
                client_id: str | None = None, kinds: Iterable[str] = (),
                limit: int | None = MAX_EVENTS) -> list[WalletEvent]:
    """The resident's own events, newest first; only those about ``credential_id`` / verifier ``client_id``."""
    query = select(WalletEvent).where(WalletEvent.resident_id == resident_id)
    if credential_id is not None:
        linked = select(WalletEventCredential.event_id).where(
            WalletEventCredential.resident_id == resident_id, WalletEventCredential.credential_id == credential_id)
        query = query.where(or_(col(WalletEvent.credential_id) == credential_id, col(WalletEvent.id).in_(linked)))
    if client_id is not None:
        query = query.where(WalletEvent.client_id == client_id)
    if kinds := list(kinds):
        query = query.where(col(WalletEvent.kind).in_(kinds))
    # Events of one instant (a request answered the moment it arrived) in the order they happen in.
    step = case(_STEP, value=col(WalletEvent.kind), else_=0)
    query = query.order_by(col(WalletEvent.occurred_at).desc(), step.desc(), col(WalletEvent.id).desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def linked_credentials(session: Session, resident_id: str, event_ids: list[str]) -> dict[str, list[str]]:
    """Event id → every credential it concerns."""
    out: dict[str, list[str]] = {eid: [] for eid in event_ids}
    for start in range(0, len(event_ids), 500):  # bounded IN lists
        chunk = event_ids[start:start + 500]
        for link in session.exec(select(WalletEventCredential).where(
                WalletEventCredential.resident_id == resident_id, col(WalletEventCredential.event_id).in_(chunk))):
            out[link.event_id].append(link.credential_id)
    return out
