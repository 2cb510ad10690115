"""Consent receipts: the wallet's signing key, and the receipt signed at each approval (docs/consent.md).

One ES256 key per wallet service, made on first start and stored sealed (``wallet_service_key``);
its public half is published at ``/.well-known/jwks.json`` so a verifier can check a receipt. The
receipt names the resident by a pairwise pseudonym (``tsunagu.consent.pairwise_subject``) whose
secret is derived from the master key: stable across restarts and workers, different per verifier,
and never the username.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tsunagu.claims_path import ClaimsPath
from tsunagu.consent import ConsentedClaims, ConsentReceipt, build_consent_receipt, pairwise_subject
from tsunagu.encoding import json_dumps, json_loads
from tsunagu.jwk import PrivateJwk, PublicJwk, generate_key, parse_private_jwk, parse_public_jwk
from tsunagu.purposes import is_purpose_code
from tsunagu.sealing import seal, unseal
from tsunagu.service.database import utc
from tsunagu.trust import LocalizedText

from ..settings import WalletSettings
from ..tables import WalletConsent, WalletServiceKey

__all__ = ["RECEIPT_KEY", "receipt_key", "receipt_jwks", "pairwise_secret", "notification_uri", "refresh_uri",
           "sign_receipt"]

#: The ``purpose`` of the receipt signing key's row.
RECEIPT_KEY: Final = "consent_receipt"
# Domain separation: the pairwise secret is not the master key itself, nor any other key derived from it.
_PAIRWISE_LABEL: Final = b"tsunagu/wallet/consent-receipt/pairwise-subject/v1"


def _aad(purpose: str) -> bytes:
    return f"wallet_service_key:{purpose}".encode()


def receipt_key(session: Session, settings: WalletSettings, *, now: datetime) -> PrivateJwk:
    """The receipt signing key, made (once, across workers) when there is none yet.

    Raises:
        SealedValueInvalid: the stored key does not open with this master key.
    """
    row = session.get(WalletServiceKey, RECEIPT_KEY)
    if row is None:
        key = generate_key("ES256")
        session.add(WalletServiceKey(
            purpose=RECEIPT_KEY, kid=key.kid or key.thumbprint(), alg=key.alg,
            sealed_private_key=seal(settings.master_key_bytes, json_dumps(key.to_jwk(include_private=True)).encode(),
                                    aad=_aad(RECEIPT_KEY)),
            public_jwk=json_dumps(key.public.to_jwk()), created_at=utc(now)))
        try:
            session.commit()
        except IntegrityError:  # another worker made it first: use theirs
            session.rollback()
        row = session.get(WalletServiceKey, RECEIPT_KEY)
        assert row is not None
    return parse_private_jwk(json_loads(unseal(settings.master_key_bytes, row.sealed_private_key,
                                               aad=_aad(RECEIPT_KEY))))


def receipt_jwks(session: Session, settings: WalletSettings, *, now: datetime) -> dict[str, list[dict[str, str]]]:
    """The JWK Set verifiers check receipts with (public keys only)."""
    row = session.get(WalletServiceKey, RECEIPT_KEY)
    if row is None:
        receipt_key(session, settings, now=now)
        row = session.get(WalletServiceKey, RECEIPT_KEY)
        assert row is not None
    public: PublicJwk = parse_public_jwk(json_loads(row.public_jwk))
    return {"keys": [public.to_jwk()]}


def pairwise_secret(settings: WalletSettings) -> bytes:
    return hmac.new(settings.master_key_bytes, _PAIRWISE_LABEL, hashlib.sha256).digest()


def notification_uri(settings: WalletSettings) -> str:
    """Where verifiers send deletion acknowledgements (``routes/consent_notifications.py``)."""
    return f"{settings.public_url}/consent-notifications"


def refresh_uri(settings: WalletSettings) -> str:
    """Where a verifier with an ongoing consent asks for a fresh presentation (``routes/refresh.py``)."""
    return f"{settings.public_url}/consent-refresh"


def sign_receipt(session: Session, settings: WalletSettings, row: WalletConsent, vcts: Mapping[str, str], *,
                 now: datetime) -> str | None:
    """The signed receipt for a consent just granted; ``None`` when it has no registered purpose code.

    ``vcts``: credential query id → the ``vct`` of the credential chosen for it.

    Raises:
        InvalidConsentData: the consent cannot be expressed as a receipt.
    """
    if row.purpose is None or not is_purpose_code(row.purpose) or row.expires_at is None:
        return None
    paths: dict[str, list[list[str | int | None]]] = json_loads(row.claims)
    claims = tuple(ConsentedClaims(credential_query_id=qid, vct=vcts[qid],
                                   paths=tuple(_path(p) for p in qpaths))
                   for qid, qpaths in sorted(paths.items()))
    beyond: dict[str, list[list[str | int | None]]] = json_loads(row.beyond_purpose) if row.beyond_purpose else {}
    beyond_claims = tuple(ConsentedClaims(credential_query_id=qid, vct=vcts[qid],
                                          paths=tuple(_path(p) for p in qpaths))
                          for qid, qpaths in sorted(beyond.items()) if qpaths)
    ongoing = row.access_type == "ongoing"
    granted_at = utc(row.granted_at)
    expires_at = max(utc(row.expires_at), granted_at + timedelta(seconds=1))
    receipt = ConsentReceipt(
        consent_id=row.id, wallet=settings.public_url,
        subject=pairwise_subject(pairwise_secret(settings), row.resident_id, row.client_id),
        verifier_client_id=row.client_id, verifier_name=LocalizedText(row.verifier_name_en, row.verifier_name_ja),
        purpose=row.purpose, purpose_text=LocalizedText(row.purpose_text_en or "", row.purpose_text_ja or ""),
        claims=claims, granted_at=granted_at, expires_at=expires_at,
        retention_days=row.retention_days if row.retention_days is not None else settings.consent_default_retention_days,
        access_type="ongoing" if ongoing else "one-time",
        notification_uri=notification_uri(settings), legal_basis=row.legal_basis,
        refresh_uri=refresh_uri(settings) if ongoing else None, beyond_purpose=beyond_claims,
    )
    return build_consent_receipt(receipt, receipt_key(session, settings, now=now))


def _path(path: list[str | int | None]) -> ClaimsPath:
    return tuple(path)
