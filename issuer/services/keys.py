"""Each tenant's signing key: made on first start, kept sealed, rotated on request, published as a JWKS.

Keys are ES256 (P-256), the default of DESIGN.md. Two workers starting at once over one database
may both try to make a tenant's first key; the unique ``(tenant, generation)`` pair lets one win
and the other read the winner's key. Rotation adds the next generation, which signs everything
from then on; an older key stays published while anything it signed (a credential, a status
list token) has not yet expired, so no honest credential stops verifying (DESIGN.md, Keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tsunagu.encoding import json_dumps, json_loads
from tsunagu.jwk import PrivateJwk, generate_key, parse_private_jwk
from tsunagu.sealing import seal, unseal
from tsunagu.service.database import utc

from ..errors import KeyRotationFailed
from ..settings import IssuerSettings
from ..tables import IssuerAuditEvent, IssuerSigningKey

__all__ = [
    "KeyState",
    "ensure_signing_keys",
    "active_signing_key",
    "active_signing_kid",
    "record_signature",
    "rotate_signing_key",
    "signing_keys",
    "published_jwks",
]

_ROTATION_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class KeyState:
    """A tenant's key as the admin sees it."""

    kid: str
    alg: str
    generation: int
    active: bool
    created_at: datetime
    signed_until: datetime | None
    published: bool


def _aad(kid: str) -> bytes:
    return f"issuer_signing_key:{kid}".encode()


def _new_key_row(settings: IssuerSettings, tenant: str, generation: int, *, now: datetime) -> IssuerSigningKey:
    key = generate_key("ES256")
    kid = key.thumbprint()
    return IssuerSigningKey(
        kid=kid,
        tenant=tenant,
        generation=generation,
        alg=key.alg,
        sealed_key=seal(settings.master_key_bytes, json_dumps(key.to_jwk(include_private=True)).encode(), aad=_aad(kid)),
        public_jwk=json_dumps(key.public.to_jwk()),
        created_at=utc(now),
    )


def ensure_signing_keys(session: Session, settings: IssuerSettings, *, now: datetime) -> None:
    """Give every configured tenant a signing key if it has none yet."""
    for tenant in settings.tenants:
        existing = session.exec(select(IssuerSigningKey).where(IssuerSigningKey.tenant == tenant.id)).first()
        if existing is not None:
            continue
        session.add(_new_key_row(settings, tenant.id, 1, now=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another worker made this tenant's first key a moment ago


def _active_row(session: Session, tenant: str) -> IssuerSigningKey:
    row = session.exec(
        select(IssuerSigningKey)
        .where(IssuerSigningKey.tenant == tenant, col(IssuerSigningKey.active).is_(True))
        .order_by(col(IssuerSigningKey.generation).desc())
    ).first()
    if row is None:
        raise LookupError(f"tenant {tenant} has no signing key")
    return row


def active_signing_key(session: Session, settings: IssuerSettings, tenant: str) -> PrivateJwk:
    """The tenant's newest active key, unsealed (``kid`` = its thumbprint).

    Raises:
        SealedValueInvalid: the master key changed since the key was sealed.
        LookupError: the tenant has no key (``ensure_signing_keys`` did not run for it).
    """
    row = _active_row(session, tenant)
    private = parse_private_jwk(json_loads(unseal(settings.master_key_bytes, row.sealed_key, aad=_aad(row.kid))))
    return PrivateJwk(key=private.key, alg=private.alg, kid=row.kid)


def active_signing_kid(session: Session, tenant: str) -> str:
    """The ``kid`` of the key that signs the tenant's new credentials and status list tokens."""
    kid = session.exec(
        select(IssuerSigningKey.kid)
        .where(IssuerSigningKey.tenant == tenant, col(IssuerSigningKey.active).is_(True))
        .order_by(col(IssuerSigningKey.generation).desc())
    ).first()
    if kid is None:
        raise LookupError(f"tenant {tenant} has no signing key")
    return kid


def record_signature(session: Session, kid: str, exp: datetime) -> None:
    """Note that key ``kid`` signed something valid until ``exp``; the caller commits.

    Only ever moves ``signed_until`` later, so concurrent issuances cannot shorten it.
    """
    session.exec(
        update(IssuerSigningKey)
        .where(
            col(IssuerSigningKey.kid) == kid,
            or_(col(IssuerSigningKey.signed_until).is_(None), col(IssuerSigningKey.signed_until) < utc(exp)),
        )
        .values(signed_until=utc(exp))
    )


def rotate_signing_key(session: Session, settings: IssuerSettings, tenant: str, *, actor: str, reason: str,
                       now: datetime) -> KeyState:
    """Make a new key the tenant's active one; older keys stay published until what they signed expires.

    Raises:
        KeyRotationFailed: concurrent rotations kept taking the same generation.
    """
    for _ in range(_ROTATION_ATTEMPTS):
        newest = session.exec(
            select(func.max(IssuerSigningKey.generation)).where(IssuerSigningKey.tenant == tenant)
        ).one()
        row = _new_key_row(settings, tenant, (newest or 0) + 1, now=now)
        session.exec(
            update(IssuerSigningKey).where(col(IssuerSigningKey.tenant) == tenant).values(active=False)
        )
        session.add(row)
        session.add(IssuerAuditEvent(tenant=tenant, action="rotate_key", kid=row.kid, reason=reason, actor=actor,
                                     at=utc(now)))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another rotation took this generation first: take the next one
            continue
        return KeyState(kid=row.kid, alg=row.alg, generation=row.generation, active=True, created_at=utc(now),
                        signed_until=None, published=True)
    raise KeyRotationFailed("concurrent key rotations kept colliding; nothing was changed, try again")


def _is_published(row: IssuerSigningKey, newest_active: int | None, *, now: datetime, skew: timedelta) -> bool:
    if row.active and row.generation == newest_active:
        return True
    # Verifiers accept an ``exp`` up to the clock skew late; keep the key that long too.
    return row.signed_until is not None and utc(row.signed_until) + skew > utc(now)


def signing_keys(session: Session, settings: IssuerSettings, tenant: str, *, now: datetime) -> list[KeyState]:
    """Every key of the tenant, newest first, and whether it is still published."""
    rows = session.exec(
        select(IssuerSigningKey).where(IssuerSigningKey.tenant == tenant).order_by(col(IssuerSigningKey.generation).desc())
    ).all()
    newest_active = next((r.generation for r in rows if r.active), None)
    skew = timedelta(seconds=settings.clock_skew_seconds)
    return [
        KeyState(
            kid=row.kid,
            alg=row.alg,
            generation=row.generation,
            active=row.active and row.generation == newest_active,
            created_at=utc(row.created_at),
            signed_until=utc(row.signed_until) if row.signed_until is not None else None,
            published=_is_published(row, newest_active, now=now, skew=skew),
        )
        for row in rows
    ]


def published_jwks(session: Session, settings: IssuerSettings, tenant: str, *, now: datetime) -> dict[str, Any]:
    """The active key and every older key something it signed still depends on, newest first."""
    rows = session.exec(
        select(IssuerSigningKey).where(IssuerSigningKey.tenant == tenant).order_by(col(IssuerSigningKey.generation).desc())
    ).all()
    newest_active = next((r.generation for r in rows if r.active), None)
    skew = timedelta(seconds=settings.clock_skew_seconds)
    keys = []
    for row in rows:
        if _is_published(row, newest_active, now=now, skew=skew):
            jwk = json_loads(row.public_jwk)
            keys.append({**jwk, "kid": row.kid, "use": "sig", "alg": row.alg})
    return {"keys": keys}
