"""One database engine per service: SQLite (WAL, one file per service) by default, PostgreSQL to scale out.

Every state that must hold across workers (one-time codes, nonces, consent state) is in the
database, so several workers of one service over one PostgreSQL behave like one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, Table, event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

__all__ = ["create_db_engine", "create_tables", "table_of", "get_session", "SessionDep", "is_sqlite", "utc"]

#: How long a writer waits for SQLite's lock before giving up (another worker is writing).
_SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, creates the file's directory and turns on WAL.

    WAL lets readers proceed while one writer commits, and ``busy_timeout`` makes a second
    writer wait instead of failing at once with "database is locked".
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_tables(bind: Engine | Connection, tables: Sequence[type[SQLModel]]) -> None:
    """Create these tables only (the three services share ``SQLModel.metadata`` in one process).

    Services do not call this at start: ``schema.migrate`` does, for an empty database.
    """
    SQLModel.metadata.create_all(bind, tables=[table_of(model) for model in tables])


def table_of(model: type[SQLModel]) -> Table:
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a SQLModel table (table=True)")
    return table


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime, for storing and for comparing with stored values.

    SQLite gives stored times back without an offset (they were stored as UTC); PostgreSQL gives
    them with one. Passing every time through here on the way in and out makes both the same.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
