"""``c_nonce`` values (OpenID4VCI §7): handed out by the Nonce Endpoint, each used by one Credential Request.

The nonce lives in the database, so a proof made with a nonce from one worker is accepted by
another, and a second use is refused by whichever worker sees it: consumption is a conditional
UPDATE that only one transaction can win.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col

from tsunagu.oid4vci import InvalidNonce, NonceResponse

from ..settings import IssuerSettings, IssuerTenant
from ..tables import IssuerNonce
from .codes import new_secret
from tsunagu.service.database import utc

__all__ = ["create_nonce", "consume_nonces"]

#: Used and expired nonces are kept this long before being swept (for support and debugging).
_SWEEP_AFTER = timedelta(hours=1)


def create_nonce(session: Session, settings: IssuerSettings, tenant: IssuerTenant, *, now: datetime) -> NonceResponse:
    session.exec(delete(IssuerNonce).where(col(IssuerNonce.expires_at) < utc(now - _SWEEP_AFTER)))
    nonce = new_secret()
    session.add(
        IssuerNonce(
            nonce=nonce,
            tenant=tenant.id,
            created_at=utc(now),
            expires_at=utc(now + timedelta(seconds=settings.c_nonce_lifetime_seconds)),
        )
    )
    session.commit()
    return NonceResponse(c_nonce=nonce)


def consume_nonces(session: Session, tenant: IssuerTenant, nonces: Iterable[str], *, now: datetime) -> None:
    """Mark each distinct nonce used; the caller commits (or rolls back if anything else fails).

    Several proofs of one batch request may share one ``c_nonce``; the request uses it once.

    Raises:
        InvalidNonce: a nonce this tenant never issued, or one expired or already used.
    """
    for nonce in sorted(set(nonces)):
        if len(nonce) > 64:
            raise InvalidNonce("the c_nonce of a key proof is not one this issuer handed out")
        result = session.exec(
            update(IssuerNonce)
            .where(
                col(IssuerNonce.nonce) == nonce,
                col(IssuerNonce.tenant) == tenant.id,
                col(IssuerNonce.used_at).is_(None),
                col(IssuerNonce.expires_at) > utc(now),
            )
            .values(used_at=utc(now))
        )
        if result.rowcount != 1:
            session.rollback()
            raise InvalidNonce("the c_nonce of a key proof is unknown, expired or already used; get a new one from the nonce endpoint")
