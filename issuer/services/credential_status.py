"""Revoking, suspending and reinstating issued credentials, and looking them up (the admin's side of issue #4).

A change rewrites one entry of the credential's status list (the list's bytes are kept in the
database) and raises the list's version, so the next status list token served carries it
(Token Status List §7.1: 0 VALID, 1 INVALID, 2 SUSPENDED). The reason goes to the audit log only:
the token says nothing but the status. Revocation is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import update
from sqlmodel import Session, col, select

from tsunagu.local_time import japan_date
from tsunagu.service.database import utc
from tsunagu.status_list import INVALID, SUSPENDED, VALID, StatusList

from ..errors import ConcurrentStatusChange, CredentialRevoked, StatusUnchanged, UnknownCredential
from ..settings import IssuerSettings, IssuerTenant
from ..tables import IssuerAuditEvent, IssuerCredential, IssuerStatusList, IssuerStatusListData

__all__ = [
    "STATUS_VALUES",
    "StatusAction",
    "StatusChange",
    "CredentialRecord",
    "AuditEntry",
    "change_credential_status",
    "list_credentials",
    "credential_history",
    "get_credential",
]

StatusAction = Literal["revoke", "suspend", "reinstate"]

#: What each stored status is in the status list.
STATUS_VALUES: Final = {"valid": VALID, "revoked": INVALID, "suspended": SUSPENDED}
_TARGET: Final[dict[str, str]] = {"revoke": "revoked", "suspend": "suspended", "reinstate": "valid"}
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class StatusChange:
    action: StatusAction
    #: Why, for the audit log; never published.
    reason: str
    #: Who, as the admin client names them.
    actor: str


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    id: str
    subject: str
    credential_configuration_id: str
    vct: str
    #: valid, suspended or revoked.
    status: str
    #: ``exp`` has passed (whatever the status).
    expired: bool
    iat: datetime
    exp: datetime
    status_list_number: int
    status_idx: int
    status_uri: str
    signing_kid: str
    status_changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: str
    from_status: str | None
    to_status: str | None
    reason: str
    actor: str
    at: datetime


def _record(row: IssuerCredential, settings: IssuerSettings, *, now: datetime, status: str | None = None,
            changed_at: datetime | None = None) -> CredentialRecord:
    changed = changed_at if changed_at is not None else row.status_changed_at
    return CredentialRecord(
        id=row.id,
        subject=row.subject,
        credential_configuration_id=row.credential_configuration_id,
        vct=row.vct,
        status=status or row.status,
        expired=utc(row.exp) <= utc(now),
        iat=utc(row.iat),
        exp=utc(row.exp),
        status_list_number=row.status_list,
        status_idx=row.status_idx,
        status_uri=settings.status_list_uri(row.tenant, row.status_list),
        signing_kid=row.signing_kid,
        status_changed_at=utc(changed) if changed is not None else None,
    )


def _find(session: Session, tenant: IssuerTenant, credential_id: str) -> IssuerCredential:
    row = session.get(IssuerCredential, credential_id) if len(credential_id) <= 64 else None
    if row is None or row.tenant != tenant.id:
        raise UnknownCredential("this organisation issued no credential with this id")
    return row


def get_credential(session: Session, settings: IssuerSettings, tenant: IssuerTenant, credential_id: str, *,
                   now: datetime) -> CredentialRecord:
    """Raises: UnknownCredential."""
    return _record(_find(session, tenant, credential_id), settings, now=now)


def _target_status(row: IssuerCredential, action: StatusAction) -> str:
    if row.status == "revoked":
        when = f" on {japan_date(row.status_changed_at)}" if row.status_changed_at else ""
        raise CredentialRevoked(f"this credential was revoked{when}; revocation is final and cannot be undone")
    target = _TARGET[action]
    if row.status == target:
        raise StatusUnchanged(f"this credential is already {target}")
    return target


def change_credential_status(session: Session, settings: IssuerSettings, tenant: IssuerTenant, credential_id: str,
                             change: StatusChange, *, now: datetime) -> CredentialRecord:
    """Revoke, suspend or reinstate a credential; the next status list token shows it.

    The change applies to every copy issued with it in one Credential Response (batch issuance
    gives the resident several copies, each with its own holder key and status entry, so that
    verifiers cannot link presentations): revoking "the employment certificate" must reach every
    copy, or a verifier shown another copy would still accept it.

    Raises:
        UnknownCredential: no such credential for this tenant.
        CredentialRevoked: the credential is revoked (final).
        StatusUnchanged: suspending a suspended credential, reinstating a valid one.
        ConcurrentStatusChange: others kept changing it at the same moment.
    """
    for _ in range(_ATTEMPTS):
        row = _find(session, tenant, credential_id)
        previous = row.status
        target = _target_status(row, change.action)
        copies = session.exec(
            select(IssuerCredential).where(
                IssuerCredential.tenant == tenant.id, IssuerCredential.notification_id == row.notification_id
            )
        ).all()
        if not all(_change_copy(session, tenant, copy, previous, target, change, now=now) for copy in copies):
            session.rollback()
            continue
        record = _record(row, settings, now=now, status=target, changed_at=now)
        session.commit()
        return record
    raise ConcurrentStatusChange("the credential's status was being changed by someone else at the same time; try again")


def _change_copy(session: Session, tenant: IssuerTenant, row: IssuerCredential, previous: str, target: str,
                 change: StatusChange, *, now: datetime) -> bool:
    # Conditional on the status we read: of two admins acting at once, one wins and the other re-reads.
    # On SQLite this first write also takes the database's write lock for the rest of the transaction.
    claimed = session.exec(
        update(IssuerCredential)
        .where(col(IssuerCredential.id) == row.id, col(IssuerCredential.status) == previous)
        .values(status=target, status_changed_at=utc(now))
    )
    if claimed.rowcount != 1:
        return False
    if not _set_entry(session, tenant.id, row.status_list, row.status_idx, STATUS_VALUES[target], now=now):
        return False
    session.add(IssuerAuditEvent(
        tenant=tenant.id, action=change.action, credential_id=row.id, from_status=previous, to_status=target,
        reason=change.reason, actor=change.actor, at=utc(now),
    ))
    return True


def _set_entry(session: Session, tenant: str, list_number: int, idx: int, value: int, *, now: datetime) -> bool:
    """Rewrite one entry of the list's bytes and raise its version; ``False`` if the list changed under us."""
    # FOR UPDATE holds the bytes on PostgreSQL until commit (SQLite is already serialised by its write lock).
    packed = session.exec(
        select(IssuerStatusListData.packed)
        .where(IssuerStatusListData.tenant == tenant, IssuerStatusListData.list_number == list_number)
        .with_for_update()
    ).one()
    bits, size = session.exec(
        select(IssuerStatusList.bits, IssuerStatusList.size)
        .where(IssuerStatusList.tenant == tenant, IssuerStatusList.list_number == list_number)
    ).one()
    status_list = StatusList(packed, bits, size=size)
    status_list.set(idx, value)
    session.exec(
        update(IssuerStatusListData)
        .where(col(IssuerStatusListData.tenant) == tenant, col(IssuerStatusListData.list_number) == list_number)
        .values(packed=status_list.to_bytes())
    )
    bumped = session.exec(
        update(IssuerStatusList)
        .where(col(IssuerStatusList.tenant) == tenant, col(IssuerStatusList.list_number) == list_number)
        .values(version=col(IssuerStatusList.version) + 1, updated_at=utc(now))
    )
    return bumped.rowcount == 1


