"""Whether the credentials a resident holds are still in force: Token Status List checks, as a holder runs them.

Each copy of a credential carries its own ``status.status_list {idx, uri}`` (draft-ietf-oauth-status-list
§6.2), read at issuance. The wallet fetches the status list tokens (through the service kit's issuer
documents: only from the issuer's own origin, bounded, verified, cached) and reads each copy's entry
(§8.3). One list is fetched once per refresh, whoever's credentials refer to it. The credential's
status is its worst copy's: revoked, then suspended, then a value this wallet does not know, then valid.

What the wallet knows is kept per credential (``WalletCredentialStatus``): the last known status, the
``iat`` of the list in which it first appeared (the date of the change, as far as anyone outside the
issuer can tell), and when it was last confirmed. A failed check never overwrites what was known; it
is recorded beside it, so the resident sees both. A change is written with one conditional UPDATE,
so two workers refreshing at once record one event, and an older list (a cache elsewhere) never
undoes what a newer one said. Expiry is derived from ``exp`` and the clock, and noticed once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, Protocol

from sqlalchemy import Update, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tsunagu.encoding import json_loads
from tsunagu.errors import TsunaguError
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.service.database import utc
from tsunagu.status_list import INVALID, SUSPENDED, VALID, StatusListToken, StatusReference, parse_status_claim

from ..settings import WalletSettings
from ..tables import WalletCredential, WalletCredentialCopy, WalletCredentialStatus
from . import history
from .holdings import encode_status_references, open_copy

__all__ = [
    "CredentialStatus",
    "StatusListSource",
    "StatusState",
    "RefreshReport",
    "status_state",
    "status_states",
    "refresh_statuses",
    "refresh_all",
]

log = logging.getLogger("wallet.status")

CredentialStatus = Literal["valid", "revoked", "suspended", "expired", "unknown"]

#: §7.1 Status Types this wallet understands; any other value is "unknown" (issuer-specific or reserved).
_NAMES: Final[Mapping[int, CredentialStatus]] = {VALID: "valid", INVALID: "revoked", SUSPENDED: "suspended"}
_STORED: Final[Mapping[str, CredentialStatus]] = {"valid": "valid", "revoked": "revoked", "suspended": "suspended"}
#: The credential takes its worst copy's status.
_SEVERITY: Final[Mapping[str, int]] = {"valid": 0, "unknown": 1, "suspended": 2, "revoked": 3}
#: Credentials read per query by the scheduled refresh of the whole wallet.
_PAGE = 500


class StatusListSource(Protocol):
    """Where verified status list tokens come from: ``tsunagu.service.issuer_documents.IssuerDocuments``
    (only from the issuer's registered origin, bounded, verified, cached for the list's ``ttl``)."""

    async def status_list(self, iss: str, uri: str) -> StatusListToken:
        """Raises: TsunaguError, whatever keeps the list from being had or trusted (network, origin, signature)."""
        ...


@dataclass(frozen=True, slots=True)
class StatusState:
    """What the wallet knows of one credential's status now."""

    status: CredentialStatus
    #: revoked / suspended / valid: ``iat`` of the list in which it first appeared; expired: ``exp``.
    since: datetime | None
    #: ``iat`` of the list that last confirmed it, and when the wallet read that list.
    as_of: datetime | None
    checked_at: datetime | None
    #: The last check failed (the status shown is the last known one), and why.
    check_error: str | None
    attempted_at: datetime | None
    #: The issuer publishes a status for this credential (it can revoke and suspend it).
    checkable: bool
    #: The raw value behind an "unknown" status (an issuer-specific status), if any.
    status_value: int | None

    @property
    def presentable(self) -> bool:
        """Revoked, suspended and expired credentials are never offered for a presentation."""
        return self.status in ("valid", "unknown")


@dataclass(frozen=True, slots=True)
class RefreshReport:
    checked: int = 0
    failed: int = 0
    #: Credential ids whose status changed (an event was recorded for each).
    changed: tuple[str, ...] = ()
    #: (issuer, status list URI) → why the list could not be had.
    errors: Mapping[tuple[str, str], str] = field(default_factory=dict)


def _references(row: WalletCredentialStatus) -> list[StatusReference]:
    return [StatusReference(idx=int(r["idx"]), uri=str(r["uri"])) for r in json_loads(row.references)]


