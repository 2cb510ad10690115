"""The resident's history: what happened to their credentials and data, newest first.

For now the wallet records changes in the status of held credentials (revoked, suspended,
reinstated, expired). The history is the place the resident's full access log grows into
(issue #5), so an event is generic: a kind, the credential it concerns (if any), and details
that never hold a claim value.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from sqlmodel import Session, col, select

from tsunagu.encoding import json_dumps
from tsunagu.service.database import utc

from ..tables import WalletEvent

__all__ = [
    "CREDENTIAL_REVOKED",
    "CREDENTIAL_SUSPENDED",
    "CREDENTIAL_REINSTATED",
    "CREDENTIAL_EXPIRED",
    "CREDENTIAL_STATUS_UNKNOWN",
    "EVENT_KINDS",
    "record_event",
    "list_events",
]

CREDENTIAL_REVOKED: Final = "credential_revoked"
CREDENTIAL_SUSPENDED: Final = "credential_suspended"
CREDENTIAL_REINSTATED: Final = "credential_reinstated"
CREDENTIAL_EXPIRED: Final = "credential_expired"
#: The issuer gives the credential a status value this wallet does not know (Token Status List §7.1: 0x03, 0x0C-0x0F).
CREDENTIAL_STATUS_UNKNOWN: Final = "credential_status_unknown"
EVENT_KINDS: Final = frozenset({CREDENTIAL_REVOKED, CREDENTIAL_SUSPENDED, CREDENTIAL_REINSTATED, CREDENTIAL_EXPIRED,
                                CREDENTIAL_STATUS_UNKNOWN})

#: A history is read a page at a time; the newest first.
MAX_EVENTS = 500


def record_event(session: Session, resident_id: str, kind: str, *, credential_id: str | None,
                 details: Mapping[str, object], now: datetime) -> WalletEvent:
    """Add an event to the resident's history; the caller commits (with the change it records)."""
    event = WalletEvent(id=secrets.token_hex(16), resident_id=resident_id, occurred_at=utc(now), kind=kind,
                        credential_id=credential_id, details=json_dumps(dict(details)))
    session.add(event)
    return event


def list_events(session: Session, resident_id: str, *, credential_id: str | None = None,
                limit: int = MAX_EVENTS) -> list[WalletEvent]:
    """The resident's own events, newest first; only those about ``credential_id`` when given."""
    query = select(WalletEvent).where(WalletEvent.resident_id == resident_id)
    if credential_id is not None:
        query = query.where(WalletEvent.credential_id == credential_id)
    query = query.order_by(col(WalletEvent.occurred_at).desc(), col(WalletEvent.id).desc()).limit(limit)
    return list(session.exec(query))
