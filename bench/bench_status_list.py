"""Revoking one credential and republishing its status list of 1,048,576 entries: time and size.

Run by hand: ``.venv/bin/python bench/bench_status_list.py`` (``--help`` for options). It is not part
of the test suite and asserts no timings.

It drives the issuer's own service functions over a real database (SQLite in a temporary file,
and PostgreSQL when one answers at ``--postgres``), on one list of ``--entries`` entries (2 bits
each) in which a share of entries is already revoked or suspended (``--non-valid``, several levels):

- revoke:      ``change_credential_status``: one transaction that marks the credential revoked,
               rewrites one entry of the list's stored bytes, raises its version, logs the reason.
- allocate:    what issuance adds for the status entry: ``allocate_status_entries`` for one
               credential (raise the list's counter, read one slot of its permutation), committed.
- republish:   ``published_status_list`` for the new version: read the list's bytes, recompress
               the changed 8 KiB segment, sign (ES256), store the token for the other workers.
- cached GET:  ``published_status_list`` when nothing changed: two small queries, no signing.
- cold:        republishing in a worker that has never seen the list (every segment compressed).
- one piece:   for comparison, ``zlib.compress(list, 9)`` of the whole list, as
               ``tsunagu.status_list.encode_status_list`` does.

Sizes: the compressed list as served (segmented), the same list compressed in one piece at level
9, and the whole signed token. Each timing is the best and the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

import psycopg
from sqlalchemy import update
from sqlmodel import Session, col

from issuer.app import create_app
from issuer.services.credential_status import StatusChange, change_credential_status
from issuer.services.issuance import new_credential_id
from issuer.services.offers import OfferSpec, create_offer
from issuer.services.status_allocation import allocate_status_entries, open_status_list, random_permutation
from issuer.services.status_lists import StatusListCache, published_status_list
from issuer.settings import IssuerSettings
from issuer.tables import IssuerCredential, IssuerNotification, IssuerStatusList, IssuerStatusListData
from tsunagu.credential_types import EMPLOYMENT_CERTIFICATE
from tsunagu.status_list import INVALID, SUSPENDED, StatusList, compress_segmented

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
TENANT = "employer"
CLAIMS = {
    "employee_name": "NGUYEN THI MAI", "birthdate": "1994-03-12", "nationality_region": "Viet Nam",
    "employer_name": "Sakura Systems K.K.", "employer_corporate_number": "1234567890123",
    "employment_type": "regular", "job_title": "Logistics Planner", "department": "Planning",
    "employment_start_date": "2021-04-01", "annual_income": 4_800_000, "social_insurance_enrolled": True,
    "as_of_date": "2026-11-20",
}


@dataclass(frozen=True)
class Row:
    database: str
    non_valid: float
    served_bytes: int
    one_piece_bytes: int
    token_bytes: int
    revoke: list[float]
    republish: list[float]
    both: list[float]
    cached: list[float]
    cold: list[float]
    one_piece: list[float]
    allocate: list[float]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'issuer.db'}"


@contextmanager
def postgres_url(admin_url: str) -> Iterator[str]:
    db = f"tsunagu_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{db}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def postgres_problem(admin_url: str) -> str | None:
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"{exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def prepare(session: Session, settings: IssuerSettings, entries: int, non_valid: float, runs: int) -> list[str]:
    """List 1 with ``non_valid`` of its entries revoked or suspended, and ``runs`` valid credentials in it."""
    tenant = settings.tenant(TENANT)
    assert tenant is not None
    rng = random.Random(4711)
    chosen = rng.sample(range(entries), int(entries * non_valid) + runs)
    preset, targets = chosen[runs:], chosen[:runs]
    status_list = StatusList.new(entries, 2)
    for idx in preset:
        status_list.set(idx, rng.choice((INVALID, SUSPENDED)))
    open_status_list(session, settings, TENANT, 1, now=NOW, allocated=len(chosen))
    session.commit()
    session.exec(update(IssuerStatusListData).where(col(IssuerStatusListData.list_number) == 1).values(packed=status_list.to_bytes()))
    offer = create_offer(session, settings, tenant, OfferSpec("EmploymentCertificate", "bench", CLAIMS), now=NOW)
    session.add(IssuerNotification(id="bench", tenant=TENANT, offer_id=offer.offer_id, credential_count=runs, created_at=NOW))
    session.flush()
    ids = []
    for idx in targets:
        ids.append(new_credential_id())
        session.add(IssuerCredential(
            id=ids[-1], tenant=TENANT, offer_id=offer.offer_id, notification_id="bench", subject="bench",
            credential_configuration_id="EmploymentCertificate", vct=EMPLOYMENT_CERTIFICATE.vct, holder_jkt="x",
            signing_kid="x", iat=NOW, exp=NOW + timedelta(days=365), status_list=1, status_idx=idx,
        ))
    session.commit()
    return ids


def measure(database: str, url: str, entries: int, non_valid: float, runs: int) -> Row:
    settings = IssuerSettings(
        public_url="https://issuer.bench",
        database_url=url,
        master_key=base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
        admin_api_key=None,
        status_list_size=entries,
    )
    app = create_app(settings, clock=lambda: NOW)
    engine = app.state.engine
    tenant = settings.tenant(TENANT)
    assert tenant is not None
    cache = StatusListCache()
    revoke, republish, both, cached, cold, one_piece, allocate = [], [], [], [], [], [], []
    try:
        with Session(engine) as session:
            ids = prepare(session, settings, entries, non_valid, runs)
            published = published_status_list(session, settings, cache, tenant, 1, now=NOW)  # warm this worker
            for credential_id in ids:
                change = StatusChange(action="revoke", reason="bench", actor="bench")
                t_revoke = timed(lambda: change_credential_status(session, settings, tenant, credential_id, change, now=NOW))
                t_publish = timed(lambda: published_status_list(session, settings, cache, tenant, 1, now=NOW))
                revoke.append(t_revoke)
                republish.append(t_publish)
                both.append(t_revoke + t_publish)
                cached.append(timed(lambda: published_status_list(session, settings, cache, tenant, 1, now=NOW)))
            published = published_status_list(session, settings, cache, tenant, 1, now=NOW)

            def allocate_one() -> None:
                allocate_status_entries(session, settings, TENANT, 1, now=NOW)
                session.commit()

            allocate += [timed(allocate_one) for _ in range(runs)]
            packed = bytes(session.get_one(IssuerStatusListData, (TENANT, 1)).packed)
            for _ in range(min(runs, 5)):
                session.exec(update(IssuerStatusList).values(token_version=None))  # make the next request sign
                session.commit()
                cold.append(timed(lambda: published_status_list(session, settings, StatusListCache(), tenant, 1, now=NOW)))
                one_piece.append(timed(lambda: zlib.compress(packed, 9)))
        return Row(database, non_valid, len(compress_segmented(packed).to_zlib()), len(zlib.compress(packed, 9)), len(published.token),
                   revoke, republish, both, cached, cold, one_piece, allocate)
    finally:
        engine.dispose()


def ms(values: list[float]) -> str:
    return f"{min(values) * 1000:8.2f} {statistics.median(values) * 1000:8.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_048_576, help="entries in the list (default 1,048,576)")
    parser.add_argument("--non-valid", default="0,0.001,0.01,0.1",
                        help="shares of entries already revoked/suspended, comma separated (default 0,0.001,0.01,0.1)")
    parser.add_argument("--runs", type=int, default=15, help="revocations timed per configuration (default 15)")
    parser.add_argument("--postgres", default=os.environ.get("TSUNAGU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
                        help="an admin URL of a PostgreSQL server to create a scratch database on")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    levels = [float(x) for x in args.non_valid.split(",")]

    print(f"Status list benchmark: {args.entries:,} entries x 2 bits ({args.entries // 4 // 1024} KiB uncompressed), "
          "ES256, 8 KiB segments")
    print(f"  python: {platform.python_version()} ({platform.machine()})")
    for package in ("sqlalchemy", "psycopg", "cryptography"):
        print(f"  {package}: {metadata.version(package)}")
    print(f"  sqlite: {sqlite3.sqlite_version}")
    print(f"  runs: {args.runs} revocations per row; times in ms, best and median")
    t0 = time.perf_counter()
    start = time.perf_counter()
    random_permutation(args.entries)
    print(f"  opening a list (drawing its random permutation): {(time.perf_counter() - start) * 1000:.0f} ms, once per list")

    databases: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = [("sqlite", sqlite_url)]
    if not args.no_postgres:
        problem = postgres_problem(args.postgres)
        if problem is None:
            with psycopg.connect(args.postgres) as conn:
                print(f"  postgresql: {conn.info.server_version // 10000}.{conn.info.server_version % 10000}")
            databases.append(("postgresql", lambda: postgres_url(args.postgres)))
        else:
            print(f"  postgresql: not measured ({problem})")

    rows = []
    for name, make_url in databases:
        for level in levels:
            with make_url() as url:
                rows.append(measure(name, url, args.entries, level, args.runs))

    print()
    print("sizes (bytes)        non-valid   served (segmented)   one piece, level 9   signed token")
    for row in rows:
        if row.database == rows[0].database:
            print(f"                     {row.non_valid * 100:7.1f} %   {row.served_bytes:18,}   {row.one_piece_bytes:18,}   {row.token_bytes:12,}")
    print()
    print("times (ms)      non-valid   revoke            republish         revoke+republish  cached GET        "
          "cold republish    one piece L9      allocate")
    print("                            best   median     best   median     best   median     best   median     "
          "best   median     best   median     best   median")
    for row in rows:
        print(f"{row.database:<14}{row.non_valid * 100:7.1f} %  {ms(row.revoke)}  {ms(row.republish)}  {ms(row.both)}  "
              f"{ms(row.cached)}  {ms(row.cold)}  {ms(row.one_piece)}  {ms(row.allocate)}")
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
