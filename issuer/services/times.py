"""Times as the database keeps them: aware, in UTC.

SQLModel's datetime columns refuse naive values and return aware UTC ones on every backend
(SQLite stores UTC without an offset); converting on the way in keeps stored values comparable
as text on SQLite and as ``timestamptz`` on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["db_time", "aware"]


def db_time(moment: datetime) -> datetime:
    """``moment`` in UTC, for storing and for comparing with stored values (a naive value is taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def aware(stored: datetime) -> datetime:
    """A stored time as an aware UTC datetime."""
    return db_time(stored)
