"""The durable outbox (tsunagu/service/outbox.py): a message is delivered once acknowledged, retried with
backoff while the receiver is down, survives a restart, is never posted by two workers at once, and is
given up (and said so) only after ``give_up_after``. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import httpx
import pytest
from sqlmodel import Field, Session, SQLModel, select

from tsunagu.service.database import create_db_engine, create_tables, utc
from tsunagu.service.http import FetchedDocument
from tsunagu.service.outbox import (
    ABANDONED,
    DELIVERED,
    PENDING,
    OutboxMessage,
    RetryPolicy,
    deliver_due,
    new_message_id,
    retry_delay,
)

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
TARGET = "https://verifier.test/landlord/consent-notifications"
POLICY = RetryPolicy(base_seconds=5, max_seconds=60, give_up_after=timedelta(days=1), lease_seconds=30)


class KitTestOutbox(OutboxMessage, table=True):
    __tablename__ = "kittest_outbox"

    consent_id: str


class KitTestReceipt(SQLModel, table=True):
    """What ``accept`` writes: proof the side effects commit with the delivery, or not at all."""

    __tablename__ = "kittest_receipt"

    message_id: str = Field(primary_key=True)
    answer: str


class Receiver:
    """The other service: up or down, and what it answers."""

    def __init__(self) -> None:
        self.up = True
        self.answer = b"ack"
        self.posts: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        self.posts.append(request)
        await anyio.sleep(0)  # let a concurrent worker run while this one waits for the answer
        return httpx.Response(200, stream=httpx.ByteStream(self.answer), headers={"Content-Type": "application/test+jwt"})


def accept(session: Session, row: KitTestOutbox, answer: FetchedDocument) -> str | None:
    session.add(KitTestReceipt(message_id=row.id, answer=answer.body.decode()))
    return None if answer.body == b"ack" else f"not an acknowledgement: {answer.body!r}"


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_db_engine(database_url)
    create_tables(engine, [KitTestOutbox, KitTestReceipt])
    yield engine
    engine.dispose()


def enqueue(engine, *, at: datetime = NOW) -> str:  # type: ignore[no-untyped-def]
    message_id = new_message_id()
    with Session(engine) as session:
        session.add(KitTestOutbox(id=message_id, target_uri=TARGET, media_type="application/test+jwt", body="event",
                                  created_at=utc(at), next_attempt_at=utc(at), consent_id="c1"))
        session.commit()
    return message_id


def stored(engine, message_id: str) -> KitTestOutbox:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        row = session.get(KitTestOutbox, message_id)
        assert row is not None
        return row


def receipts(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [r.message_id for r in session.exec(select(KitTestReceipt))]


async def deliver(engine, receiver: Receiver, now: datetime, **kwargs):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        return await deliver_due(engine, KitTestOutbox, http, now=now, accept=accept, policy=POLICY, **kwargs)


def test_the_delay_doubles_and_is_capped() -> None:
    assert [retry_delay(n, POLICY).total_seconds() for n in (1, 2, 3, 4, 5, 100)] == [5, 10, 20, 40, 60, 60]


async def test_an_acknowledged_message_is_delivered_with_what_the_answer_means(engine) -> None:  # type: ignore[no-untyped-def]
    message_id = enqueue(engine)
    receiver = Receiver()
    report = await deliver(engine, receiver, NOW)
    assert report.delivered == (message_id,)
    row = stored(engine, message_id)
    assert (row.status, row.attempts, row.last_error) == (DELIVERED, 1, None)
    assert receipts(engine) == [message_id]
    posted = receiver.posts[0]
    assert (str(posted.url), posted.headers["content-type"], posted.content) == (TARGET, "application/test+jwt",
                                                                                 b"event")
    # Delivered means done: the next run posts nothing.
    await deliver(engine, receiver, NOW + timedelta(hours=1))
    assert len(receiver.posts) == 1


async def test_a_receiver_that_is_down_is_retried_with_backoff_until_it_answers(engine) -> None:  # type: ignore[no-untyped-def]
    message_id = enqueue(engine)
    receiver = Receiver()
    receiver.up = False
    await deliver(engine, receiver, NOW)
    row = stored(engine, message_id)
    assert (row.status, row.attempts) == (PENDING, 1)
    assert "could not be reached" in (row.last_error or "")
    assert utc(row.next_attempt_at) == NOW + timedelta(seconds=5)
    # Not before its time ...
    assert (await deliver(engine, receiver, NOW + timedelta(seconds=4))).failed == ()
    # ... then again, waiting twice as long after the second failure.
    await deliver(engine, receiver, NOW + timedelta(seconds=5))
    assert utc(stored(engine, message_id).next_attempt_at) == NOW + timedelta(seconds=15)
    receiver.up = True
    report = await deliver(engine, receiver, NOW + timedelta(seconds=15))
    assert report.delivered == (message_id,)
    assert (stored(engine, message_id).status, stored(engine, message_id).attempts) == (DELIVERED, 3)


async def test_an_answer_that_is_no_acknowledgement_keeps_nothing_and_is_retried(engine) -> None:  # type: ignore[no-untyped-def]
    message_id = enqueue(engine)
    receiver = Receiver()
    receiver.answer = b"forged"
    report = await deliver(engine, receiver, NOW)
    assert report.failed == (message_id,)
    assert receipts(engine) == []  # accept's writes went with the failed attempt
    assert "not an acknowledgement" in (stored(engine, message_id).last_error or "")
    receiver.answer = b"ack"
    assert (await deliver(engine, receiver, NOW + timedelta(seconds=5))).delivered == (message_id,)


async def test_a_message_survives_a_restart(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    message_id = enqueue(engine)
    receiver = Receiver()
    receiver.up = False
    await deliver(engine, receiver, NOW)
    engine.dispose()  # the service stops
    restarted = create_db_engine(database_url)
    try:
        receiver.up = True
        report = await deliver(restarted, receiver, NOW + timedelta(minutes=1))
        assert report.delivered == (message_id,)
    finally:
        restarted.dispose()


async def test_two_workers_never_post_the_same_message(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    ids = {enqueue(engine) for _ in range(5)}
    other = create_db_engine(database_url)  # another process's connections
    receiver = Receiver()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(deliver, engine, receiver, NOW)
            group.start_soon(deliver, other, receiver, NOW)
    finally:
        other.dispose()
    assert sorted(r.content for r in receiver.posts) == [b"event"] * 5
    assert all(stored(engine, i).attempts == 1 and stored(engine, i).status == DELIVERED for i in ids)


async def test_a_message_is_given_up_only_after_its_time_and_the_service_is_told(engine) -> None:  # type: ignore[no-untyped-def]
    message_id = enqueue(engine)
    receiver = Receiver()
    receiver.up = False
    told: list[str] = []
    await deliver(engine, receiver, NOW + timedelta(hours=23), on_abandon=lambda s, row: told.append(row.id))
    assert stored(engine, message_id).status == PENDING and told == []
    report = await deliver(engine, receiver, NOW + timedelta(days=1), on_abandon=lambda s, row: told.append(row.id))
    assert report.abandoned == (message_id,) and told == [message_id]
    assert stored(engine, message_id).status == ABANDONED
    receiver.up = True
    await deliver(engine, receiver, NOW + timedelta(days=2))
    assert receiver.posts == []


async def test_only_the_named_messages_are_tried_when_asked(engine) -> None:  # type: ignore[no-untyped-def]
    first, second = enqueue(engine), enqueue(engine)
    receiver = Receiver()
    report = await deliver(engine, receiver, NOW, ids=[second])
    assert report.delivered == (second,)
    assert stored(engine, first).status == PENDING
