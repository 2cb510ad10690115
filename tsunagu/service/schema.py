"""Each service's database schema, kept up to date by Alembic migrations when the service starts.

A service's tables are its models (``tables.py``); its migrations are the scripts in its own
``migrations/`` folder, and the version it is at is in its own table (``<service>_schema_version``),
so the three services may even share one database. At start, :func:`migrate`:

- finds the database at the newest version: nothing to do;
- finds it empty: creates the tables from the models and records the newest version (the same
  schema the migrations build, which ``tests/service/test_schema.py`` holds them to);
- finds it at an older version: runs the migrations since, in one transaction where the database
  allows it (PostgreSQL; SQLite's ALTERs go through Alembic's batch mode);
- finds tables but no version (made before migrations existed): records the first version if the
  tables are exactly that version's, and otherwise refuses to start, touching nothing.

Workers starting together take a lock first (PostgreSQL: an advisory lock; SQLite: the write lock),
so one migrates and the others then find the database up to date.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from ..errors import TsunaguError
from .database import create_tables, is_sqlite, table_of

__all__ = ["ServiceSchema", "SchemaError", "Migrated", "migrate", "alembic_config", "schema_differences"]

#: The shared ``env.py`` and revision template; each service's scripts live in its own folder.
_ALEMBIC_HOME: Final = Path(__file__).with_name("alembic_env")


class SchemaError(TsunaguError):
    """The database's schema is not one this version of the service can bring up to date."""

    code = "schema.unknown"


@dataclass(frozen=True)
class ServiceSchema:
    """A service's tables and the folder of migration scripts that build them."""

    service: str
    tables: tuple[type[SQLModel], ...]
    versions: Path

    @property
    def version_table(self) -> str:
        return f"{self.service}_schema_version"

    @property
    def table_names(self) -> frozenset[str]:
        return frozenset(table_of(model).name for model in self.tables)

    def include_object(self, obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        """Alembic's filter: only this service's tables (the services share ``SQLModel.metadata``)."""
        return type_ != "table" or name in self.table_names


@dataclass(frozen=True)
class Migrated:
    """What :func:`migrate` found and did: ``before`` is ``None`` for a database without a version."""

    service: str
    action: Literal["up_to_date", "created", "adopted", "upgraded"]
    before: str | None
    after: str


def alembic_config(schema: ServiceSchema, connection: Connection | None = None) -> Config:
    """An Alembic configuration for ``schema``, without an ``alembic.ini``: ``env.py`` reads ``attributes``."""
    config = Config()
    config.set_main_option("script_location", str(_ALEMBIC_HOME))
    config.set_main_option("version_locations", str(schema.versions))
    config.set_main_option("path_separator", "os")
    config.attributes["schema"] = schema
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=None)
def _scripts(schema: ServiceSchema) -> ScriptDirectory:
    """The service's migration scripts, read once per process (every app a test builds migrates)."""
    return ScriptDirectory.from_config(alembic_config(schema))


def _head(schema: ServiceSchema) -> str:
    head = _scripts(schema).get_current_head()
    if head is None:
        raise SchemaError(f"the {schema.service} service has no migrations in {schema.versions}")
    return head


def _base(schema: ServiceSchema) -> str:
    bases = _scripts(schema).get_bases()
    if len(bases) != 1:
        raise SchemaError(f"the {schema.service} service's migrations must start from one first version, not {bases}")
    return bases[0]


def migrate(engine: Engine, schema: ServiceSchema) -> Migrated:
    """Bring the service's tables to the newest version (see the module's description).

    Raises: SchemaError, when tables exist without a version and differ from the first version.
    """
    head = _head(schema)
    with engine.connect() as connection, _foreign_keys_off_on_sqlite(connection):
        _lock(connection, schema)
        context = _context(connection, schema)
        current = context.get_current_revision()
        if current == head:
            connection.rollback()
            return Migrated(schema.service, "up_to_date", current, head)
        action: Literal["created", "adopted", "upgraded"]
        if current is None:
            action = _adopt(connection, schema, context, head)
        else:
            command.upgrade(alembic_config(schema, connection), "head")
            _check_foreign_keys(connection)
            action = "upgraded"
        connection.commit()
        return Migrated(schema.service, action, current, head)


def schema_differences(connection: Connection, schema: ServiceSchema) -> list[Any]:
    """What differs between the database's tables and the service's models (Alembic's diff tuples)."""
    metadata = MetaData()
    for model in schema.tables:
        table_of(model).to_metadata(metadata)
    return list(compare_metadata(_context(connection, schema), metadata))


def _context(connection: Connection, schema: ServiceSchema) -> MigrationContext:
    return MigrationContext.configure(connection, opts={
        "version_table": schema.version_table,
        "include_object": schema.include_object,
        "compare_type": True,
    })


def _adopt(connection: Connection, schema: ServiceSchema, context: MigrationContext,
           head: str) -> Literal["created", "adopted"]:
    present = schema.table_names & set(inspect(connection).get_table_names())
    if not present:
        create_tables(connection, schema.tables)
        context.stamp(_scripts(schema), head)
        return "created"
    # Tables made by create_all before migrations existed: safe to adopt only if they are the first version's.
    first = _base(schema)
    if first != head:
        raise SchemaError(
            f"the {schema.service} database has tables but no schema version, and this version of Tsunagu "
            "cannot tell which version they are; restore it into an empty database made by this version "
            "(docs/operations.md, 'Schema migrations')")
    differences = schema_differences(connection, schema)
    if differences:
        raise SchemaError(
            f"the {schema.service} database has tables but no schema version, and they differ from the first "
            f"version in {len(differences)} place(s) (first: {differences[0]!r}); nothing was changed. It was "
            "made by a development build before schema migrations: recreate it (docs/operations.md, "
            "'Schema migrations')")
    context.stamp(_scripts(schema), head)
    return "adopted"


@contextmanager
def _foreign_keys_off_on_sqlite(connection: Connection) -> Iterator[None]:
    """SQLite changes a table by copying it and dropping the old one, which fails (or cascades) while the
    rows of other tables refer to it and foreign keys are enforced. The pragma only takes effect outside a
    transaction, so it is turned off before the lock and back on for the pooled connection's next user;
    :func:`_check_foreign_keys` checks the result before the commit instead."""
    if not is_sqlite(connection.engine):
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    if is_sqlite(connection.engine):
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise SchemaError(f"the migration left {len(broken)} row(s) referring to nothing (first: {tuple(broken[0])}); "
                              "nothing was changed")


def _lock(connection: Connection, schema: ServiceSchema) -> None:
    """Serialise migrating workers until the transaction ends."""
    if is_sqlite(connection.engine):
        # pysqlite opens a transaction only before a write; BEGIN IMMEDIATE takes the write lock now,
        # waiting out another worker's migration (busy_timeout), and commit()/rollback() end it.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        key = zlib.crc32(f"tsunagu-schema-{schema.service}".encode())
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")
