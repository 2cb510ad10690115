"""Times as the wallet stores them: aware UTC in, aware UTC out (SQLite returns naive values)."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["utc", "aware"]


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC, for storing and for comparing with stored values (naive is taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def aware(stored: datetime) -> datetime:
    return utc(stored)
