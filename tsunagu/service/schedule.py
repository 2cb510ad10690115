"""Periodic jobs that live inside a service's lifespan: started when it serves, stopped with it.

Nothing runs at import or in ``create_app``; the job starts once the app's own lifespan (engine,
outbound client) is up and is cancelled before that lifespan ends. A run that fails is logged and
the next one is tried as scheduled: a job that stopped for good (a status refresh, a consent
expiry sweep) would quietly leave residents shown stale states.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

__all__ = ["Job", "install_periodic_job"]

log = logging.getLogger("tsunagu.service.schedule")

#: One run of a job; the app gives it the engine, clock and settings in ``app.state``.
Job = Callable[[FastAPI], Awaitable[object]]


async def _run_every(app: FastAPI, job: Job, interval: float, name: str) -> None:
    while True:
        await anyio.sleep(interval)
        try:
            await job(app)
        except Exception:  # a bug or an outage: logged, and the schedule goes on
            log.exception("the scheduled %s failed; it runs again in %s seconds", name, interval)


def install_periodic_job(app: FastAPI, job: Job, *, interval: float, name: str) -> None:
    """Run ``job(app)`` every ``interval`` seconds while the app serves; ``interval`` 0 (or less): never."""
    if interval <= 0:
        return
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        async with serve(served):  # the engine and client live until the job has stopped
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_run_every, app, job, interval, name)
                yield
                tasks.cancel_scope.cancel()

    app.router.lifespan_context = lifespan
