"""Telling verifiers a consent ended, and recording what they say they did with the data (docs/consent.md).

Contract 2 (wallet → verifier): when a consent that was used at least once is revoked or expires,
a ``consent-revocation+jwt`` event signed with the receipt key is written to ``wallet_outbox`` in
the same transaction as the status change, addressed to the ``consent_notification_uri`` the trust
registry gives that verifier. ``wallet/notifications.py`` delivers it (``tsunagu.service.outbox``)
and :func:`accept_ack` decides whether the answer acknowledges it: only a ``consent-deletion-ack+jwt``
signed by that same verifier (certificate under the registry root), addressed to this wallet, naming
the consent and the event's ``jti``. A consent never used was never presented: there is nothing to
delete and nobody is told. A verifier the registry gives no notification URI cannot be told; the
resident's log says so (``notification_undeliverable``) and her consent view shows it.

Contract 3 (verifier → wallet): :func:`receive_ack` records an acknowledgement a verifier sends on its
own when the retention ended (``POST /consent-notifications``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tsunagu.consent import (
    MEDIA_TYPE_CONSENT_REVOCATION,
    MEDIA_TYPE_DELETION_ACK,
    TYP_DELETION_ACK,
    ConsentCertificateInvalid,
    ConsentClientIdMismatch,
    ConsentRevocation,
    ConsentSignatureInvalid,
    ConsentTokenInvalid,
    DeletionAck,
    RevocationEventType,
    build_consent_revocation,
    verify_deletion_ack,
)
from tsunagu.encoding import json_loads
from tsunagu.jose import parse_compact
from tsunagu.errors import TsunaguError
from tsunagu.service.database import utc
from tsunagu.service.http import FetchedDocument
from tsunagu.service.outbox import ABANDONED, DELIVERED, PENDING, new_message_id
from tsunagu.trust import TrustRegistry

from ..errors import InvalidVerifierMessage, VerifierNotAuthenticated, TrustRegistryMissing, UnknownConsent
from ..settings import WalletSettings
from ..tables import WalletConsent, WalletDeletionAck, WalletEvent, WalletOutbox
from . import history
from .receipts import receipt_key

__all__ = [
    "UNDELIVERABLE",
    "NotificationState",
    "enqueue_revocation",
    "pending_ids",
    "accept_ack",
    "record_abandon",
    "receive_ack",
    "notification_states",
    "latest_acks",
]

#: The consent view's word for an event the wallet could not address (no notification URI registered).
UNDELIVERABLE = "undeliverable"
#: Bounds of the stored identifiers (``wallet_deletion_ack.jti`` / ``event_jti``).
_MAX_JTI, _MAX_EVENT_JTI = 255, 64


@dataclass(frozen=True, slots=True)
class NotificationState:
    """What became of the latest event owed to the verifier for one consent."""

    status: str  # pending | delivered | abandoned | undeliverable
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


def _verifier_name(row: WalletConsent) -> dict[str, str]:
    return {"en": row.verifier_name_en, "ja": row.verifier_name_ja}


def enqueue_revocation(session: Session, settings: WalletSettings, registry: TrustRegistry | None,
                       row: WalletConsent, event: str, *, now: datetime) -> WalletOutbox | None:
    """Owe the verifier the event ``event`` (``revoked``/``expired``) for ``row``; the caller commits.

    Call in the transaction that changed the status, after the UPDATE (which holds the row): the use
    count read here is then final. ``None``: nothing to send (never used) or nowhere to send it (logged).
    Requires the receipt key to exist already (``receipt_key`` commits when it makes one).
    """
    used = session.exec(select(WalletConsent.use_count).where(col(WalletConsent.id) == row.id)).one()
    if used <= 0:
        return None
    entry = registry.find_verifier(row.client_id) if registry is not None else None
    target = entry.consent_notification_uri if entry is not None else None
    if target is None:
        history.record_event(session, row.resident_id, history.NOTIFICATION_UNDELIVERABLE, client_id=row.client_id,
                             now=now, details={
                                 "consent_id": row.id, "client_id": row.client_id, "event": event,
                                 "verifier_name": _verifier_name(row),
                                 "reason": "the trust registry gives this verifier no address for consent "
                                           "notifications; it could not be told to delete your data"})
        return None
    jti = new_message_id()
    token = build_consent_revocation(
        ConsentRevocation(consent_id=row.id, wallet=settings.public_url, client_id=row.client_id,
                          event=cast(RevocationEventType, event), issued_at=now.replace(microsecond=0), jti=jti),
        receipt_key(session, settings, now=now))
    message = WalletOutbox(id=new_message_id(), target_uri=target, media_type=MEDIA_TYPE_CONSENT_REVOCATION,
                           body=token, created_at=utc(now), next_attempt_at=utc(now), resident_id=row.resident_id,
                           consent_id=row.id, client_id=row.client_id, event=event, event_jti=jti)
    session.add(message)
    return message


def pending_ids(session: Session, consent_id: str) -> list[str]:
    """The consent's messages still waiting to be delivered."""
    return list(session.exec(select(WalletOutbox.id).where(col(WalletOutbox.consent_id) == consent_id,
                                                           col(WalletOutbox.status) == PENDING)))