def list_credentials(session: Session, settings: IssuerSettings, tenant: IssuerTenant, *, subject: str | None,
                     vct: str | None, limit: int, now: datetime) -> list[CredentialRecord]:
    """The tenant's issued credentials, newest first, optionally only one resident's or one type's."""
    query = select(IssuerCredential).where(IssuerCredential.tenant == tenant.id)
    if subject is not None:
        query = query.where(IssuerCredential.subject == subject)
    if vct is not None:
        query = query.where(IssuerCredential.vct == vct)
    rows = session.exec(
        query.order_by(col(IssuerCredential.iat).desc(), col(IssuerCredential.id)).limit(limit)
    ).all()
    return [_record(row, settings, now=now) for row in rows]


def credential_history(session: Session, tenant: IssuerTenant, credential_id: str) -> list[AuditEntry]:
    """Every status change of the credential, oldest first, with who made it and why."""
    events = session.exec(
        select(IssuerAuditEvent)
        .where(IssuerAuditEvent.tenant == tenant.id, IssuerAuditEvent.credential_id == credential_id)
        .order_by(col(IssuerAuditEvent.at), col(IssuerAuditEvent.id))
    ).all()
    return [
        AuditEntry(action=e.action, from_status=e.from_status, to_status=e.to_status, reason=e.reason,
                   actor=e.actor, at=utc(e.at))
        for e in events
    ]
