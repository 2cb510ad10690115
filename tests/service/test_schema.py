"""Each service's migrations build exactly its models, and a start brings any database up to date safely.

On SQLite and PostgreSQL: the migrations and the models agree (so a model change without a migration
fails here); an empty database is created and versioned; a database made before migrations is
adopted with its rows, or refused untouched when it differs; an older version is upgraded keeping its
rows; workers starting together migrate once.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from tsunagu.cli.schema import service_schema
from tsunagu.cli.serve import SERVICES
from tsunagu.service.database import create_db_engine, create_tables
from tsunagu.service.schema import SchemaError, ServiceSchema, alembic_config, migrate, schema_differences

WALLET = service_schema("wallet")
CREATED = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def _version(engine: Engine, schema: ServiceSchema) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table(schema.version_table):
            return None
        return connection.execute(text(f"SELECT version_num FROM {schema.version_table}")).scalar_one()


def _add_resident(engine: Engine, resident_id: str = "r-mai") -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO wallet_resident (id, username, password_hash, display_name, preferred_language, "
            "failed_logins, created_at) VALUES (:id, :id, 'x', 'Mai Nguyen', 'ja', 0, :created)"),
            {"id": resident_id, "created": CREATED})


def _add_credential(engine: Engine, resident_id: str = "r-mai") -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO wallet_credential (id, resident_id, credential_issuer, iss, credential_configuration_id, vct, "
            "display, received_at) VALUES ('c-1', :resident, 'https://issuer.test/employer', "
            "'https://issuer.test/employer', 'employment', 'urn:vct:employment', '{}', :created)"),
            {"resident": resident_id, "created": CREATED})


def _residents(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT display_name FROM wallet_resident")).scalars())


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrations_build_exactly_the_models(service: str, engine: Engine) -> None:
    schema = service_schema(service)
    with engine.connect() as connection:
        command.upgrade(alembic_config(schema, connection), "head")  # the scripts, not create_all
        connection.commit()
        assert schema_differences(connection, schema) == [], f"{service}: models changed without a migration " \
            f"(tsunagu schema revision {service} -m '...')"
    assert _version(engine, schema) is not None


def test_on_postgresql_the_migrated_status_lists_are_stored_uncompressed_as_create_all_makes_them(
    postgresql_url: str,
) -> None:
    engine = create_db_engine(postgresql_url)
    with engine.connect() as connection:
        command.upgrade(alembic_config(service_schema("issuer"), connection), "head")
        connection.commit()
        storage = dict(connection.execute(text(
            "SELECT attrelid::regclass::text || '.' || attname, attstorage FROM pg_attribute "
            "WHERE attname IN ('packed', 'slots', 'token') AND attrelid::regclass::text LIKE 'issuer_status_list_%'")).all())
    engine.dispose()
    assert storage == {"issuer_status_list_data.packed": "e", "issuer_status_list_slots.slots": "e",
                       "issuer_status_list_token.token": "e"}


def test_an_empty_database_is_created_and_versioned_and_a_second_start_changes_nothing(engine: Engine) -> None:
    migrate(engine, WALLET)
    head = _version(engine, WALLET)
    assert head == "0001"
    _add_resident(engine)
    migrate(engine, WALLET)
    assert (_version(engine, WALLET), _residents(engine)) == (head, ["Mai Nguyen"])
    with engine.connect() as connection:
        assert schema_differences(connection, WALLET) == []


def test_a_database_made_before_migrations_is_adopted_with_its_rows(engine: Engine) -> None:
    create_tables(engine, WALLET.tables)  # as services did before migrations
    _add_resident(engine)
    migrate(engine, WALLET)
    assert (_version(engine, WALLET), _residents(engine)) == ("0001", ["Mai Nguyen"])


def test_a_database_made_before_migrations_that_differs_is_refused_and_left_untouched(engine: Engine) -> None:
    create_tables(engine, WALLET.tables)  # as services did before migrations
    _add_resident(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE wallet_outbox"))  # an older development build had no outbox
    with pytest.raises(SchemaError, match="differ from the first version") as refused:
        migrate(engine, WALLET)
    assert "recreate it" in refused.value.reason
    assert (_version(engine, WALLET), _residents(engine)) == (None, ["Mai Nguyen"])
    assert not inspect(engine).has_table("wallet_outbox")


def _at_first_of_two_versions(engine: Engine, tmp_path: Path, name: str, upgrade: str) -> ServiceSchema:
    """A stand-in later wallet schema (0001 as shipped, then ``0002_<name>`` running ``upgrade``, the body of
    its ``upgrade()``), and ``engine``'s database built to 0001 only, holding Mai."""
    versions = tmp_path / "versions"
    versions.mkdir()
    shutil.copy(next(WALLET.versions.glob("0001_*.py")), versions)
    (versions / f"0002_{name}.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = '0002'\ndown_revision = '0001'\n"
        f"branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{upgrade}")
    later = ServiceSchema("wallet", WALLET.tables, versions)
    with engine.connect() as connection:
        command.upgrade(alembic_config(later, connection), "0001")
        connection.commit()
    _add_resident(engine)
    return later


