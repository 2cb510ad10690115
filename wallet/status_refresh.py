"""The scheduled status refresh: every ``status_refresh_seconds``, every held credential is checked.

Scheduled with ``tsunagu.service.schedule`` (inside the app's lifespan, never at import; a run
that fails as a whole is logged and the next one tried, since a refresh that stopped for good would
leave residents shown "valid" for credentials long revoked). One run is :func:`refresh_once`, which
tests call directly instead of waiting. One issuer that cannot be reached does not stop the others
(``services.status.refresh_statuses``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlmodel import Session

from tsunagu.service.schedule import install_periodic_job

from .services.status import RefreshReport, refresh_all
from .settings import WalletSettings

__all__ = ["refresh_once", "install_status_refresh"]

log = logging.getLogger("wallet.status_refresh")


async def refresh_once(app: FastAPI) -> RefreshReport:
    """One run of the scheduled refresh, over every resident's credentials."""
    settings: WalletSettings = app.state.settings
    with Session(app.state.engine) as session:
        report = await refresh_all(session, settings, app.state.issuer_documents, now=app.state.clock())
    log.info("status refresh: %d checked, %d could not be checked, %d changed", report.checked, report.failed,
             len(report.changed))
    return report


def install_status_refresh(app: FastAPI, interval: float) -> None:
    """Run :func:`refresh_once` every ``interval`` seconds while the app serves; ``interval`` 0: never."""
    install_periodic_job(app, refresh_once, interval=interval, name="status refresh")
