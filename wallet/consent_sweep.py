"""The scheduled consent expiry: every ``consent_sweep_seconds``, consents past their end become ``expired``.

Scheduled with ``tsunagu.service.schedule`` (inside the app's lifespan, never at import; a failed
run is logged and the next one tried). One run is :func:`sweep_once`, which tests call directly.
Expiry does not wait for the sweep to matter: a presentation under a consent past its
``expires_at`` is refused by ``use_consent`` itself; the sweep makes the status and the resident's
log say so. A consent used at least once leaves an ``expired`` event for its verifier, delivered by
``notifications.py``.
"""

from __future__ import annotations

import logging

import anyio
from fastapi import FastAPI
from sqlmodel import Session

from tsunagu.service.schedule import install_periodic_job

from .services.consents import sweep_expired

__all__ = ["sweep_once", "install_consent_sweep"]

log = logging.getLogger("wallet.consent_sweep")


def sweep_once(app: FastAPI) -> int:
    """One run over every resident's consents: how many expired."""
    with Session(app.state.engine) as session:
        moved = sweep_expired(session, app.state.settings, app.state.registry, now=app.state.clock())
    if moved:
        log.info("consent sweep: %d consents expired", moved)
    return moved


async def _sweep(app: FastAPI) -> int:
    return await anyio.to_thread.run_sync(sweep_once, app)


def install_consent_sweep(app: FastAPI, interval: float) -> None:
    """Run the sweep every ``interval`` seconds while the app serves; ``interval`` 0: never."""
    install_periodic_job(app, _sweep, interval=interval, name="consent sweep")
