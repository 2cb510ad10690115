"""Delivering revocation/expiry events to verifiers: every ``notification_retry_seconds``, and at once after a revoke.

The events wait in ``wallet_outbox`` (written with the status change, ``services/notifying.py``);
one run is :func:`deliver_once`, which hands them to ``tsunagu.service.outbox.deliver_due``: a
verifier that is down, answers an error or an acknowledgement that does not check out is simply
tried again later (backoff doubling from ``notification_backoff_base_seconds`` up to
``notification_backoff_max_seconds``), until ``notification_give_up_days`` have passed, when the
resident's log says the verifier could never be told. The rows survive restarts: a new app on the
same database picks them up. Scheduled like the consent sweep (``tsunagu.service.schedule``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from fastapi import FastAPI
from sqlmodel import Session

from tsunagu.service.http import FetchedDocument
from tsunagu.service.outbox import DeliveryReport, RetryPolicy, deliver_due
from tsunagu.service.schedule import install_periodic_job

from .services.notifying import accept_ack, record_abandon
from .settings import WalletSettings
from .tables import WalletOutbox

__all__ = ["deliver_once", "deliver_soon", "retry_policy", "install_notifications"]

log = logging.getLogger("wallet.notifications")


def retry_policy(settings: WalletSettings) -> RetryPolicy:
    return RetryPolicy(base_seconds=settings.notification_backoff_base_seconds,
                       max_seconds=settings.notification_backoff_max_seconds,
                       give_up_after=timedelta(days=settings.notification_give_up_days),
                       lease_seconds=max(120.0, settings.http_timeout_seconds * 2))


async def deliver_once(app: FastAPI, ids: Sequence[str] | None = None) -> DeliveryReport:
    """One delivery run over every due event (or only ``ids`` among them): what became of each."""
    settings: WalletSettings = app.state.settings
    now = app.state.clock()

    def accept(session: Session, message: WalletOutbox, answer: FetchedDocument) -> str | None:
        return accept_ack(session, settings, app.state.registry, message, answer, now=now)

    def on_abandon(session: Session, message: WalletOutbox) -> None:
        record_abandon(session, message, now=now)

    report = await deliver_due(app.state.engine, WalletOutbox, app.state.http, now=now, accept=accept,
                               policy=retry_policy(settings), timeout=settings.http_timeout_seconds,
                               on_abandon=on_abandon, ids=ids)
    if report.delivered or report.abandoned:
        log.info("notifications: %d delivered, %d abandoned, %d to retry", len(report.delivered),
                 len(report.abandoned), len(report.failed))
    return report


async def deliver_soon(app: FastAPI, ids: Sequence[str]) -> None:
    """Right after a revoke (a background task): try its event now. Whatever goes wrong is one failed
    attempt at most; the schedule retries it, so nothing is raised into the request that scheduled it."""
    try:
        await deliver_once(app, ids)
    except Exception:
        log.exception("notifications: the immediate delivery of %s failed; the schedule retries it", list(ids))


async def _run(app: FastAPI) -> DeliveryReport:
    return await deliver_once(app)


def install_notifications(app: FastAPI, interval: float) -> None:
    """Deliver due events every ``interval`` seconds while the app serves; ``interval`` 0: never."""
    install_periodic_job(app, _run, interval=interval, name="consent notifications")
