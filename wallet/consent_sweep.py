"""The scheduled consent expiry: every ``consent_sweep_seconds``, consents past their end become ``expired``.

Started by the app's lifespan (never at import) and stopped with it. One run is :func:`sweep_once`,
which tests call directly. A run that fails (the database is down) is logged and the next one is
tried as scheduled. Expiry does not wait for the sweep to matter: a presentation under a consent
past its ``expires_at`` is refused by ``use_consent`` itself; the sweep makes the status and the
resident's log say so.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from sqlmodel import Session

from .services.consents import sweep_expired

__all__ = ["sweep_once", "install_consent_sweep"]

log = logging.getLogger("wallet.consent_sweep")


def sweep_once(app: FastAPI) -> int:
    """One run over every resident's consents: how many expired."""
    with Session(app.state.engine) as session:
        moved = sweep_expired(session, now=app.state.clock())
    if moved:
        log.info("consent sweep: %d consents expired", moved)
    return moved


async def _run(app: FastAPI, interval: float) -> None:
    while True:
        await anyio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(sweep_once, app)
        except Exception:  # a bug or an outage: logged, and the schedule goes on
            log.exception("the scheduled consent sweep failed; it runs again in %s seconds", interval)


def install_consent_sweep(app: FastAPI, interval: float) -> None:
    """Run the sweep every ``interval`` seconds while the app serves; ``interval`` 0: never."""
    if interval <= 0:
        return
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        async with serve(served):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_run, app, interval)
                yield
                tasks.cancel_scope.cancel()

    app.router.lifespan_context = lifespan
