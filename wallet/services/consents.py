"""A consent's lifecycle in the wallet: granted, used, fulfilled, revoked, expired (issue #5).

Every status change is one conditional UPDATE on the status just read (``WHERE status = :read``),
checked with ``tsunagu.consent.transition`` first, and written with its ``wallet_consent_event``
and the resident's log entry in the same transaction, so two workers cannot both act and no change
goes unrecorded.

A presentation under a consent goes through :func:`use_consent`: one UPDATE that succeeds only
while the consent is active and unexpired, in the transaction that then sends. Revocation is the
UPDATE active → revoked. On PostgreSQL the two take the same row lock: a use that ran first holds
it until its transaction ends (the revoke waits, then revokes), and a use that comes after the
revoke committed re-reads ``status`` and matches no row. On SQLite writers are serialised by the
database lock. Either way, once :func:`revoke` has returned, no use can succeed.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Final

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from tsunagu import consent as core
from tsunagu.encoding import json_loads
from tsunagu.service.database import utc

from tsunagu.trust import TrustRegistry

from ..errors import ConsentNotRevocable, NotFound
from ..settings import WalletSettings
from ..tables import WalletConsent, WalletConsentEvent, WalletConsentUse
from . import history, notifying
from .receipts import receipt_key

__all__ = [
    "RESIDENT",
    "SYSTEM",
    "own_consent",
    "record_grant",
    "change_status",
    "use_consent",
    "revoke",
    "sweep_expired",
    "consent_history",
    "log_details",
]

RESIDENT: Final = "resident"
SYSTEM: Final = "system"
ACTIVE: Final = "active"
FULFILLED: Final = "fulfilled"
REVOKED: Final = "revoked"
EXPIRED: Final = "expired"


def _status(row: WalletConsent) -> core.ConsentStatus:
    status = row.status
    if status not in core.CONSENT_STATUSES:
        raise core.ConsentTransitionRefused(f"a stored consent has an unknown status {status!r}", status=status)
    return status  # checked just above


def own_consent(session: Session, resident_id: str, consent_id: str) -> WalletConsent:
    """Raises: NotFound (no such consent of this resident: another resident's is not found either)."""
    row = session.get(WalletConsent, consent_id)
    if row is None or row.resident_id != resident_id:
        raise NotFound("you have no consent with this id")
    return row


def log_details(row: WalletConsent, **extra: object) -> dict[str, object]:
    """What the log records of a consent: who, why, which claims (paths only), which credentials."""
    return {
        "consent_id": row.id, "request_id": row.request_id, "client_id": row.client_id,
        "verifier_name": {"en": row.verifier_name_en, "ja": row.verifier_name_ja},
        "purpose": row.purpose, "purpose_text": {"en": row.purpose_text_en, "ja": row.purpose_text_ja},
        "retention_days": row.retention_days, "claims": json_loads(row.claims),
        "credentials": json_loads(row.credentials),
        **({"purpose_override": True, "beyond_purpose": json_loads(row.beyond_purpose)}
           if row.beyond_purpose is not None else {}),
        **extra,
    }


def record_grant(session: Session, row: WalletConsent, *, now: datetime) -> None:
    """The consent's first history entry and the log's ``consent_granted``; the caller adds ``row`` and commits."""
    session.add(WalletConsentEvent(id=secrets.token_hex(16), consent_id=row.id, resident_id=row.resident_id,
                                   from_status=None, to_status=row.status, at=utc(now), by=RESIDENT,
                                   note="granted by the resident" if row.beyond_purpose is None else
                                   "granted by the resident, overriding the verifier's registered purpose"))
    history.record_event(session, row.resident_id, history.CONSENT_GRANTED, credential_ids=row.credential_ids(),
                         client_id=row.client_id, details=log_details(row), now=now)


def change_status(session: Session, row: WalletConsent, target: core.ConsentStatus, *, by: str, note: str | None,
                  now: datetime, log_kind: str | None = None) -> bool:
    """``row.status`` → ``target`` if the row still has the status read; the caller commits.

    False when another worker changed it first (nothing written). ``row`` is updated on success.

    Raises:
        tsunagu.consent's transition error: ``target`` cannot follow ``row.status``.
    """
    read = _status(row)
    core.transition(read, target)
    changed = session.execute(
        update(WalletConsent).where(col(WalletConsent.id) == row.id, col(WalletConsent.status) == read)
        .values(status=target, status_changed_at=utc(now)).execution_options(synchronize_session=False))
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(WalletConsentEvent(id=secrets.token_hex(16), consent_id=row.id, resident_id=row.resident_id,
                                   from_status=read, to_status=target, at=utc(now), by=by, note=note))
    if log_kind is not None:
        history.record_event(session, row.resident_id, log_kind, credential_ids=row.credential_ids(),
                             client_id=row.client_id, details=log_details(row, previous_status=read, by=by), now=now)
    # The ORM copy is stale after a bulk UPDATE: set what it changed, so the caller reads the new status.
    row.status, row.status_changed_at = target, utc(now)
    return True


def use_consent(session: Session, consent_id: str, *, now: datetime, kind: str = "presentation",
                nonce: str | None = None, ongoing_only: bool = False) -> bool:
    """Record a use of the consent if, and only if, it is active and unexpired now; the caller commits.

    The check and the use are one UPDATE (``WHERE status = 'active'``), so a revoke committed before it
    makes it match nothing, and a revoke that comes after waits for (PostgreSQL row lock) or is
    serialised behind (SQLite) the transaction that holds it. False: nothing may be presented.
    ``ongoing_only``: match only an ongoing consent (a refresh). ``nonce`` (a refresh's) is recorded
    with the use; one used before for this consent makes the insert fail.

    Raises:
        sqlalchemy.exc.IntegrityError: ``nonce`` was already used for this consent (the caller rolls back).
    """
    conditions = [col(WalletConsent.id) == consent_id, col(WalletConsent.status) == ACTIVE,
                  or_(col(WalletConsent.expires_at).is_(None), col(WalletConsent.expires_at) > utc(now))]
    if ongoing_only:
        conditions.append(col(WalletConsent.access_type) == "ongoing")
    used = session.execute(
        update(WalletConsent)
        .where(*conditions)
        .values(use_count=col(WalletConsent.use_count) + 1)
        # Not evaluated against loaded objects in Python (SQLite gives naive times back): the database decides.
        .execution_options(synchronize_session=False))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return False
    row = session.get(WalletConsent, consent_id)
    assert row is not None
    session.add(WalletConsentUse(id=secrets.token_hex(16), consent_id=consent_id, resident_id=row.resident_id,
                                 used_at=utc(now), kind=kind, nonce=nonce))
    session.flush()  # a replayed nonce fails here, before anything is built
    return True


def revoke(session: Session, settings: WalletSettings, registry: TrustRegistry | None, resident_id: str,
           consent_id: str, *, now: datetime) -> WalletConsent:
    """The resident takes the consent back; committed when this returns. Revoking twice is not an error.

    A consent used at least once leaves a revocation event for its verifier in ``wallet_outbox``,
    committed with the change (``services/notifying.py``), so the verifier is asked to delete even if
    the wallet stops right after.

    Raises:
        NotFound, ConsentNotRevocable (expired: nothing left to revoke).
    """
    row = own_consent(session, resident_id, consent_id)
    if row.status != REVOKED:
        receipt_key(session, settings, now=now)  # made (and committed) now if missing, not inside the change
    for _ in range(3):  # another worker may change the status between our read and our UPDATE
        if row.status == REVOKED:
            return row
        try:
            core.transition(_status(row), REVOKED)
        except core.ConsentTransitionRefused:
            raise ConsentNotRevocable(f"this consent is {row.status}; it cannot be revoked",
                                      status=row.status) from None
        if change_status(session, row, REVOKED, by=RESIDENT, note="revoked by the resident", now=now,
                         log_kind=history.CONSENT_REVOKED):
            notifying.enqueue_revocation(session, settings, registry, row, REVOKED, now=now)
            session.commit()
            session.refresh(row)
            return row
        session.rollback()
        session.refresh(row)
    raise ConsentNotRevocable("this consent is changing right now; try again")


def sweep_expired(session: Session, settings: WalletSettings, registry: TrustRegistry | None, *,
                  now: datetime) -> int:
    """Move every active consent past ``expires_at`` to expired, with its history entry; the number moved.

    A fulfilled one-time consent stays fulfilled (its one presentation was made); the end of the
    verifier's retention is the verifier's to act on (its deletion acknowledgement), not a new status.
    A consent used at least once (an ongoing one) leaves an ``expired`` event for its verifier in the
    same transaction.
    """
    due = list(session.exec(select(WalletConsent).where(
        col(WalletConsent.status) == ACTIVE,
        col(WalletConsent.expires_at).is_not(None), col(WalletConsent.expires_at) <= utc(now))))
    if due:
        receipt_key(session, settings, now=now)
    moved = 0
    for row in due:
        if change_status(session, row, EXPIRED, by=SYSTEM, note="the consented period ended", now=now,
                         log_kind=history.CONSENT_EXPIRED):
            notifying.enqueue_revocation(session, settings, registry, row, EXPIRED, now=now)
            moved += 1
        session.commit()
    return moved


def consent_history(session: Session, consent_id: str) -> list[WalletConsentEvent]:
    rows = session.exec(select(WalletConsentEvent).where(WalletConsentEvent.consent_id == consent_id))
    # Oldest first; the grant before anything that happened in the same instant (a one-time consent's use).
    return sorted(rows, key=lambda e: (utc(e.at), e.from_status is not None))