def status_state(row: WalletCredentialStatus | None, credential: WalletCredential, *, now: datetime) -> StatusState:
    """The status to show and to act on: expiry from ``exp`` and the clock, the rest as last known.

    A revoked credential stays "revoked" after it expires: the issuer's act is the more telling fact.
    """
    expired = credential.exp is not None and utc(credential.exp) <= utc(now)
    known: CredentialStatus = _STORED.get(row.status, "unknown") if row is not None else "unknown"
    checkable = row is not None and row.references != "[]"
    if not checkable and known == "unknown":
        known = "valid"  # no status published: in force until it expires, and nobody can say otherwise
    since = utc(row.status_since) if row is not None and row.status_since is not None else None
    if expired and known != "revoked":
        assert credential.exp is not None
        known, since = "expired", utc(credential.exp)

    def at(value: datetime | None) -> datetime | None:
        return utc(value) if value is not None else None

    return StatusState(
        status=known, since=since, as_of=at(row.status_as_of) if row else None,
        checked_at=at(row.checked_at) if row else None, check_error=row.check_error if row else None,
        attempted_at=at(row.attempted_at) if row else None, checkable=checkable,
        status_value=row.status_value if row is not None and known == "unknown" else None,
    )


def status_states(session: Session, credentials: Iterable[WalletCredential], *,
                  now: datetime) -> dict[str, StatusState]:
    rows = list(credentials)
    ids = [c.id for c in rows]
    stored = {s.credential_id: s for s in session.exec(
        select(WalletCredentialStatus).where(col(WalletCredentialStatus.credential_id).in_(ids)))} if ids else {}
    return {c.id: status_state(stored.get(c.id), c, now=now) for c in rows}


def _ensure_row(session: Session, settings: WalletSettings, credential: WalletCredential) -> WalletCredentialStatus:
    """The status row, made from the copies themselves for a credential stored before status checks existed."""
    row = session.get(WalletCredentialStatus, credential.id)
    if row is not None:
        return row
    references: list[StatusReference | None] = []
    for copy in session.exec(select(WalletCredentialCopy).where(WalletCredentialCopy.credential_id == credential.id)):
        claim = decode_sd_jwt(open_copy(settings, copy)[0]).payload.get("status")
        references.append(parse_status_claim(claim) if claim is not None else None)
    row = WalletCredentialStatus(credential_id=credential.id, resident_id=credential.resident_id,
                                 references=encode_status_references(references))
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # another worker made it first
        session.rollback()
    found = session.get(WalletCredentialStatus, credential.id)
    assert found is not None
    return found


async def refresh_statuses(session: Session, settings: WalletSettings, source: StatusListSource,
                           credentials: Sequence[WalletCredential], *, now: datetime) -> RefreshReport:
    """Check ``credentials`` against their issuers' status lists now; record changes and events.

    Each status list is fetched once. A list that cannot be had marks the credentials that refer to
    it as "could not be checked" and does not stop the others. Expired credentials are not checked;
    their expiry is noticed (one event).
    """
    plans: list[tuple[WalletCredential, WalletCredentialStatus, list[StatusReference]]] = []
    changed: list[str] = []
    for credential in credentials:
        try:
            row = _ensure_row(session, settings, credential)
        except TsunaguError as exc:  # a sealed copy that no longer opens, an unreadable status claim
            log.warning("credential %s: status reference unreadable: %s", credential.id, exc.reason)
            continue
        if credential.exp is not None and utc(credential.exp) <= utc(now):
            if _notice_expiry(session, credential, now=now):
                changed.append(credential.id)
            continue
        references = _references(row)
        if references:
            plans.append((credential, row, references))

    # Keyed by issuer too: a list is the word of the issuer it was fetched (and verified) for, of no other.
    tokens: dict[tuple[str, str], StatusListToken] = {}
    errors: dict[tuple[str, str], str] = {}
    for key in dict.fromkeys((c.iss, r.uri) for c, _, refs in plans for r in refs):
        try:
            tokens[key] = await source.status_list(*key)
        except TsunaguError as exc:
            errors[key] = exc.reason
            log.info("status list %s of %s could not be had: %s (%s)", key[1], key[0], exc.reason, exc.code)

    checked = failed = 0
    for credential, row, references in plans:
        problem = next((errors[(credential.iss, r.uri)] for r in references if (credential.iss, r.uri) in errors), None)
        values: list[tuple[int, StatusListToken]] = []
        if problem is None:
            try:
                values = [(tokens[(credential.iss, r.uri)].status_list.get(r.idx), tokens[(credential.iss, r.uri)])
                          for r in references]
            except TsunaguError as exc:  # an index outside the list: no statement can be made (§8.3 step 6)
                problem = exc.reason
        if problem is not None:
            _record_failure(session, row, problem, now=now)
            failed += 1
            continue
        value, token = max(values, key=lambda v: _SEVERITY[_NAMES.get(v[0], "unknown")])
        if _apply(session, credential, row, _NAMES.get(value, "unknown"), value, utc(token.iat), now=now):
            changed.append(credential.id)
        checked += 1
    return RefreshReport(checked=checked, failed=failed, changed=tuple(changed), errors=errors)