def test_a_database_at_an_older_version_is_upgraded_keeping_its_rows(engine: Engine, tmp_path: Path) -> None:
    """A stand-in second version of the wallet's schema: 0001 as shipped, then a column added to the residents.

    The batch is made to copy the table on SQLite, as any change beyond adding a column does there: the old
    table is dropped while the credentials refer to it, which fails if foreign keys are enforced meanwhile.
    """
    later = _at_first_of_two_versions(engine, tmp_path, "resident_note", (
        "    copy = 'always' if op.get_bind().dialect.name == 'sqlite' else 'auto'\n"
        "    with op.batch_alter_table('wallet_resident', recreate=copy) as batch_op:\n"
        "        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))\n"))
    _add_credential(engine)

    migrate(engine, later)

    assert (_version(engine, later), _residents(engine)) == ("0002", ["Mai Nguyen"])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT resident_id FROM wallet_credential")).scalars().all() == ["r-mai"]
    assert "note" in {column["name"] for column in inspect(engine).get_columns("wallet_resident")}


def test_a_migration_that_fails_leaves_the_database_as_it_was(engine: Engine, tmp_path: Path) -> None:
    later = _at_first_of_two_versions(engine, tmp_path, "half_done", (
        "    op.add_column('wallet_resident', sa.Column('note', sa.Text(), nullable=True))\n"
        "    op.execute('UPDATE wallet_resident SET display_name = NULL')\n"))  # NOT NULL: fails midway

    with pytest.raises(Exception, match="(?i)not.null"):
        migrate(engine, later)

    assert (_version(engine, later), _residents(engine)) == ("0001", ["Mai Nguyen"])
    assert "note" not in {column["name"] for column in inspect(engine).get_columns("wallet_resident")}
    migrate(engine, WALLET)  # the version that shipped still starts on it


def test_workers_starting_together_on_an_empty_database_migrate_it_once(database_url: str) -> None:
    engines = [create_db_engine(database_url) for _ in range(4)]
    start, failures = threading.Barrier(len(engines)), []

    def start_worker(engine: Engine) -> None:
        start.wait()
        try:
            migrate(engine, WALLET)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=start_worker, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failures == []
        assert _version(engines[0], WALLET) == "0001"
        with engines[0].connect() as connection:
            assert connection.execute(text(f"SELECT count(*) FROM {WALLET.version_table}")).scalar_one() == 1
    finally:
        for engine in engines:
            engine.dispose()


def test_the_revision_command_writes_the_next_script_only_when_the_models_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tsunagu.cli import main
    from tsunagu.cli import schema as schema_cli

    assert main(["schema", "revision", "wallet", "-m", "nothing changed"]) == 2
    assert "match its migrations: nothing to write" in capsys.readouterr().err

    fresh = ServiceSchema("wallet", WALLET.tables, tmp_path)  # as if the wallet had no migrations yet
    monkeypatch.setattr(schema_cli, "service_schema", lambda _service: fresh)
    assert main(["schema", "revision", "wallet", "-m", "first schema"]) == 0
    written = json.loads(capsys.readouterr().out)  # stdout is JSON only; Alembic's progress went to stderr
    assert (written["revision"], Path(written["path"]).name) == ("0001", "0001_first_schema.py")
    assert "op.create_table('wallet_consent'" in Path(written["path"]).read_text()


def test_the_upgrade_command_migrates_a_deployments_database_and_says_what_it_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsunagu.cli import main
    from tsunagu.cli.demo_deployment import build_demo_deployment

    deployment = build_demo_deployment(tmp_path / "demo", now=CREATED, base_port=18000)
    config = tmp_path / "demo" / "wallet.toml"
    assert main(["schema", "upgrade", "wallet", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out) == {"service": "wallet", "action": "created", "from": None, "to": "0001"}
    assert main(["schema", "upgrade", "wallet", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "up_to_date"

    engine = create_db_engine(deployment.wallet.database_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {WALLET.version_table}"))
        connection.execute(text("DROP TABLE wallet_outbox"))
    engine.dispose()
    assert main(["schema", "upgrade", "wallet", "--config", str(config)]) == 2
    refused = json.loads(capsys.readouterr().err)
    assert refused["code"] == "schema.unknown" and "differ from the first version" in refused["reason"]

    assert main(["schema", "upgrade", "wallet", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in json.loads(capsys.readouterr().err)["reason"]

    nobody_listens = "postgresql+psycopg://tsunagu:s3cret@127.0.0.1:1/tsunagu_wallet"
    monkeypatch.setenv("TSUNAGU_WALLET_DATABASE_URL", nobody_listens)  # the environment overrides the file
    assert main(["schema", "upgrade", "wallet", "--config", str(config)]) == 2
    unreachable = json.loads(capsys.readouterr().err)["reason"]
    assert unreachable.startswith("the wallet database at postgresql+psycopg://tsunagu:***@127.0.0.1:1/tsunagu_wallet "
                                  "could not be used")
    assert "s3cret" not in unreachable
