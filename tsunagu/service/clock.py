"""The services' clock: read from ``app.state.clock`` so a test can move time without patching."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, Request

__all__ = ["Clock", "ClockDep", "utc_now"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock()


ClockDep = Annotated[datetime, Depends(_now)]
