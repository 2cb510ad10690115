"""A wallet's consent revocation event (``consent-revocation+jwt``): verify it, delete, acknowledge.

``POST /{tenant}/consent-notifications`` (docs/consent.md): the wallet says a consent ended
(``revoked`` by the resident, or ``expired``). The event is verified with the JWK Set of the wallet
that sent the receipt for that consent (or, when nothing is held under it, of its own ``iss``),
``aud`` = the tenant's ``client_id``. Then, in ONE transaction, every request received under the
consent loses its claims and the event is recorded by ``jti`` with the signed acknowledgement
answered, so a retried delivery (the wallet's outbox) gets the same acknowledgement again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tsunagu import jose
from tsunagu.consent import (
    TYP_CONSENT_REVOCATION,
    ConsentError,
    ConsentIssuerMismatch,
    ConsentKeyNotFound,
    ConsentSignatureInvalid,
    ConsentTokenInvalid,
    DeletionAck,
    build_deletion_ack,
    verify_consent_revocation,
)
from tsunagu.errors import JwkError
from tsunagu.service.http import FetchError
from tsunagu.service.outbox import new_message_id

from ..errors import ConsentNoticeUnauthenticated, InvalidConsentNotice, WalletKeysLocationRefused, WalletUnavailable
from ..settings import VerifierSettings
from ..tables import VerifierConsentNotice, VerifierConsentReceipt, VerifierRequest
from .consent_receipts import unverified_issuer, wallet_keys
from .tenants import Tenant

__all__ = ["DELETION_REASONS", "NoticeAnswer", "receive_revocation", "delete_under_consent", "notices_of"]

#: ``deletion_reason`` of a request's claims, by what ended them.
DELETION_REASONS = {"revoked": "consent revoked", "expired": "consent expired"}


@dataclass(frozen=True, slots=True)
class NoticeAnswer:
    #: The signed ``consent-deletion-ack+jwt``.
    ack: str
    #: ``False`` when the same event (``jti``) had been received before and its ack is answered again.
    new: bool


async def receive_revocation(
    session: Session, settings: VerifierSettings, tenant: Tenant, token: str, *, http: httpx.AsyncClient,
    now: datetime,
) -> NoticeAnswer:
    """Verify a revocation event, delete what is held under its consent, and sign the acknowledgement.

    Raises:
        InvalidConsentNotice: malformed, another ``aud``, ``iat`` in the future, a ``jti`` used for another event.
        ConsentNoticeUnauthenticated: the signature or key, a wallet whose keys are not fetched, or not the
            wallet that sent the consent's receipt.
        WalletUnavailable: the wallet's JWK Set could not be fetched.
    """
    try:
        iss = unverified_issuer(token, TYP_CONSENT_REVOCATION)
    except ConsentTokenInvalid as exc:
        raise InvalidConsentNotice(exc.reason) from None
    consent_id = _unverified_consent_id(token)
    receipts = _receipts(session, tenant.slug, consent_id)
    # The wallet that sent the receipt is the only one that may end the consent; its keys, not the
    # event's iss, decide (an event naming another wallet fails as ConsentIssuerMismatch).
    expected_iss = receipts[0].wallet if receipts else None
    session.commit()  # give the connection back while the wallet's keys are fetched
    try:
        keys = await wallet_keys(expected_iss or iss, settings, http)
    except WalletKeysLocationRefused as exc:
        raise ConsentNoticeUnauthenticated(exc.reason) from None
    except FetchError as exc:
        raise WalletUnavailable(f"the wallet's keys could not be fetched: {exc.reason}") from None
    except JwkError as exc:
        raise WalletUnavailable(f"the wallet's JWK Set is not usable: {exc.reason}") from None
    try:
        revocation = verify_consent_revocation(
            token, keys=keys, expected_aud=tenant.client_id, now=now, expected_iss=expected_iss,
            clock_skew=timedelta(seconds=settings.clock_skew_seconds))
    except (ConsentSignatureInvalid, ConsentKeyNotFound, ConsentIssuerMismatch) as exc:
        raise ConsentNoticeUnauthenticated(exc.reason) from None
    except ConsentError as exc:  # malformed, another aud, iat ahead (all ConsentTokenInvalid)
        raise InvalidConsentNotice(exc.reason) from None

    seen = _seen(session, revocation.jti, tenant.slug, revocation.consent_id, revocation.wallet)
    if seen is not None:
        return NoticeAnswer(seen, new=False)
    ack = build_deletion_ack(DeletionAck(
        consent_id=revocation.consent_id, client_id=tenant.client_id, wallet=revocation.wallet, outcome="deleted",
        issued_at=now, jti=new_message_id(), event_jti=revocation.jti), tenant.key, x5c=tenant.x5c)
    delete_under_consent(session, tenant.slug, revocation.consent_id, DELETION_REASONS[revocation.event], now=now)
    session.add(VerifierConsentNotice(jti=revocation.jti, tenant=tenant.slug, consent_id=revocation.consent_id,
                                      wallet=revocation.wallet, event=revocation.event, received_at=now, ack=ack))
    try:
        session.commit()
    except IntegrityError:
        # The same event, delivered twice at once: the other delivery recorded it (and deleted).
        session.rollback()
        seen = _seen(session, revocation.jti, tenant.slug, revocation.consent_id, revocation.wallet)
        if seen is None:
            raise
        return NoticeAnswer(seen, new=False)
    return NoticeAnswer(ack, new=True)


def delete_under_consent(session: Session, tenant: str, consent_id: str, reason: str, *, now: datetime) -> int:
    """Drop the claims of every request of ``tenant`` with a receipt for ``consent_id`` (not committed).

    A request already emptied keeps its first deletion time and reason.
    """
    request_ids = select(VerifierConsentReceipt.request_id).where(
        VerifierConsentReceipt.tenant == tenant, VerifierConsentReceipt.consent_id == consent_id)
    result = session.execute(
        update(VerifierRequest)
        .where(col(VerifierRequest.id).in_(request_ids), col(VerifierRequest.sealed_claims).is_not(None))
        .values(sealed_claims=None, deleted_at=now, deletion_reason=reason)
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _receipts(session: Session, tenant: str, consent_id: str | None) -> list[VerifierConsentReceipt]:
    if consent_id is None:
        return []
    return list(session.exec(select(VerifierConsentReceipt).where(
        VerifierConsentReceipt.tenant == tenant, VerifierConsentReceipt.consent_id == consent_id)
        .order_by(col(VerifierConsentReceipt.received_at))))


def _unverified_consent_id(token: str) -> str | None:
    # Only to find the receipt (and so the wallet whose keys verify the event); the verified value is used after.
    consent_id = jose.parse_compact(token, typ=TYP_CONSENT_REVOCATION).payload.get("consent_id")
    return consent_id if isinstance(consent_id, str) else None


def _seen(session: Session, jti: str, tenant: str, consent_id: str, wallet: str) -> str | None:
    notice = session.get(VerifierConsentNotice, jti)
    if notice is None:
        return None
    if (notice.tenant, notice.consent_id, notice.wallet) != (tenant, consent_id, wallet):
        raise InvalidConsentNotice("this event id (jti) was already used for another consent event")
    return notice.ack


def notices_of(session: Session, tenant: str, consent_id: str) -> list[VerifierConsentNotice]:
    return list(session.exec(select(VerifierConsentNotice).where(
        VerifierConsentNotice.tenant == tenant, VerifierConsentNotice.consent_id == consent_id)
        .order_by(col(VerifierConsentNotice.received_at))))
