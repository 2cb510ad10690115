"""What issuers publish, fetched safely and shared: issuer keys and status list tokens.

Two services need it. The verifier checks the status of a presented credential; the wallet
refreshes the status of the credentials it holds. Both use one :class:`IssuerDocuments` per
process (keep it in ``app.state``), built once from settings:

.. code-block:: python

    documents = IssuerDocuments(
        app.state.http, issuer_origin=registered_issuer_origin(lambda: app.state.registry),
        clock=app.state.clock, timeout=settings.http_timeout_seconds,
        allow_insecure_loopback=settings.allow_insecure_loopback)
    keys = await documents.issuer_keys(iss)                       # SD-JWT VC §5 metadata
    lookup = await documents.status(iss, parse_status_claim(claims["status"]))
    if lookup.value == INVALID: ...   # revoked; lookup.token.iat is when the issuer published that list

**Where from.** Only from the origin registered for the issuer (``issuer_origin``, for a service
with a trust registry :func:`registered_issuer_origin`). A credential names its own status URI: a
service that fetched any URI it is given could be made to call anything on its network (SSRF),
and a list hosted anywhere else is not the issuer's word. Plain ``http`` only on loopback hosts,
when ``allow_insecure_loopback`` says so (a demo on one machine).

**How.** Every fetch goes through :func:`~tsunagu.service.http.fetch_bounded`'s rules: a size
bound, a deadline (``timeout`` seconds for the whole exchange, however slowly the server trickles),
no redirects, the expected media type. A status list token is verified as the Token Status List
draft §8.3 asks (:func:`tsunagu.status_list.verify_status_list_token`): signed by one of the
issuer's published keys, ``typ`` ``statuslist+jwt``, ``sub`` equal to the URI the credential
refers to, ``iat``/``nbf``/``exp``; its list is decompressed through a hard bound.

**How long kept** (times from the injected ``clock``, so tests and the e2e world can move them):

* issuer keys for ``keys_ttl``; a token naming a ``kid`` the cached keys lack makes one early
  refetch (the issuer rotated its key), at most every ``_KID_REFETCH_INTERVAL``, because the
  ``kid`` comes from a token not yet verified;
* a status list token for its ``ttl`` (§5.1; ``default_status_list_ttl`` when it has none, at most
  ``max_status_list_ttl``) and never past its ``exp``. After that it is revalidated with
  ``If-None-Match`` when the issuer gave an ``ETag``: a ``304`` keeps the token already verified
  (checked again against ``exp``), anything else is a new token. The token's own ``ttl`` rules,
  not the response's ``Cache-Control``: it is signed, the header is not.

**Shared.** Concurrent lookups of one list share one fetch (single-flight: one asyncio task per
issuer and URI), so N verifications against a cold cache fetch a list once per process. A waiter
that is cancelled does not cancel the fetch the others wait for; the fetch ends by its deadline.

**Failures.** A list that cannot be fetched (refused, timed out, an error status, HTML, too large)
raises :class:`StatusListUnreachable`, whose ``since`` is the first failed attempt since the list
was last fetched. The failure is remembered for ``retry_after``: lookups in that window fail at
once instead of each waiting for the deadline; the first lookup after it tries again. An outage
record is dropped on success or ``_OUTAGE_MEMORY`` after its last failed attempt (so that "since"
never spans a stretch nobody looked at). A token that arrives but does not verify (bad signature,
wrong ``sub``, expired) is not an outage: its :class:`~tsunagu.errors.StatusListError` is raised as
it is, and nothing is cached.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Generic, TypeVar
from urllib.parse import urlsplit

import httpx

from ..encoding import json_loads
from ..errors import EncodingError, InvalidIssuerMetadata, InvalidStatusReference, IssuerKeyNotFound, JwkError
from ..jose import DEFAULT_MAX_JWS_BYTES, parse_compact
from ..jwk import PublicJwk, parse_jwks, select_key
from ..oid4vp import origin_of
from ..sd_jwt_vc import jwt_vc_issuer_metadata_url, parse_issuer_metadata
from ..settings import is_loopback_url
from ..status_list import (
    MEDIA_TYPE_STATUSLIST_JWT,
    TYP_STATUSLIST_JWT,
    StatusListToken,
    StatusReference,
    verify_status_list_token,
)
from ..trust import IssuerNotTrusted, TrustRegistry
from .clock import Clock, utc_now
from .http import FetchBadContentType, FetchBadStatus, FetchError, exchange_bounded, fetch_bounded

__all__ = [
    "IssuerOrigin",
    "registered_issuer_origin",
    "IssuerDocuments",
    "StatusLookup",
    "StatusListUnreachable",
]

#: ``issuer_origin(iss)``: the origin (``https://host[:port]``) the issuer ``iss`` may serve its
#: documents from, or ``None`` when it is not an issuer this service knows.
IssuerOrigin = Callable[[str], str | None]

#: An unknown ``kid`` refetches the keys at most this often (the ``kid`` is attacker-chosen).
_KID_REFETCH_INTERVAL: Final = timedelta(seconds=10)
#: An outage record whose last failed attempt is older than this is forgotten.
_OUTAGE_MEMORY: Final = timedelta(days=1)


class StatusListUnreachable(FetchError):
    """The issuer's status list could not be fetched; the issuer's infrastructure, not the resident.

    ``since`` is the first failed attempt since the list was last fetched; ``cause`` the last
    attempt's own error (``FetchTimeout``, ``FetchBadStatus`` ...), whose reason says what happened.
    """

    code = "status_list.unreachable"

    def __init__(self, reason: str, *, iss: str, uri: str, since: datetime, cause: FetchError) -> None:
        super().__init__(reason, iss=iss, uri=uri, url=uri, since=since.isoformat(), cause=cause.code)
        self.iss = iss
        self.uri = uri
        self.since = since
        self.cause = cause


@dataclass(frozen=True, slots=True)
class StatusLookup:
    """A credential's status: the value at its index (``VALID``, ``INVALID``, ``SUSPENDED`` ...) and
    the verified token it was read from (``token.iat``: when the issuer published that list)."""

    reference: StatusReference
    value: int
    token: StatusListToken


def registered_issuer_origin(registry: Callable[[], TrustRegistry | None]) -> IssuerOrigin:
    """Issuers' origins from the trust registry: the origin of each registered issuer's identifier.

    ``registry`` is read at each call (``lambda: app.state.registry``), so a reloaded registry applies.
    """

    def issuer_origin(iss: str) -> str | None:
        current = registry()
        entry = current.find_issuer(iss) if current is not None else None
        return _origin(entry.id) if entry is not None else None

    return issuer_origin


@dataclass(slots=True)
class _Keys:
    keys: tuple[PublicJwk, ...]
    fetched_at: datetime


@dataclass(slots=True)
class _List:
    token: StatusListToken
    text: str
    etag: str | None
    fresh_until: datetime


@dataclass(slots=True)
class _Outage:
    since: datetime
    last_attempt: datetime
    cause: FetchError


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(slots=True)
class _SingleFlight(Generic[K, V]):
    """At most one running task per key; every caller for that key awaits the same one."""

    running: dict[K, asyncio.Task[V]] = field(default_factory=dict)

    async def run(self, key: K, work: Callable[[], Awaitable[V]]) -> V:
        task = self.running.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self.running[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        # shield: a cancelled caller stops waiting, the fetch others wait for goes on.
        return await asyncio.shield(task)

    def _finished(self, key: K, task: asyncio.Task[V]) -> None:
        if self.running.get(key) is task:
            del self.running[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a failure nobody waited for is not logged as lost


class IssuerDocuments:
    """Issuers' keys and status list tokens for one process: fetched safely, verified, cached, shared.

    See the module documentation for where documents come from, how long they are kept, and what a
    failure means. Every argument after ``http`` is keyword-only and has the services' default.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        issuer_origin: IssuerOrigin,
        clock: Clock = utc_now,
        timeout: float = 5.0,
        max_metadata_bytes: int = 64 * 1024,
        max_status_list_bytes: int = 1024 * 1024,
        allow_insecure_loopback: bool = False,
        clock_skew: timedelta = timedelta(seconds=60),
        keys_ttl: timedelta = timedelta(minutes=5),
        default_status_list_ttl: timedelta = timedelta(minutes=5),
        max_status_list_ttl: timedelta = timedelta(days=1),
        retry_after: timedelta = timedelta(seconds=30),
        max_cached_lists: int = 256,
    ) -> None:
        self._http = http
        self._issuer_origin = issuer_origin
        self._clock = clock
        self._timeout = timeout
        self._max_metadata_bytes = max_metadata_bytes
        self._max_status_list_bytes = max_status_list_bytes
        self._allow_insecure_loopback = allow_insecure_loopback
        self._clock_skew = clock_skew
        self._keys_ttl = keys_ttl
        self._default_ttl = default_status_list_ttl
        self._max_ttl = max_status_list_ttl
        self._retry_after = retry_after
        self._max_cached_lists = max_cached_lists
        self._keys: dict[str, _Keys] = {}
        self._lists: OrderedDict[tuple[str, str], _List] = OrderedDict()
        self._outages: OrderedDict[tuple[str, str], _Outage] = OrderedDict()
        self._key_flights: _SingleFlight[str, _Keys] = _SingleFlight()
        self._list_flights: _SingleFlight[tuple[str, str], StatusListToken] = _SingleFlight()

    # --- issuer keys ----------------------------------------------------------------------------

    async def issuer_keys(self, iss: str, *, kid: str | None = None) -> tuple[PublicJwk, ...]:
        """The keys ``iss`` publishes in its JWT VC Issuer Metadata (SD-JWT VC §5), from its registered origin.

        ``kid``: the key a token names; when the cached keys lack it, they are refetched (rate-limited).

        Raises:
            IssuerNotTrusted: no origin is registered for ``iss``, or ``iss`` is not on it.
            InvalidIssuerMetadata: a URL we may not fetch, a document that is not metadata for
                ``iss``, not JSON, or a ``jwks_uri`` on another origin.
            FetchError: the metadata or JWKS could not be fetched.
        """
        self._require_origin(iss, iss)
        now = self._clock()
        cached = self._keys.get(iss)
        if cached is not None and now < cached.fetched_at + self._keys_ttl:
            unknown_kid = kid is not None and all(key.kid != kid for key in cached.keys)
            if not unknown_kid or now < cached.fetched_at + _KID_REFETCH_INTERVAL:
                return cached.keys
        return (await self._key_flights.run(iss, lambda: self._fetch_keys(iss))).keys

    async def _fetch_keys(self, iss: str) -> _Keys:
        url = jwt_vc_issuer_metadata_url(iss, allow_http_loopback=self._allow_insecure_loopback)
        metadata = parse_issuer_metadata(await self._fetch_json(url), expected_issuer=iss)
        keys = metadata.jwks
        if keys is None:
            assert metadata.jwks_uri is not None
            if _origin(metadata.jwks_uri) != _origin(iss):
                raise InvalidIssuerMetadata("the issuer's jwks_uri is not on the issuer's own origin")
            try:
                keys = parse_jwks(await self._fetch_json(metadata.jwks_uri))
            except JwkError as exc:
                raise InvalidIssuerMetadata(f"the issuer's JWKS is unusable: {exc.reason}") from None
        entry = _Keys(keys, self._clock())
        self._keys[iss] = entry
        return entry

    async def _fetch_json(self, url: str) -> object:
        fetched = await fetch_bounded(self._http, url, max_bytes=self._max_metadata_bytes, timeout=self._timeout,
                                      accept="application/json", content_types=frozenset({"application/json"}))
        try:
            return json_loads(fetched.body)
        except EncodingError as exc:
            raise InvalidIssuerMetadata(f"{url} did not return JSON: {exc.reason}") from None

    # --- status lists ---------------------------------------------------------------------------

    async def status(self, iss: str, reference: StatusReference) -> StatusLookup:
        """The status of the credential entry ``reference`` (from ``parse_status_claim``) of an ``iss`` credential.

        Raises:
            StatusIndexOutOfRange: ``reference.idx`` is outside the list (§8.3 step 6).
            and whatever :meth:`status_list` raises.
        """
        token = await self.status_list(iss, reference.uri)
        return StatusLookup(reference, token.status_list.get(reference.idx), token)

    async def status_list(self, iss: str, uri: str) -> StatusListToken:
        """The verified status list token at ``uri``, signed by one of ``iss``'s keys (Token Status List §8.3).

        Raises:
            InvalidStatusReference: ``uri`` is not on the issuer's registered origin, or not https.
            IssuerNotTrusted: no origin is registered for ``iss``.
            StatusListUnreachable: the list could not be fetched, now or within ``retry_after`` of the last attempt.
            StatusListError (subclasses): the token does not verify or its list is malformed.
            InvalidIssuerMetadata, IssuerKeyNotFound, FetchError: the issuer's keys could not be had.
        """
        origin = self._require_origin(iss, iss)
        if _origin(uri) != origin or not self._may_fetch(uri):
            raise InvalidStatusReference(f"the status list {uri} is not hosted at the issuer's origin {origin}",
                                         uri=uri)
        key = (iss, uri)
        now = self._clock()
        cached = self._lists.get(key)
        if cached is not None and now < cached.fresh_until:
            self._lists.move_to_end(key)
            return cached.token
        outage = self._outages.get(key)
        if outage is not None and now - outage.last_attempt > _OUTAGE_MEMORY:
            del self._outages[key]
            outage = None
        if outage is not None and now < outage.last_attempt + self._retry_after:
            raise self._unreachable(iss, uri, outage)
        return await self._list_flights.run(key, lambda: self._fetch_list(iss, uri))

    def unreachable_since(self, iss: str, uri: str) -> datetime | None:
        """When the list became unreachable (the first failed attempt since the last success), or ``None``."""
        outage = self._outages.get((iss, uri))
        return outage.since if outage is not None else None

    async def _fetch_list(self, iss: str, uri: str) -> StatusListToken:
        key = (iss, uri)
        cached = self._lists.get(key)
        conditional = {"If-None-Match": cached.etag} if cached is not None and cached.etag else {}
        try:
            fetched = await exchange_bounded(self._http, "GET", uri, max_bytes=self._max_status_list_bytes,
                                             timeout=self._timeout, accept=MEDIA_TYPE_STATUSLIST_JWT,
                                             headers=conditional)
            if cached is not None and conditional and fetched.status == 304:
                text, etag = cached.text, cached.etag
            else:
                _require_document(fetched.url, fetched.status, fetched.content_type)
                text, etag = _ascii(fetched.body), fetched.headers.get("etag")
        except FetchError as error:
            now = self._clock()
            previous = self._outages.pop(key, None)
            outage = _Outage(previous.since if previous is not None else now, now, error)
            self._remember(self._outages, key, outage)
            raise self._unreachable(iss, uri, outage) from None
        self._outages.pop(key, None)
        token = await self._verify_list(iss, uri, text)
        self._lists.pop(key, None)
        self._remember(self._lists, key, _List(token, text, etag, self._fresh_until(token)))
        return token

    async def _verify_list(self, iss: str, uri: str, text: str) -> StatusListToken:
        # The kid is read before the signature is checked, only to pick the key: fetch the
        # issuer's keys again if it names one we have not seen (a rotation since we cached them).
        max_jws = DEFAULT_MAX_JWS_BYTES + 2 * self._max_status_list_bytes
        kid = parse_compact(text, typ=TYP_STATUSLIST_JWT, max_bytes=max_jws).header.get("kid")
        keys = await self.issuer_keys(iss, kid=kid if isinstance(kid, str) else None)

        def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicJwk:
            named = header.get("kid")
            found = select_key(keys, kid=named if isinstance(named, str) else None, alg=header.get("alg"))
            if found is None:
                raise IssuerKeyNotFound(f"{iss} publishes no key with kid {named!r} for its status list", kid=named)
            return found

        return verify_status_list_token(text, key=resolve, expected_sub=uri, now=self._clock(),
                                        max_bytes=self._max_status_list_bytes, clock_skew=self._clock_skew)

    def _fresh_until(self, token: StatusListToken) -> datetime:
        ttl = timedelta(seconds=token.ttl) if token.ttl is not None else self._default_ttl
        until = self._clock() + min(ttl, self._max_ttl)
        return min(until, token.exp) if token.exp is not None else until

    def _unreachable(self, iss: str, uri: str, outage: _Outage) -> StatusListUnreachable:
        return StatusListUnreachable(
            f"the status list {uri} has been unreachable since {outage.since.isoformat()}: {outage.cause.reason}",
            iss=iss, uri=uri, since=outage.since, cause=outage.cause)

    def _remember(self, table: OrderedDict[tuple[str, str], Any], key: tuple[str, str], value: object) -> None:
        table[key] = value
        while len(table) > self._max_cached_lists:
            table.popitem(last=False)

    # --- where documents may come from ---------------------------------------------------------

    def _require_origin(self, iss: str, url: str) -> str:
        origin = self._issuer_origin(iss)
        if origin is None:
            raise IssuerNotTrusted(f"no origin is registered for the issuer {iss!r}, so nothing is fetched from it",
                                   iss=iss)
        if _origin(url) != origin:
            raise IssuerNotTrusted(f"the issuer {iss!r} is not on its registered origin {origin}", iss=iss)
        return origin

    def _may_fetch(self, url: str) -> bool:
        scheme = urlsplit(url).scheme
        return scheme == "https" or (scheme == "http" and self._allow_insecure_loopback and is_loopback_url(url))


def _origin(url: str) -> str | None:
    try:
        return origin_of(url)
    except ValueError:  # a port that is not a number
        return None


def _ascii(body: bytes) -> str:
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError:
        return ""  # not a JWS; verify_status_list_token says so


def _require_document(url: str, status: int, content_type: str) -> None:
    """The checks ``fetch_bounded`` makes, for the conditional request it cannot send."""
    if not 200 <= status < 300:
        raise FetchBadStatus(f"{url} answered HTTP {status}", url=url, status=status)
    if content_type != MEDIA_TYPE_STATUSLIST_JWT:
        raise FetchBadContentType(
            f"{url} answered with {content_type or 'no content type'}, expected {MEDIA_TYPE_STATUSLIST_JWT}",
            url=url, content_type=content_type)
