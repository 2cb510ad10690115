"""Dates and times in sentences people read are Japan time.

Residents, issuers and verifiers are all in Japan (UTC+9, no daylight saving time): a revocation
published at 23:30 UTC on the 20th happened on the 21st for the resident, the employer and the
landlord alike, and the wallet and the verifier must say the same date. Stored and API times stay
UTC (ISO 8601 with offset); only words use these. A time of day always names its zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Final

__all__ = ["JAPAN", "in_japan", "japan_date", "japan_date_ja", "japan_time", "japan_time_ja"]

JAPAN: Final = timezone(timedelta(hours=9), "JST")


def in_japan(moment: datetime) -> datetime:
    """``moment`` on Japan's clock; a naive time is UTC, as the databases give stored times back."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)).astimezone(JAPAN)


def japan_date(moment: datetime) -> str:
    """``2026-11-21``"""
    return in_japan(moment).date().isoformat()


def japan_date_ja(moment: datetime) -> str:
    """``2026年11月21日``"""
    day = in_japan(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def japan_time(moment: datetime, *, seconds: bool = False) -> str:
    """``2026-11-21 08:30 JST`` (``08:30:00`` with ``seconds``)."""
    return f"{in_japan(moment):%Y-%m-%d %H:%M{':%S' if seconds else ''}} JST"


def japan_time_ja(moment: datetime, *, seconds: bool = False) -> str:
    """``2026年11月21日 08:30（日本時間）``"""
    local = in_japan(moment)
    return f"{japan_date_ja(local)} {local:%H:%M{':%S' if seconds else ''}}（日本時間）"
