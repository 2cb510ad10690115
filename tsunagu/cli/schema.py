"""``tsunagu schema``: bring a service's database up to date, and write a new migration.

Services migrate their own database when they start (docs/operations.md, "Schema migrations");
``tsunagu schema upgrade wallet --config wallet.toml`` does only that and exits, for deployments
that migrate as a separate step before starting the new workers.

For developers, ``tsunagu schema revision wallet --message "keep the consent's language"`` builds a
scratch SQLite database with the service's existing migrations, compares it with the models, and
writes the difference as the next numbered script in ``wallet/migrations/``. Read it before
committing: Alembic cannot tell a renamed column from a dropped and an added one, nor write data
migrations.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import redirect_stdout
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from .base import EXIT_OK, InputError, Subcommands, UsageError, print_json
from .serve import SERVICES, service_settings

if TYPE_CHECKING:
    from ..service.schema import ServiceSchema

__all__ = ["add_schema_commands", "service_schema"]


def add_schema_commands(subcommands: Subcommands) -> None:
    schema = subcommands.add_parser("schema", help="database schema migrations")
    commands = schema.add_subparsers(dest="schema_command", metavar="COMMAND", required=True)
    upgrade = commands.add_parser("upgrade", help="bring a service's database to the newest schema, then exit")
    upgrade.add_argument("service", choices=list(SERVICES))
    upgrade.add_argument("--config", type=Path, help="TOML settings file (environment variables override it)")
    upgrade.set_defaults(handler=_upgrade)
    revision = commands.add_parser("revision", help="write the next migration from the models' changes")
    revision.add_argument("service", choices=list(SERVICES))
    revision.add_argument("--message", "-m", required=True, help="what the migration does, in a few words")
    revision.set_defaults(handler=_revision)


def service_schema(service: str) -> ServiceSchema:
    from ..service.schema import ServiceSchema  # the core's commands load no database library

    schema = import_module(f"{service}.tables").SCHEMA
    assert isinstance(schema, ServiceSchema)
    return schema


def _upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from ..service.database import create_db_engine
    from ..service.schema import migrate

    settings = service_settings(args.service, args.config)
    engine = create_db_engine(settings.database_url)
    try:  # a SchemaError is a TsunaguError: main() prints it as JSON and exits 2
        migrated = migrate(engine, service_schema(args.service))
    except OperationalError as error:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        raise InputError(f"the {args.service} database at {where} could not be used: {error.orig}") from None
    finally:
        engine.dispose()
    print_json({"service": migrated.service, "action": migrated.action, "from": migrated.before,
                "to": migrated.after})
    return EXIT_OK


def _revision(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.script import Script

    from ..service.database import create_db_engine
    from ..service.schema import alembic_config, schema_differences

    schema = service_schema(args.service)
    numbered = sorted(path.name for path in schema.versions.glob("[0-9][0-9][0-9][0-9]_*.py"))
    rev_id = f"{len(numbered) + 1:04d}"
    # Alembic reports progress on stdout; ours is JSON there, so its lines go to stderr.
    with tempfile.TemporaryDirectory() as scratch, redirect_stdout(sys.stderr):
        engine = create_db_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            with engine.connect() as connection:
                config = alembic_config(schema, connection)
                config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
                if numbered:
                    command.upgrade(config, "head")
                    if not schema_differences(connection, schema):
                        raise UsageError(f"the {args.service} models match its migrations: nothing to write")
                script = command.revision(config, message=args.message, autogenerate=True, rev_id=rev_id)
                connection.commit()
        finally:
            engine.dispose()
    assert isinstance(script, Script)  # one revision, not a merge of several heads
    print_json({"service": args.service, "revision": rev_id, "path": script.path})
    return EXIT_OK