def _store_ack(session: Session, consent: WalletConsent, ack: DeletionAck, token: str, *, now: datetime) -> bool:
    """Keep the acknowledgement and log it; False when one with this ``jti`` is already kept (nothing written)."""
    if session.get(WalletDeletionAck, ack.jti) is not None:
        return False
    session.add(WalletDeletionAck(
        jti=ack.jti, consent_id=consent.id, resident_id=consent.resident_id, client_id=consent.client_id,
        outcome=ack.outcome, legal_basis=ack.legal_basis,
        retain_until=utc(ack.retain_until) if ack.retain_until is not None else None, event_jti=ack.event_jti,
        issued_at=utc(ack.issued_at), received_at=utc(now), token=token))
    history.record_event(session, consent.resident_id, history.DELETION_ACKNOWLEDGED, client_id=consent.client_id,
                         now=now, credential_ids=consent.credential_ids(), details={
                             "consent_id": consent.id, "client_id": consent.client_id,
                             "verifier_name": _verifier_name(consent), "outcome": ack.outcome,
                             "legal_basis": ack.legal_basis,
                             "retain_until": ack.retain_until.isoformat() if ack.retain_until else None,
                             "event_jti": ack.event_jti})
    return True


def accept_ack(session: Session, settings: WalletSettings, registry: TrustRegistry | None, message: WalletOutbox,
               answer: FetchedDocument, *, now: datetime) -> str | None:
    """``tsunagu.service.outbox``'s ``accept``: ``None`` when ``answer`` acknowledges ``message`` (then the
    acknowledgement and the log events are in ``session``), else why not (the delivery is retried)."""
    if answer.content_type != MEDIA_TYPE_DELETION_ACK:
        return f"the verifier answered {answer.content_type or 'untyped'}, not a deletion acknowledgement"
    if registry is None:
        return "the wallet has no trust registry to check the acknowledgement with"
    consent = session.get(WalletConsent, message.consent_id)
    if consent is None:
        return "the consent is gone"
    try:
        token = answer.body.decode("ascii").strip()
        ack = verify_deletion_ack(token, trust_anchor=registry.root_certificate, expected_client_id=message.client_id,
                                  expected_aud=settings.public_url, now=now,
                                  clock_skew=timedelta(seconds=settings.clock_skew_seconds))
    except UnicodeDecodeError:
        return "the acknowledgement is not a compact JWS"
    except TsunaguError as exc:
        return f"the acknowledgement is not acceptable: {exc.reason}"
    if len(ack.jti) > _MAX_JTI:
        return f"the acknowledgement's jti is longer than {_MAX_JTI} characters"
    if ack.consent_id != message.consent_id:
        return f"the acknowledgement names the consent {ack.consent_id!r}, not {message.consent_id!r}"
    if ack.event_jti != message.event_jti:
        return f"the acknowledgement answers the event {ack.event_jti!r}, not {message.event_jti!r}"
    _store_ack(session, consent, ack, token, now=now)
    history.record_event(session, consent.resident_id, history.NOTIFICATION_DELIVERED, client_id=consent.client_id,
                         now=now, details={
                             "consent_id": consent.id, "client_id": consent.client_id,
                             "verifier_name": _verifier_name(consent), "event": message.event,
                             "outcome": ack.outcome, "legal_basis": ack.legal_basis,
                             "retain_until": ack.retain_until.isoformat() if ack.retain_until else None})
    message.answer = token
    return None


def record_abandon(session: Session, message: WalletOutbox, *, now: datetime) -> None:
    """``on_abandon``: the resident learns the verifier was never reached; the caller commits."""
    consent = session.get(WalletConsent, message.consent_id)
    names = _verifier_name(consent) if consent is not None else None
    history.record_event(session, message.resident_id, history.NOTIFICATION_ABANDONED, client_id=message.client_id,
                         now=now, details={
                             "consent_id": message.consent_id, "client_id": message.client_id,
                             "verifier_name": names, "event": message.event, "attempts": message.attempts,
                             "last_error": message.last_error})


