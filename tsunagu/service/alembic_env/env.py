"""Alembic's environment for every service: the schema and the connection come from the caller.

``tsunagu.service.schema`` passes them in ``config.attributes``; there is no ``alembic.ini`` and
no database URL here. Only online migrations: a service migrates its own database when it starts.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

config = context.config
schema = config.attributes["schema"]
connection = config.attributes["connection"]
if connection is None:
    raise RuntimeError("tsunagu migrations run through tsunagu.service.schema, with a connection")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    include_object=schema.include_object,
    version_table=schema.version_table,
    # SQLite cannot ALTER most things: batch mode copies the table, PostgreSQL gets plain ALTERs.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
