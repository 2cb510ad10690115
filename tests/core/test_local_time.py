"""Dates in sentences are Japan's: the same moment reads the same wherever the service runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tsunagu.local_time import japan_date, japan_date_ja, japan_time, japan_time_ja

LATE_EVENING_UTC = datetime(2026, 11, 23, 23, 30, 5, tzinfo=timezone.utc)


def test_late_evening_in_utc_is_the_next_morning_in_japan_with_the_zone_named() -> None:
    assert japan_date(LATE_EVENING_UTC) == "2026-11-24"
    assert japan_date_ja(LATE_EVENING_UTC) == "2026年11月24日"
    assert japan_time(LATE_EVENING_UTC) == "2026-11-24 08:30 JST"
    assert japan_time(LATE_EVENING_UTC, seconds=True) == "2026-11-24 08:30:05 JST"
    assert japan_time_ja(LATE_EVENING_UTC) == "2026年11月24日 08:30（日本時間）"


def test_a_naive_time_is_read_as_utc_as_the_databases_store_it_whatever_the_machines_zone() -> None:
    naive = LATE_EVENING_UTC.replace(tzinfo=None)
    assert japan_time(naive) == japan_time(LATE_EVENING_UTC)
    elsewhere = LATE_EVENING_UTC.astimezone(timezone(timedelta(hours=-5)))
    assert japan_date(elsewhere) == "2026-11-24"