def receive_ack(session: Session, settings: WalletSettings, registry: TrustRegistry | None, token: str, *,
                now: datetime) -> tuple[DeletionAck, bool]:
    """A verifier's acknowledgement sent on its own (contract 3): verified, kept once per ``jti``, logged.

    Returns the acknowledgement and whether it was new (False: a repeat, already recorded).

    Raises:
        InvalidVerifierMessage (400), VerifierNotAuthenticated (401), UnknownConsent (404), TrustRegistryMissing.
    """
    if registry is None:
        raise TrustRegistryMissing("this wallet has no trust registry configured; it cannot check the verifier")
    try:
        client_id = parse_compact(token, typ=TYP_DELETION_ACK).payload.get("client_id")
    except TsunaguError as exc:
        raise InvalidVerifierMessage(f"the acknowledgement is not a compact JWS: {exc.reason}") from None
    if not isinstance(client_id, str) or not client_id:
        raise InvalidVerifierMessage("the acknowledgement names no client_id")
    try:
        ack = verify_deletion_ack(token, trust_anchor=registry.root_certificate, expected_client_id=client_id,
                                  expected_aud=settings.public_url, now=now,
                                  clock_skew=timedelta(seconds=settings.clock_skew_seconds))
    except (ConsentCertificateInvalid, ConsentSignatureInvalid, ConsentClientIdMismatch) as exc:
        raise VerifierNotAuthenticated(exc.reason) from None
    except ConsentTokenInvalid as exc:
        raise InvalidVerifierMessage(exc.reason) from None
    if len(ack.jti) > _MAX_JTI or (ack.event_jti is not None and len(ack.event_jti) > _MAX_EVENT_JTI):
        raise InvalidVerifierMessage("the acknowledgement's jti or event_jti is too long")
    consent = session.get(WalletConsent, ack.consent_id)
    if consent is None or consent.client_id != ack.client_id:
        # Another verifier's consent is as unknown as one that does not exist.
        raise UnknownConsent("this wallet holds no consent with that id given to this client")
    try:
        new = _store_ack(session, consent, ack, token, now=now)
        session.commit()
    except IntegrityError:  # the same jti recorded by another worker just now
        session.rollback()
        new = False
    return ack, new


def notification_states(session: Session, resident_id: str, consents: list[WalletConsent]
                        ) -> dict[str, NotificationState | None]:
    """Consent id → the latest event owed to its verifier (``None``: nothing was owed)."""
    out: dict[str, NotificationState | None] = {row.id: None for row in consents}
    ids = list(out)
    if not ids:
        return out
    for message in session.exec(select(WalletOutbox).where(col(WalletOutbox.resident_id) == resident_id,
                                                           col(WalletOutbox.consent_id).in_(ids))
                                .order_by(col(WalletOutbox.created_at))):
        out[message.consent_id] = NotificationState(
            status=message.status if message.status in (PENDING, DELIVERED, ABANDONED) else PENDING,
            attempts=message.attempts, last_error=message.last_error,
            delivered_at=utc(message.delivered_at) if message.delivered_at else None)
    by_client = {row.client_id for row in consents}
    for event in session.exec(select(WalletEvent).where(
            col(WalletEvent.resident_id) == resident_id, col(WalletEvent.kind) == history.NOTIFICATION_UNDELIVERABLE,
            col(WalletEvent.client_id).in_(list(by_client)))):
        consent_id = json_loads(event.details).get("consent_id")
        if consent_id in out and out[consent_id] is None:
            out[consent_id] = NotificationState(status=UNDELIVERABLE)
    return out


def latest_acks(session: Session, resident_id: str, consent_ids: list[str]) -> dict[str, WalletDeletionAck | None]:
    """Consent id → the latest acknowledgement received for it (``None``: none yet)."""
    out: dict[str, WalletDeletionAck | None] = {cid: None for cid in consent_ids}
    if not consent_ids:
        return out
    for ack in session.exec(select(WalletDeletionAck).where(col(WalletDeletionAck.resident_id) == resident_id,
                                                            col(WalletDeletionAck.consent_id).in_(consent_ids))
                            .order_by(col(WalletDeletionAck.received_at), col(WalletDeletionAck.issued_at))):
        out[ack.consent_id] = ack
    return out