async def refresh_all(session: Session, settings: WalletSettings, source: StatusListSource, *,
                      now: datetime) -> RefreshReport:
    """One run of the scheduled refresh: every resident's credentials, a page at a time."""
    checked = failed = 0
    changed: list[str] = []
    errors: dict[tuple[str, str], str] = {}
    after = ""
    while True:
        page = list(session.exec(select(WalletCredential).where(col(WalletCredential.id) > after)
                                 .order_by(col(WalletCredential.id)).limit(_PAGE)))
        if not page:
            break
        after = page[-1].id
        report = await refresh_statuses(session, settings, source, page, now=now)
        checked, failed = checked + report.checked, failed + report.failed
        changed.extend(report.changed)
        errors.update(report.errors)
    return RefreshReport(checked=checked, failed=failed, changed=tuple(changed), errors=errors)


def _update() -> Update:
    # Conditions are checked by the database, not against rows this session holds (SQLite gives naive times):
    # every update here is committed or rolled back at once, which expires those rows anyway.
    return update(WalletCredentialStatus).execution_options(synchronize_session=False)


def _event_kind(old: str, old_value: int | None, new: str) -> str | None:
    if new == "revoked":
        return history.CREDENTIAL_REVOKED
    if new == "suspended":
        return history.CREDENTIAL_SUSPENDED
    if new == "valid":
        # Never checked → valid is the first check confirming what the resident expected: nothing happened.
        was_not_valid = old in ("revoked", "suspended") or (old == "unknown" and old_value is not None)
        return history.CREDENTIAL_REINSTATED if was_not_valid else None
    return history.CREDENTIAL_STATUS_UNKNOWN


def _details(credential: WalletCredential, **extra: object) -> dict[str, object]:
    display = json_loads(credential.display)
    return {"iss": credential.iss, "vct": credential.vct, "issuer_name": display.get("issuer"),
            "credential_name": display.get("credential"), **extra}


def _apply(session: Session, credential: WalletCredential, row: WalletCredentialStatus, new: str, value: int,
           iat: datetime, *, now: datetime) -> bool:
    """Store a successful check; True when the status changed (and an event was recorded)."""
    old, old_value = row.status, row.status_value
    fresh = or_(col(WalletCredentialStatus.status_as_of).is_(None), col(WalletCredentialStatus.status_as_of) <= iat)
    confirmed = {"status_value": value, "status_as_of": iat, "checked_at": utc(now), "attempted_at": utc(now),
                 "check_error": None}
    key = col(WalletCredentialStatus.credential_id) == row.credential_id
    # "unknown" is both "never checked" and "a value this wallet does not know": the value tells them apart.
    if new == old and (new != "unknown" or value == old_value):
        session.execute(_update().where(key, fresh).values(**confirmed))
        session.commit()
        return False
    was = (col(WalletCredentialStatus.status_value).is_(None) if old_value is None
           else col(WalletCredentialStatus.status_value) == old_value)
    moved = session.execute(_update()
                            .where(key, col(WalletCredentialStatus.status) == old, was, fresh)
                            .values(status=new, status_since=iat, **confirmed))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        # Another worker recorded this change, or a newer list is already known: nothing to add.
        session.rollback()
        return False
    kind = _event_kind(old, old_value, new)
    if kind is not None:
        history.record_event(session, credential.resident_id, kind, credential_id=credential.id, now=now,
                             details=_details(credential, status=new, previous=old, status_value=value,
                                              status_list_iat=iat.isoformat()))
    session.commit()
    return kind is not None


def _record_failure(session: Session, row: WalletCredentialStatus, reason: str, *, now: datetime) -> None:
    session.execute(_update()
                    .where(col(WalletCredentialStatus.credential_id) == row.credential_id)
                    .values(attempted_at=utc(now), check_error=reason[:1000]))
    session.commit()


def _notice_expiry(session: Session, credential: WalletCredential, *, now: datetime) -> bool:
    """Record "expired" in the resident's history, once (across workers)."""
    noticed = session.execute(_update()
                              .where(col(WalletCredentialStatus.credential_id) == credential.id,
                                     col(WalletCredentialStatus.expired_noticed_at).is_(None))
                              .values(expired_noticed_at=utc(now)))
    if noticed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    assert credential.exp is not None
    history.record_event(session, credential.resident_id, history.CREDENTIAL_EXPIRED, credential_id=credential.id,
                         details=_details(credential, status="expired", exp=utc(credential.exp).isoformat()), now=now)
    session.commit()
    return True
