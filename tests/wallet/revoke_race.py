"""The harness of the revocation race tests: workers using a consent race one revoke, each a thread
with its own engine (its own connections, as another process would have).

Each worker keeps attempting until it has made ``after`` attempts that started after the revoke
returned; the revoker waits for ``before`` successes first, so the race is a real one, then revokes
and counts the recorded uses at once. ``RaceOutcome.assert_revoke_held`` then checks the property:
the count at the revoke is the final count, every attempt that started after it failed, and every
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
    workers: int
    before: int
    after: int
    #: Every attempt: (started after the revoke returned, succeeded).
    seen: list[tuple[bool, bool]] = field(default_factory=list)
    #: The recorded uses counted right after the revoke returned.
    at_revoke: list[int] = field(default_factory=list)

    def assert_revoke_held(self, final: int) -> None:
        """``final``: the recorded uses counted once every worker stopped."""
        assert self.at_revoke == [final]  # nothing committed after the revoke did
        assert final == sum(ok for _, ok in self.seen) >= self.before  # every success is on record
        late = [ok for started_after, ok in self.seen if started_after]
        assert len(late) == self.workers * self.after and not any(late)


def race_revoke(database_url: str, *, attempt: Callable[[Session], bool], revoke: Callable[[Session], None],
                count: Callable[[Engine], int], workers: int, before: int, after: int,
                acquire_timeout: float, join_timeout: float) -> RaceOutcome:
    """Run the race; ``attempt`` uses the consent once (True: it succeeded), ``revoke`` revokes it."""
    outcome = RaceOutcome(workers, before, after)
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
