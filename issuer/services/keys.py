"""Each tenant's credential signing key: made on first start, kept sealed, published as a JWKS.

The key is ES256 (P-256), the default of DESIGN.md. Two workers starting at once over one
database may both try to make a tenant's first key; the unique ``(tenant, generation)`` pair lets
one win and the other read the winner's key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tsunagu.encoding import json_dumps, json_loads
from tsunagu.jwk import PrivateJwk, generate_key, parse_private_jwk
from tsunagu.sealing import seal, unseal

from ..settings import IssuerSettings
from ..tables import IssuerSigningKey
from tsunagu.service.database import utc

__all__ = ["ensure_signing_keys", "active_signing_key", "published_jwks"]


def _aad(kid: str) -> bytes:
    return f"issuer_signing_key:{kid}".encode()


def ensure_signing_keys(session: Session, settings: IssuerSettings, *, now: datetime) -> None:
    """Give every configured tenant a signing key if it has none yet."""
    for tenant in settings.tenants:
        existing = session.exec(select(IssuerSigningKey).where(IssuerSigningKey.tenant == tenant.id)).first()
        if existing is not None:
            continue
        key = generate_key("ES256")
        row = IssuerSigningKey(
            kid=key.thumbprint(),
            tenant=tenant.id,
            generation=1,
            alg=key.alg,
            sealed_key=seal(
                settings.master_key_bytes,
                json_dumps(key.to_jwk(include_private=True)).encode(),
                aad=_aad(key.thumbprint()),
            ),
            public_jwk=json_dumps(key.public.to_jwk()),
            created_at=utc(now),
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another worker made this tenant's first key a moment ago


def active_signing_key(session: Session, settings: IssuerSettings, tenant: str) -> PrivateJwk:
    """The tenant's newest active key, unsealed (``kid`` = its thumbprint).

    Raises:
        SealedValueInvalid: the master key changed since the key was sealed.
        LookupError: the tenant has no key (``ensure_signing_keys`` did not run for it).
    """
    row = session.exec(
        select(IssuerSigningKey)
        .where(IssuerSigningKey.tenant == tenant, col(IssuerSigningKey.active).is_(True))
        .order_by(col(IssuerSigningKey.generation).desc())
    ).first()
    if row is None:
        raise LookupError(f"tenant {tenant} has no signing key")
    private = parse_private_jwk(json_loads(unseal(settings.master_key_bytes, row.sealed_key, aad=_aad(row.kid))))
    return PrivateJwk(key=private.key, alg=private.alg, kid=row.kid)


def published_jwks(session: Session, tenant: str) -> dict[str, Any]:
    """Every key of the tenant, rotated ones included, until the credentials they signed expire (DESIGN.md)."""
    rows = session.exec(
        select(IssuerSigningKey).where(IssuerSigningKey.tenant == tenant).order_by(col(IssuerSigningKey.generation))
    ).all()
    keys = []
    for row in rows:
        jwk = json_loads(row.public_jwk)
        keys.append({**jwk, "kid": row.kid, "use": "sig", "alg": row.alg})
    return {"keys": keys}
