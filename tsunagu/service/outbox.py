"""A durable outbox: messages a service must deliver to another, retried with backoff until acknowledged.

A message is a row, written in the transaction of the change it announces (a consent revoked, data
deleted), so it exists exactly when the change does and survives a crash or a restart. Delivery
reads due rows, leases each one (a conditional UPDATE, so two workers never post the same message
at once), POSTs its body and hands the answer to the service's ``accept``, which checks it (a
signed acknowledgement, say) and writes what it means in the same transaction that marks the
message delivered. Anything else (unreachable, an error status, an answer ``accept`` refuses) is a
failed attempt: the message waits ``base * 2**(attempts-1)`` seconds, at most ``max``, and is tried
again, until it is delivered or older than ``give_up_after`` (then ``abandoned``, and the service is
told through ``on_abandon`` so the person concerned learns it).

Each service makes its own table from :class:`OutboxMessage` (``class WalletOutbox(OutboxMessage,
table=True)``), adding the columns that say what a message is about.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

import httpx
from sqlalchemy import DateTime, Text, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from ..errors import TsunaguError
from .database import utc
from .http import FetchedDocument, FetchError, exchange_bounded

__all__ = [
    "PENDING",
    "DELIVERED",
    "ABANDONED",
    "OutboxMessage",
    "RetryPolicy",
    "DeliveryReport",
    "Accept",
    "new_message_id",
    "retry_delay",
    "deliver_due",
]

log = logging.getLogger("tsunagu.outbox")

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
ABANDONED: Final = "abandoned"


class OutboxMessage(SQLModel):
    """The columns every outbox row has (no table of its own)."""

    id: str = Field(primary_key=True, max_length=64)
    target_uri: str = Field(sa_type=Text)
    media_type: str = Field(max_length=100)
    #: What is POSTed, as is (a compact JWS).
    body: str = Field(sa_type=Text)
    #: pending → delivered | abandoned.
    status: str = Field(default=PENDING, max_length=16, index=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    #: A worker posting the message holds it until then; another worker leaves it alone.
    leased_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_attempt_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    #: Why the last attempt failed (``None`` once delivered).
    last_error: str | None = Field(default=None, sa_type=Text)
    delivered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    #: The receiver's answer that acknowledged the message (as far as ``accept`` keeps it).
    answer: str | None = Field(default=None, sa_type=Text)


M = TypeVar("M", bound=OutboxMessage)

#: Checks the receiver's 2xx answer and writes what it means into the session: ``None`` when it
#: acknowledges the message, else why not (the attempt then failed, and nothing written is kept).
Accept = Callable[[Session, M, FetchedDocument], str | None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_seconds: float = 5.0
    max_seconds: float = 3600.0
    give_up_after: timedelta = timedelta(days=30)
    #: How long one worker may hold a message while posting it (longer than the HTTP timeout).
    lease_seconds: float = 120.0


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    abandoned: tuple[str, ...] = ()


def new_message_id() -> str:
    return secrets.token_hex(16)


def retry_delay(attempts: int, policy: RetryPolicy) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: doubling from ``base``, capped at ``max``."""
    exponent = min(max(attempts - 1, 0), 40)  # 2**40 seconds is far past any cap
    return timedelta(seconds=min(policy.base_seconds * 2**exponent, policy.max_seconds))


def _due(session: Session, table: type[M], now: datetime, limit: int, ids: Sequence[str] | None) -> list[str]:
    query = select(table.id).where(
        col(table.status) == PENDING, col(table.next_attempt_at) <= utc(now),
        or_(col(table.leased_until).is_(None), col(table.leased_until) <= utc(now)))
    if ids is not None:
        query = query.where(col(table.id).in_(list(ids)))
    return list(session.exec(query.order_by(col(table.next_attempt_at)).limit(limit)))


def _lease(session: Session, table: type[M], message_id: str, now: datetime, policy: RetryPolicy) -> M | None:
    leased = session.execute(
        update(table)
        .where(col(table.id) == message_id, col(table.status) == PENDING,
               or_(col(table.leased_until).is_(None), col(table.leased_until) <= utc(now)))
        .values(leased_until=utc(now + timedelta(seconds=policy.lease_seconds)))
        .execution_options(synchronize_session=False))
    session.commit()
    if leased.rowcount != 1:  # type: ignore[attr-defined]
        return None  # another worker has it
    return session.get(table, message_id, populate_existing=True)


async def deliver_due(
    engine: Engine, table: type[M], http: httpx.AsyncClient, *, now: datetime, accept: Accept[M],
    policy: RetryPolicy = RetryPolicy(), timeout: float = 10.0, max_answer_bytes: int = 64 * 1024,
    on_abandon: Callable[[Session, M], None] | None = None, limit: int = 100, ids: Sequence[str] | None = None,
) -> DeliveryReport:
    """Try every message due now (or only ``ids`` among them), one at a time; what became of each."""
    delivered: list[str] = []
    failed: list[str] = []
    abandoned: list[str] = []
    with Session(engine) as session:
        for message_id in _due(session, table, now, limit, ids):
            row = _lease(session, table, message_id, now, policy)
            if row is None:
                continue
            if now - utc(row.created_at) >= policy.give_up_after:
                row.status, row.leased_until = ABANDONED, None
                if on_abandon is not None:
                    on_abandon(session, row)
                session.add(row)
                session.commit()
                abandoned.append(row.id)
                log.warning("outbox: gave up on %s to %s after %d attempts", row.id, row.target_uri, row.attempts)
                continue
            problem = await _attempt(session, row, http, accept=accept, timeout=timeout, max_bytes=max_answer_bytes)
            row = session.get(table, message_id)
            assert row is not None
            row.attempts += 1
            row.last_attempt_at, row.leased_until = utc(now), None
            if problem is None:
                row.status, row.delivered_at, row.last_error = DELIVERED, utc(now), None
                delivered.append(row.id)
            else:
                row.last_error = problem
                row.next_attempt_at = utc(now + retry_delay(row.attempts, policy))
                failed.append(row.id)
                log.info("outbox: %s to %s failed (attempt %d): %s", row.id, row.target_uri, row.attempts, problem)
            session.add(row)
            session.commit()
    return DeliveryReport(tuple(delivered), tuple(failed), tuple(abandoned))


async def _attempt(session: Session, row: M, http: httpx.AsyncClient, *, accept: Accept[M], timeout: float,
                   max_bytes: int) -> str | None:
    """One POST and its answer; ``None`` when acknowledged (``accept``'s writes are then in the session)."""
    target, body, media_type = row.target_uri, row.body, row.media_type
    try:
        answer = await exchange_bounded(http, "POST", target, max_bytes=max_bytes, timeout=timeout, content=body,
                                        accept="*/*", headers={"Content-Type": media_type})
    except FetchError as exc:
        return f"not delivered: {exc.reason}"
    if not answer.ok:
        return f"refused with HTTP {answer.status}: {answer.body[:200].decode('utf-8', 'replace')}"
    try:
        problem = accept(session, row, answer)
    except TsunaguError as exc:
        problem = exc.reason
    if problem is not None:
        session.rollback()
    return problem
