"""Giving each new credential an entry in a status list (Token Status List §6.2, §12).

Entries are handed out in a random order, never in issuance order (an index that grows with time
would tell a verifier when a credential was issued, and link credentials issued together). When a
list opens, a random permutation of its indices is drawn and stored (in chunks of
``SLOTS_PER_CHUNK``); the n-th credential of the list gets entry ``permutation[n]``. The count ``allocated`` is raised by a conditional UPDATE, which
only one transaction at a time can do for a list, on SQLite and on PostgreSQL alike, so no slot is
taken twice; the UNIQUE ``(tenant, status_list, status_idx)`` constraint on the credential rows
guards the outcome whatever happens. When a list is full the next one opens; two workers opening
it at once collide on its primary key, and the loser's transaction is retried by the caller.
"""

from __future__ import annotations

import array
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from tsunagu.service.database import utc

from ..settings import IssuerSettings
from ..tables import IssuerStatusList, IssuerStatusListData, IssuerStatusListSlots, IssuerStatusListToken

__all__ = [
    "STATUS_LIST_BITS",
    "SLOTS_PER_CHUNK",
    "StatusEntry",
    "allocate_status_entries",
    "open_status_list",
    "random_permutation",
]

#: Two bits per entry: VALID 0, INVALID 1 (revoked), SUSPENDED 2 (Token Status List §7.1).
STATUS_LIST_BITS: Final = 2
#: Slots per row of ``issuer_status_list_slots`` (16 KiB).
SLOTS_PER_CHUNK: Final = 4096
_SLOT_BYTES: Final = 4


@dataclass(frozen=True, slots=True)
class StatusEntry:
    list_number: int
    idx: int


def random_permutation(size: int) -> bytes:
    """A uniformly random ordering of ``0 .. size-1``, 4 bytes little-endian each.

    Sorting the indices by 64 random bits each (from the OS's CSPRNG) is a uniform shuffle up to
    ties, which are about as likely as guessing a 64-bit key; it runs in C, a few hundred ms for a
    million entries.
    """
    keys = array.array("Q")
    keys.frombytes(os.urandom(8 * size))
    order = array.array("I", sorted(range(size), key=keys.__getitem__))
    if order.itemsize != _SLOT_BYTES:  # pragma: no cover - every platform CPython supports has 4-byte "I"
        raise RuntimeError("array('I') is not 4 bytes wide here")
    if sys.byteorder == "big":  # pragma: no cover
        order.byteswap()
    return order.tobytes()


def _packed_size(size: int) -> int:
    return -(-size * STATUS_LIST_BITS // 8)


def open_status_list(session: Session, settings: IssuerSettings, tenant: str, list_number: int, *, now: datetime,
                     size: int | None = None, allocated: int = 0) -> bytes:
    """Add (not commit) status list ``list_number``, every entry VALID, with a fresh permutation; returns the permutation."""
    size = settings.status_list_size if size is None else size
    permutation = random_permutation(size)
    session.add(IssuerStatusList(
        tenant=tenant,
        list_number=list_number,
        size=size,
        bits=STATUS_LIST_BITS,
        allocated=allocated,
        version=1,
        created_at=utc(now),
        updated_at=utc(now),
    ))
    session.add(IssuerStatusListData(tenant=tenant, list_number=list_number, packed=bytes(_packed_size(size))))
    session.add(IssuerStatusListToken(tenant=tenant, list_number=list_number, token=""))
    chunk_bytes = SLOTS_PER_CHUNK * _SLOT_BYTES
    session.add_all(
        IssuerStatusListSlots(tenant=tenant, list_number=list_number, chunk=n, slots=permutation[start:start + chunk_bytes])
        for n, start in enumerate(range(0, len(permutation), chunk_bytes))
    )
    return permutation


def allocate_status_entries(session: Session, settings: IssuerSettings, tenant: str, count: int, *,
                            now: datetime) -> list[StatusEntry]:
    """Take ``count`` entries for new credentials; the caller commits them with the credentials.

    Raises:
        IntegrityError: another worker opened the same new list first; roll back and retry.
    """
    return [_allocate_one(session, settings, tenant, now=now) for _ in range(count)]


def _allocate_one(session: Session, settings: IssuerSettings, tenant: str, *, now: datetime) -> StatusEntry:
    newest = session.exec(
        select(func.max(IssuerStatusList.list_number)).where(IssuerStatusList.tenant == tenant)
    ).one()
    if newest is not None:
        taken = session.exec(
            update(IssuerStatusList)
            .where(
                col(IssuerStatusList.tenant) == tenant,
                col(IssuerStatusList.list_number) == newest,
                col(IssuerStatusList.allocated) < col(IssuerStatusList.size),
            )
            .values(allocated=col(IssuerStatusList.allocated) + 1)
            .returning(col(IssuerStatusList.allocated))
        ).scalar_one_or_none()
        if taken is not None:
            chunk, offset = divmod(taken - 1, SLOTS_PER_CHUNK)
            piece = session.exec(
                select(func.substr(IssuerStatusListSlots.slots, offset * _SLOT_BYTES + 1, _SLOT_BYTES)).where(
                    IssuerStatusListSlots.tenant == tenant,
                    IssuerStatusListSlots.list_number == newest,
                    IssuerStatusListSlots.chunk == chunk,
                )
            ).one()
            return StatusEntry(list_number=newest, idx=int.from_bytes(bytes(piece), "little"))
    # The newest list is full (or there is none yet): open the next one and take its first slot.
    number = (newest or 0) + 1
    permutation = open_status_list(session, settings, tenant, number, now=now, allocated=1)
    session.flush()  # IntegrityError here if another worker opened it first
    return StatusEntry(list_number=number, idx=int.from_bytes(permutation[:_SLOT_BYTES], "little"))
