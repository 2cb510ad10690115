"""Publishing status list tokens (Token Status List §5.1, §8): signed once per list version, served many times.

The last token signed for a list is kept in the list's row, so every worker serves the same bytes
(and the same strong ETag) until the list changes, the active key changes, or the token reaches
half its lifetime; then the first request re-signs it. Re-signing after a change recompresses
only the changed segments of the list (``tsunagu.status_list.compress_segmented``), whose
compressed pieces each worker keeps in memory: republishing a list of a million entries costs a
few milliseconds, not a full level-9 compression.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from tsunagu import jose
from tsunagu.encoding import b64url_encode
from tsunagu.service.database import utc
from tsunagu.status_list import (
    SegmentedStatusList,
    compress_segmented,
    segmented_status_list_object,
    status_list_token_claims_from_object,
    status_list_token_signing_input,
)

from ..errors import UnknownStatusList
from ..settings import IssuerSettings, IssuerTenant
from ..tables import IssuerStatusList, IssuerStatusListData, IssuerStatusListToken
from .keys import active_signing_key, active_signing_kid, record_signature
from .status_allocation import STATUS_LIST_BITS

__all__ = ["PublishedStatusList", "StatusListCache", "published_status_list", "etag_matches"]


@dataclass(frozen=True, slots=True)
class PublishedStatusList:
    """A signed status list token and how to serve it."""

    token: str
    #: A strong entity tag (RFC 9110 §8.8.3), quoted: the list's version and a digest of the token.
    etag: str
    #: Seconds a client may cache it (the token's ``ttl``).
    max_age: int
    version: int


class StatusListCache:
    """What one worker keeps in memory: each list's compressed segments and its last token.

    Only a cache: the database is the truth, and a worker that has never seen a list rebuilds
    both from it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[tuple[str, int], SegmentedStatusList] = {}
        self._tokens: dict[tuple[str, int], PublishedStatusList] = {}

    def segments(self, key: tuple[str, int]) -> SegmentedStatusList | None:
        with self._lock:
            return self._segments.get(key)

    def token(self, key: tuple[str, int]) -> PublishedStatusList | None:
        with self._lock:
            return self._tokens.get(key)

    def keep(self, key: tuple[str, int], *, segments: SegmentedStatusList | None = None,
             token: PublishedStatusList | None = None) -> None:
        with self._lock:
            if segments is not None:
                self._segments[key] = segments
            if token is not None:
                self._tokens[key] = token


def published_status_list(session: Session, settings: IssuerSettings, cache: StatusListCache, tenant: IssuerTenant,
                          list_number: int, *, now: datetime) -> PublishedStatusList:
    """The current status list token of list ``list_number``, signing a new one only when needed.

    Raises:
        UnknownStatusList: the tenant has no such list.
    """
    row = session.get(IssuerStatusList, (tenant.id, list_number), populate_existing=True)  # always the committed state
    if row is None:
        raise UnknownStatusList("this organisation has no status list of that number")
    key = (tenant.id, list_number)
    ttl = settings.status_list_ttl_seconds
    lifetime = timedelta(seconds=settings.status_list_token_lifetime_seconds)
    version, token_etag = row.version, row.token_etag
    fresh = (
        row.token_version == version
        and row.token_iat is not None
        and utc(row.token_iat) <= utc(now) < utc(row.token_iat) + lifetime / 2
        and row.token_kid == active_signing_kid(session, tenant.id)
    )
    if fresh and token_etag is not None:
        cached = cache.token(key)
        if cached is not None and cached.etag == token_etag:
            return cached
        stored, stored_etag = session.exec(
            select(IssuerStatusListToken.token, IssuerStatusListToken.etag).where(
                IssuerStatusListToken.tenant == tenant.id, IssuerStatusListToken.list_number == list_number)
        ).one()
        # Another worker may have re-signed since the row above was read: serve what was read, with its own ETag.
        if stored:
            published = PublishedStatusList(token=stored, etag=stored_etag, max_age=ttl, version=version)
            cache.keep(key, token=published)
            return published
    return _sign(session, settings, cache, tenant, list_number, now=now)


def _sign(session: Session, settings: IssuerSettings, cache: StatusListCache, tenant: IssuerTenant, list_number: int,
          *, now: datetime) -> PublishedStatusList:
    where = (col(IssuerStatusList.tenant) == tenant.id, col(IssuerStatusList.list_number) == list_number)
    bits, version = session.exec(select(IssuerStatusList.bits, IssuerStatusList.version).where(*where)).one()
    # Read after the version: if a change commits in between, these bytes are newer than ``version``
    # says, and the token is stored under the older version, so the next request signs again.
    packed = session.exec(
        select(IssuerStatusListData.packed).where(
            IssuerStatusListData.tenant == tenant.id, IssuerStatusListData.list_number == list_number)
    ).one()
    if bits != STATUS_LIST_BITS:  # pragma: no cover - every list this service opens has 2 bits
        raise RuntimeError(f"status list {list_number} of {tenant.id} has {bits} bits, not {STATUS_LIST_BITS}")
    key = (tenant.id, list_number)
    segments = compress_segmented(bytes(packed), previous=cache.segments(key))
    cache.keep(key, segments=segments)
    signing_key = active_signing_key(session, settings, tenant.id)
    iat = utc(now).replace(microsecond=0)
    exp = iat + timedelta(seconds=settings.status_list_token_lifetime_seconds)
    claims = status_list_token_claims_from_object(
        segmented_status_list_object(segments, STATUS_LIST_BITS),
        sub=settings.status_list_uri(tenant.id, list_number),
        iat=iat,
        exp=exp,
        ttl=settings.status_list_ttl_seconds,
    )
    data = status_list_token_signing_input(claims, alg=signing_key.alg, kid=signing_key.kid)
    token = jose.assemble(data, jose.sign(data, signing_key))
    etag = f'"{version}-{b64url_encode(hashlib.sha256(token.encode()).digest()[:16])}"'
    # Share it with the other workers, unless the list changed meanwhile (then the next request signs anew).
    stored = session.exec(
        update(IssuerStatusList)
        .where(*where, col(IssuerStatusList.version) == version)
        .values(token_version=version, token_kid=signing_key.kid, token_iat=iat, token_exp=exp, token_etag=etag)
    )
    if stored.rowcount == 1:
        session.exec(
            update(IssuerStatusListToken)
            .where(col(IssuerStatusListToken.tenant) == tenant.id, col(IssuerStatusListToken.list_number) == list_number)
            .values(token=token, etag=etag)
        )
    # The key must stay published while a verifier may still hold this token.
    record_signature(session, signing_key.kid or "", exp)
    session.commit()
    published = PublishedStatusList(token=token, etag=etag, max_age=settings.status_list_ttl_seconds, version=version)
    cache.keep(key, token=published)
    return published


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*``, or any listed entity tag equal to ``etag`` by weak comparison (GET)."""
    if if_none_match is None:
        return False
    candidates = [part.strip() for part in if_none_match.split(",")]
    if "*" in candidates:
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.removeprefix("W/") == opaque for candidate in candidates if candidate)
