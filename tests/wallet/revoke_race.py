"""The harness of the revocation race tests: workers using a consent race one revoke, each a thread
with its own engine (its own connections, as another process would have).

Each worker keeps attempting until it has made ``after`` attempts that started after the revoke
returned; the revoker waits for ``before`` successes first, so the race is a real one, then revokes
and counts the recorded uses at once. The tests then check the property on what is returned: the
count at the revoke is the final count, every attempt that started after it failed, and every
success a worker saw is on record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from tsunagu.service.database import create_db_engine
from wallet.errors import WalletError


@dataclass
class RaceOutcome:
    #: Every attempt: (started after the revoke returned, succeeded).
    seen: list[tuple[bool, bool]] = field(default_factory=list)
    #: The recorded uses counted right after the revoke returned.
    at_revoke: list[int] = field(default_factory=list)


def race_revoke(database_url: str, *, attempt: Callable[[Session], bool], revoke: Callable[[Session], None],
                count: Callable[[Engine], int], workers: int, before: int, after: int,
                acquire_timeout: float, join_timeout: float) -> RaceOutcome:
    """Run the race; ``attempt`` uses the consent once (True: it succeeded), ``revoke`` revokes it."""
    outcome = RaceOutcome()
    successes = threading.Semaphore(0)
    revoked = threading.Event()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        engine = create_db_engine(database_url)
        try:
            late = 0
            while late < after:
                started_after = revoked.is_set()
                with Session(engine) as session:
                    ok = attempt(session)
                with lock:
                    outcome.seen.append((started_after, ok))
                if ok:
                    successes.release()
                late += started_after
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
            revoked.set()
        finally:
            engine.dispose()

    def revoker() -> None:
        engine = create_db_engine(database_url)
        try:
            for _ in range(before):
                assert successes.acquire(timeout=acquire_timeout)
            with Session(engine) as session:
                revoke(session)
            outcome.at_revoke.append(count(engine))
            revoked.set()
        except BaseException as exc:
            errors.append(exc)
            revoked.set()
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(workers)] + [threading.Thread(target=revoker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == [], [e.reason if isinstance(e, WalletError) else e for e in errors]
    return outcome
