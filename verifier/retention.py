"""Retention end: received claims are deleted when their ``retain_until`` passes, and the wallet is told.

Two periodic jobs (``tsunagu.service.schedule``, inside the app's lifespan; tests call one run directly):

- :func:`sweep_once` (every ``retention_sweep_seconds``) empties each request whose ``retain_until``
  has passed (``deleted_at``, ``deletion_reason`` "retention ended"). When that leaves nothing held
  under a consent, and the wallet has not itself ended the consent (a revocation event, answered
  with its own acknowledgement), a signed deletion acknowledgement (``consent-deletion-ack+jwt``,
  no ``event_jti``) is written to ``verifier_outbox`` in the same transaction as the deletion, and
  a first delivery is tried at once.
- :func:`deliver_once` (every ``ack_retry_seconds``) posts due acknowledgements to the receipt's
  ``notification_uri`` with ``tsunagu.service.outbox.deliver_due``: delivered when the wallet answers
  2xx JSON with ``"recorded": true``, else retried with backoff until ``ack_give_up_days``.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

import anyio
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tsunagu.consent import MEDIA_TYPE_DELETION_ACK, DeletionAck, build_deletion_ack
from tsunagu.service.database import utc
from tsunagu.service.http import FetchedDocument
from tsunagu.service.outbox import DeliveryReport, RetryPolicy, deliver_due, new_message_id
from tsunagu.service.schedule import install_periodic_job

from .services.refreshes import receipt_claim, same_origin_uri
from .services.tenants import get_tenant
from .settings import VerifierSettings
from .tables import VerifierConsentNotice, VerifierConsentReceipt, VerifierOutbox, VerifierRequest

__all__ = ["RETENTION_ENDED", "sweep_once", "deliver_once", "retry_policy", "install_retention_jobs"]

log = logging.getLogger("verifier.retention")

RETENTION_ENDED = "retention ended"


async def sweep_once(app: FastAPI) -> int:
    """One run: delete what is past its ``retain_until``, and try at once to deliver the acknowledgements
    this queued (a failed attempt waits for :func:`deliver_once`); how many requests were emptied."""
    now: datetime = app.state.clock()
    emptied, queued = await anyio.to_thread.run_sync(_sweep, app, now)
    if queued:
        await _deliver(app, now, ids=queued)
    return emptied


def _sweep(app: FastAPI, now: datetime) -> tuple[int, list[str]]:
    settings: VerifierSettings = app.state.settings
    with Session(app.state.engine) as session:
        due = list(session.exec(select(VerifierRequest.id).where(
            col(VerifierRequest.sealed_claims).is_not(None), col(VerifierRequest.retain_until) <= utc(now))))
        if not due:
            return 0, []
        emptied = session.execute(
            update(VerifierRequest)
            # Conditional: a request emptied meanwhile (a revocation) keeps its own reason.
            .where(col(VerifierRequest.id).in_(due), col(VerifierRequest.sealed_claims).is_not(None))
            .values(sealed_claims=None, deleted_at=utc(now), deletion_reason=RETENTION_ENDED)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        consents = set(session.exec(select(VerifierConsentReceipt.tenant, VerifierConsentReceipt.consent_id)
                                    .where(col(VerifierConsentReceipt.request_id).in_(due))))
        queued = [ack for tenant, consent_id in sorted(consents)
                  if (ack := _enqueue_ack(session, settings, tenant, consent_id, now=now)) is not None]
        try:
            session.commit()
        except IntegrityError:
            # Another worker swept the same consent at the same moment and queued its ack; the next run redoes ours.
            session.rollback()
            log.info("retention sweep: lost a race with another worker; retried next run")
            return 0, []
    if emptied:
        log.info("retention sweep: deleted the claims of %d requests, %d acknowledgements queued", emptied,
                 len(queued))
    return int(emptied), queued


def _ack_id(tenant: str, consent_id: str) -> str:
    # One retention acknowledgement per consent, whichever worker writes it (the primary key refuses a second).
    return hashlib.sha256(f"retention-ack\0{tenant}\0{consent_id}".encode()).hexdigest()


def _enqueue_ack(session: Session, settings: VerifierSettings, tenant: str, consent_id: str, *,
                 now: datetime) -> str | None:
    """Queue the acknowledgement when nothing is held under the consent any more; its outbox id."""
    receipts = list(session.exec(select(VerifierConsentReceipt).where(
        VerifierConsentReceipt.tenant == tenant, VerifierConsentReceipt.consent_id == consent_id)
        .order_by(col(VerifierConsentReceipt.received_at))))
    held = session.exec(select(VerifierRequest.id).where(
        col(VerifierRequest.id).in_([r.request_id for r in receipts]),
        col(VerifierRequest.sealed_claims).is_not(None))).first()
    if held is not None:
        return None
    revoked = session.exec(select(VerifierConsentNotice.jti).where(
        VerifierConsentNotice.tenant == tenant, VerifierConsentNotice.consent_id == consent_id)).first()
    if revoked is not None or session.get(VerifierOutbox, _ack_id(tenant, consent_id)) is not None:
        return None  # the wallet ended it and was answered, or the ack is already queued
    first = receipts[0]
    target = same_origin_uri(receipt_claim(first, "notification_uri"), first.wallet)
    if target is None:
        # An acknowledgement must not be aimed anywhere a receipt names: only at the wallet that signed it.
        log.warning("retention sweep: consent %s of %s names no notification_uri on its wallet's origin %s; "
                    "no acknowledgement sent", consent_id, tenant, first.wallet)
        return None
    hosted = get_tenant(session, settings, tenant)
    ack = build_deletion_ack(DeletionAck(consent_id=consent_id, client_id=hosted.client_id, wallet=first.wallet,
                                         outcome="deleted", issued_at=now, jti=new_message_id()),
                             hosted.key, x5c=hosted.x5c)
    message_id = _ack_id(tenant, consent_id)
    session.add(VerifierOutbox(id=message_id, target_uri=target, media_type=MEDIA_TYPE_DELETION_ACK, body=ack,
                               created_at=utc(now), next_attempt_at=utc(now), tenant=tenant, consent_id=consent_id))
    return message_id


def retry_policy(settings: VerifierSettings) -> RetryPolicy:
    return RetryPolicy(base_seconds=settings.ack_backoff_base_seconds, max_seconds=settings.ack_backoff_max_seconds,
                       give_up_after=timedelta(days=settings.ack_give_up_days),
                       lease_seconds=max(120.0, settings.http_timeout_seconds * 4))


def _accept(_session: Session, _row: VerifierOutbox, answer: FetchedDocument) -> str | None:
    body = answer.json()
    if not isinstance(body, dict) or body.get("recorded") is not True:
        return "the wallet's answer does not say the acknowledgement was recorded"
    return None


async def deliver_once(app: FastAPI) -> DeliveryReport:
    """One run: post every due acknowledgement."""
    return await _deliver(app, app.state.clock())


async def _deliver(app: FastAPI, now: datetime, ids: list[str] | None = None) -> DeliveryReport:
    settings: VerifierSettings = app.state.settings
    return await deliver_due(app.state.engine, VerifierOutbox, app.state.http, now=now, accept=_accept,
                             policy=retry_policy(settings), timeout=settings.http_timeout_seconds, ids=ids)


def install_retention_jobs(app: FastAPI, settings: VerifierSettings) -> None:
    """The sweep and the delivery, each on its own interval (0: not in this process)."""
    install_periodic_job(app, sweep_once, interval=settings.retention_sweep_seconds, name="retention sweep")
    install_periodic_job(app, deliver_once, interval=settings.ack_retry_seconds, name="deletion ack delivery")
