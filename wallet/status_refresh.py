"""The scheduled status refresh: every ``status_refresh_seconds``, every held credential is checked.

Started by the app's lifespan (never at import) and stopped with it. One run is
:func:`refresh_once`, which tests call directly instead of waiting. A run that fails as a whole
(the database is down) is logged and the next one is tried as scheduled: a refresh that stopped
for good would leave residents shown "valid" for credentials long revoked. One issuer that
cannot be reached does not stop the others (``services.status.refresh_statuses``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from sqlmodel import Session

from .services.status import RefreshReport, refresh_all
from .settings import WalletSettings

__all__ = ["refresh_once", "run_status_refresh", "install_status_refresh"]

log = logging.getLogger("wallet.status_refresh")


async def refresh_once(app: FastAPI) -> RefreshReport:
    """One run of the scheduled refresh, over every resident's credentials."""
    settings: WalletSettings = app.state.settings
    with Session(app.state.engine) as session:
        report = await refresh_all(session, settings, app.state.issuer_documents, now=app.state.clock())
    log.info("status refresh: %d checked, %d could not be checked, %d changed", report.checked, report.failed,
             len(report.changed))
    return report


async def run_status_refresh(app: FastAPI, interval: float) -> None:
    """Refresh every ``interval`` seconds, until cancelled."""
    while True:
        await anyio.sleep(interval)
        try:
            await refresh_once(app)
        except Exception:  # a bug or an outage: logged, and the schedule goes on
            log.exception("the scheduled status refresh failed; it runs again in %s seconds", interval)


def install_status_refresh(app: FastAPI, interval: float) -> None:
    """Run :func:`run_status_refresh` while the app serves (inside its lifespan); ``interval`` 0: never."""
    if interval <= 0:
        return
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        async with serve(served):  # the engine and client live until the refresh has stopped
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(run_status_refresh, app, interval)
                yield
                tasks.cancel_scope.cancel()

    app.router.lifespan_context = lifespan
