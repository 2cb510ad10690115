"""IssuerDocuments as its two users see it: where it fetches from, what it verifies, how long it keeps a
list, how concurrent lookups share one fetch, and what an outage looks like.

The issuer is a small ASGI app (its requests are counted); time is a movable clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tsunagu.errors import (
    InvalidStatusReference,
    IssuerKeyNotFound,
    StatusListSignatureInvalid,
    StatusListSubjectMismatch,
    StatusListTokenExpired,
    UnexpectedTyp,
)
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.service.http import FetchBadContentType, FetchBadStatus, FetchUnreachable
from tsunagu.service.issuer_documents import IssuerDocuments, StatusListUnreachable, registered_issuer_origin
from tsunagu.status_list import (
    INVALID,
    MEDIA_TYPE_STATUSLIST_JWT,
    SUSPENDED,
    VALID,
    StatusList,
    StatusReference,
    issue_status_list_token,
)
from tsunagu.trust import (
    IssuerEntry,
    IssuerNotTrusted,
    LocalizedText,
    TrustRegistry,
    build_trust_registry,
    load_trust_registry,
)
from tsunagu.x509 import create_root_ca

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ISS = "https://issuer.test/employer"
URI = "https://issuer.test/employer/status-lists/1"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Issuer:
    """What the fake issuer serves; a test changes it between lookups."""

    clock: Clock
    key: PrivateJwk = field(default_factory=lambda: generate_key("ES256", kid="k1"))
    published: list[PrivateJwk] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=lambda: {"metadata": 0, "status": 0})
    conditional: list[str | None] = field(default_factory=list)
    ttl: int | None = 600
    lifetime: timedelta | None = timedelta(hours=1)  # exp = iat + lifetime
    age: timedelta = timedelta(0)  # iat = the time of signing - age
    sub: str = URI
    etag: str | None = None
    failure: Response | None = None
    release: anyio.Event | None = None  # when set, the list is served only after it fires
    statuses: dict[int, int] = field(default_factory=lambda: {7: INVALID, 9: SUSPENDED})

    def token(self) -> str:
        status_list = StatusList.new(1024, 2)
        for idx, value in self.statuses.items():
            status_list.set(idx, value)
        iat = self.clock() - self.age
        return issue_status_list_token(status_list, key=self.key, sub=self.sub, iat=iat,
                                       exp=iat + self.lifetime if self.lifetime else None, ttl=self.ttl)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/jwt-vc-issuer/employer")
        def metadata() -> JSONResponse:
            self.hits["metadata"] += 1
            keys = [k.public.to_jwk() for k in (self.published or [self.key])]
            return JSONResponse({"issuer": ISS, "jwks": {"keys": keys}})

        @app.get("/employer/status-lists/1")
        async def status(request: Request) -> Response:
            self.hits["status"] += 1
            self.conditional.append(request.headers.get("if-none-match"))
            if self.release is not None:
                await self.release.wait()
            if self.failure is not None:
                return self.failure
            if self.etag is not None and request.headers.get("if-none-match") == self.etag:
                return Response(status_code=304, headers={"ETag": self.etag})
            headers = {"ETag": self.etag} if self.etag else {}
            return Response(self.token(), media_type=MEDIA_TYPE_STATUSLIST_JWT, headers=headers)

        return app


@dataclass
class Setup:
    clock: Clock
    issuer: Issuer
    documents: IssuerDocuments


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    clock = Clock()
    issuer = Issuer(clock)
    async with httpx.AsyncClient(mounts={"https://issuer.test": httpx.ASGITransport(issuer.app())}) as http:
        documents = IssuerDocuments(http, issuer_origin=lambda iss: "https://issuer.test" if iss == ISS else None,
                                    clock=clock, timeout=5.0)
        yield Setup(clock, issuer, documents)


async def test_a_credentials_status_is_read_from_the_verified_list(setup: Setup) -> None:
    revoked = await setup.documents.status(ISS, StatusReference(7, URI))
    assert (revoked.value, revoked.token.iat, revoked.token.sub) == (INVALID, NOW, URI)
    assert (await setup.documents.status(ISS, StatusReference(9, URI))).value == SUSPENDED
    assert (await setup.documents.status(ISS, StatusReference(3, URI))).value == VALID
    assert setup.issuer.hits == {"metadata": 1, "status": 1}


async def test_twenty_concurrent_lookups_on_a_cold_cache_fetch_the_list_once(setup: Setup) -> None:
    setup.issuer.release = anyio.Event()
    values: list[int] = []

    async def look_up(idx: int) -> None:
        values.append((await setup.documents.status(ISS, StatusReference(idx, URI))).value)

    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(look_up, 7 if n % 2 else 3)
        with anyio.fail_after(5):
            while setup.issuer.hits["status"] == 0:  # the first fetch is at the issuer and held there
                await anyio.sleep(0.01)
        await anyio.sleep(0.05)  # every lookup has started and is waiting
        setup.issuer.release.set()
    assert sorted(values) == [VALID] * 10 + [INVALID] * 10
    assert setup.issuer.hits == {"metadata": 1, "status": 1}


async def test_a_cancelled_lookup_does_not_cancel_the_fetch_others_wait_for(setup: Setup) -> None:
    setup.issuer.release = anyio.Event()
    results: list[int] = []

    async def look_up() -> None:
        results.append((await setup.documents.status(ISS, StatusReference(7, URI))).value)

    async with anyio.create_task_group() as group:
        async with anyio.create_task_group() as first:
            first.start_soon(look_up)
            with anyio.fail_after(5):
                while setup.issuer.hits["status"] == 0:
                    await anyio.sleep(0.01)
            first.cancel_scope.cancel()  # the lookup that started the fetch gives up
        group.start_soon(look_up)
        await anyio.sleep(0.05)
        setup.issuer.release.set()
    assert results == [INVALID]
    assert setup.issuer.hits["status"] == 1


@pytest.mark.parametrize(("ttl", "lifetime", "fresh_for"), [
    (600, timedelta(hours=1), timedelta(seconds=600)),  # ttl rules
    (3600, timedelta(seconds=300), timedelta(seconds=300)),  # never past exp
    (None, timedelta(hours=1), timedelta(minutes=5)),  # no ttl: the default
    (10**9, None, timedelta(days=1)),  # a ttl beyond the maximum, no exp: the maximum
], ids=["ttl", "exp-before-ttl", "default-ttl", "max-ttl"])
async def test_a_list_is_kept_for_its_ttl_and_never_past_its_exp(
    setup: Setup, ttl: int | None, lifetime: timedelta | None, fresh_for: timedelta
) -> None:
    setup.issuer.ttl, setup.issuer.lifetime = ttl, lifetime
    await setup.documents.status_list(ISS, URI)
    setup.clock.now = NOW + fresh_for - timedelta(seconds=1)
    await setup.documents.status_list(ISS, URI)
    assert setup.issuer.hits["status"] == 1
    setup.clock.now = NOW + fresh_for
    await setup.documents.status_list(ISS, URI)
    assert setup.issuer.hits["status"] == 2


async def test_a_revocation_is_seen_after_the_ttl(setup: Setup) -> None:
    assert (await setup.documents.status(ISS, StatusReference(3, URI))).value == VALID
    setup.issuer.statuses[3] = INVALID
    setup.clock.advance(seconds=599)
    assert (await setup.documents.status(ISS, StatusReference(3, URI))).value == VALID  # cached, as the ttl allows
    setup.clock.advance(seconds=1)
    after = await setup.documents.status(ISS, StatusReference(3, URI))
    assert (after.value, after.token.iat) == (INVALID, NOW + timedelta(seconds=600))


async def test_an_unchanged_list_is_revalidated_with_its_etag(setup: Setup) -> None:
    setup.issuer.etag = '"v1"'
    first = await setup.documents.status_list(ISS, URI)
    setup.clock.advance(seconds=600)
    again = await setup.documents.status_list(ISS, URI)
    assert again == first  # the 304 kept the token already verified
    assert setup.issuer.conditional == [None, '"v1"']
    setup.clock.advance(seconds=599)
    await setup.documents.status_list(ISS, URI)
    assert setup.issuer.hits["status"] == 2  # the 304 made the token fresh for another ttl


async def test_a_304_for_a_token_past_its_exp_is_not_accepted(setup: Setup) -> None:
    setup.issuer.etag, setup.issuer.ttl, setup.issuer.lifetime = '"v1"', 600, timedelta(seconds=900)
    await setup.documents.status_list(ISS, URI)
    setup.clock.advance(seconds=2000)
    with pytest.raises(StatusListTokenExpired):
        await setup.documents.status_list(ISS, URI)


async def test_an_outage_is_remembered_since_its_first_failure_and_retried(setup: Setup) -> None:
    setup.issuer.failure = Response("<h1>Service Unavailable</h1>", status_code=503, media_type="text/html")
    with pytest.raises(StatusListUnreachable) as first:
        await setup.documents.status_list(ISS, URI)
    assert (first.value.since, first.value.iss, first.value.uri, first.value.code) == (
        NOW, ISS, URI, "status_list.unreachable")
    assert isinstance(first.value.cause, FetchBadStatus)
    assert "503" in first.value.reason and NOW.isoformat() in first.value.reason

    setup.clock.advance(seconds=29)
    with pytest.raises(StatusListUnreachable) as remembered:  # within retry_after: at once, no request
        await setup.documents.status_list(ISS, URI)
    assert (remembered.value.since, setup.issuer.hits["status"]) == (NOW, 1)

    setup.clock.advance(seconds=1)
    setup.issuer.failure = Response("<html>maintenance</html>", media_type="text/html")
    with pytest.raises(StatusListUnreachable) as retried:
        await setup.documents.status_list(ISS, URI)
    assert (retried.value.since, setup.issuer.hits["status"]) == (NOW, 2)  # still unreachable since the first
    assert isinstance(retried.value.cause, FetchBadContentType)
    assert setup.documents.unreachable_since(ISS, URI) == NOW

    setup.clock.advance(seconds=30)
    setup.issuer.failure = None
    await setup.documents.status_list(ISS, URI)
    assert setup.documents.unreachable_since(ISS, URI) is None


async def test_an_outage_nobody_asked_about_for_a_day_is_forgotten(setup: Setup) -> None:
    setup.issuer.failure = Response(status_code=503)
    with pytest.raises(StatusListUnreachable):
        await setup.documents.status_list(ISS, URI)
    setup.clock.advance(days=1, seconds=1)
    with pytest.raises(StatusListUnreachable) as later:
        await setup.documents.status_list(ISS, URI)
    assert later.value.since == setup.clock.now


def _altered(token: str) -> str:
    """One character of the signature changed."""
    return token[:-10] + ("B" if token[-10] == "A" else "A") + token[-9:]


@pytest.mark.parametrize(("tamper", "error"), [
    (lambda issuer: setattr(issuer, "sub", "https://issuer.test/employer/status-lists/2"), StatusListSubjectMismatch),
    (lambda issuer: setattr(issuer, "published", [generate_key("ES256", kid="k1")]), StatusListSignatureInvalid),
    (lambda issuer: setattr(issuer, "failure", Response(_altered(issuer.token()), media_type=MEDIA_TYPE_STATUSLIST_JWT)),
     StatusListSignatureInvalid),
    (lambda issuer: setattr(issuer, "age", timedelta(hours=2)), StatusListTokenExpired),
    (lambda issuer: setattr(issuer, "failure", Response("eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.e30.AAAA",
                                                        media_type=MEDIA_TYPE_STATUSLIST_JWT)), UnexpectedTyp),
], ids=["sub-of-another-list", "signed-by-another-key", "altered", "expired", "typ-jwt"])
async def test_a_list_that_does_not_verify_is_refused_and_not_an_outage(
    setup: Setup, tamper: Callable[[Issuer], None], error: type[Exception]
) -> None:
    tamper(setup.issuer)
    with pytest.raises(error):
        await setup.documents.status_list(ISS, URI)
    assert setup.documents.unreachable_since(ISS, URI) is None
    with pytest.raises(error):  # nothing was cached: asked again, fetched again
        await setup.documents.status_list(ISS, URI)
    assert setup.issuer.hits["status"] == 2


async def test_a_rotated_key_is_fetched_when_a_list_names_it(setup: Setup) -> None:
    old = setup.issuer.key
    await setup.documents.status_list(ISS, URI)
    setup.issuer.key = generate_key("ES256", kid="k2")
    setup.issuer.published = [old, setup.issuer.key]
    setup.clock.advance(seconds=600)
    await setup.documents.status_list(ISS, URI)
    assert setup.issuer.hits == {"metadata": 2, "status": 2}


async def test_an_unknown_kid_refetches_the_keys_at_most_every_ten_seconds(setup: Setup) -> None:
    await setup.documents.issuer_keys(ISS)
    setup.clock.advance(seconds=5)
    assert len(await setup.documents.issuer_keys(ISS, kid="made-up")) == 1
    assert setup.issuer.hits["metadata"] == 1
    setup.clock.advance(seconds=5)
    await setup.documents.issuer_keys(ISS, kid="made-up")
    assert setup.issuer.hits["metadata"] == 2
    setup.issuer.key = generate_key("ES256", kid="k3")  # signs lists, but is not published
    setup.issuer.published = [generate_key("ES256", kid="k1")]
    with pytest.raises(IssuerKeyNotFound):
        await setup.documents.status_list(ISS, URI)


async def test_keys_are_kept_for_their_ttl(setup: Setup) -> None:
    await setup.documents.issuer_keys(ISS)
    setup.clock.advance(seconds=299)
    await setup.documents.issuer_keys(ISS)
    assert setup.issuer.hits["metadata"] == 1
    setup.clock.advance(seconds=1)
    await setup.documents.issuer_keys(ISS)
    assert setup.issuer.hits["metadata"] == 2


# --- where documents may come from: nothing is fetched from anywhere else -----------------------------------


def _nothing_is_fetched(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"fetched {request.url}")


@pytest.mark.parametrize(("iss", "uri", "error"), [
    (ISS, "https://attacker.test/employer/status-lists/1", InvalidStatusReference),
    (ISS, "https://issuer.test.attacker.test/status", InvalidStatusReference),
    (ISS, "https://issuer.test:8443/employer/status-lists/1", InvalidStatusReference),
    (ISS, "http://issuer.test/employer/status-lists/1", InvalidStatusReference),
    (ISS, "https://issuer.test:99999/employer/status-lists/1", InvalidStatusReference),
    (ISS, "http://169.254.169.254/latest/meta-data", InvalidStatusReference),
    (ISS, "file:///etc/passwd", InvalidStatusReference),
    ("https://unregistered.test/hr", "https://unregistered.test/hr/status-lists/1", IssuerNotTrusted),
], ids=["other-host", "suffix-host", "other-port", "plain-http", "bad-port", "metadata-service", "file", "unregistered"])
async def test_a_status_uri_off_the_issuers_registered_origin_is_never_fetched(
    iss: str, uri: str, error: type[Exception]
) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_nothing_is_fetched)) as http:
        documents = IssuerDocuments(http, issuer_origin=lambda i: "https://issuer.test" if i == ISS else None)
        with pytest.raises(error):
            await documents.status_list(iss, uri)
        with pytest.raises(IssuerNotTrusted):
            await documents.issuer_keys("https://unregistered.test/hr")


@pytest.mark.parametrize("allow", [False, True])
async def test_plain_http_only_on_loopback_and_only_when_allowed(allow: bool) -> None:
    requested: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        raise httpx.ConnectError("refused", request=request)

    loopback = "http://127.0.0.1:8001/employer"
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        documents = IssuerDocuments(http, issuer_origin=lambda iss: "http://127.0.0.1:8001",
                                    allow_insecure_loopback=allow)
        expected: type[Exception] = StatusListUnreachable if allow else InvalidStatusReference
        with pytest.raises(expected) as raised:
            await documents.status_list(loopback, f"{loopback}/status-lists/1")
    assert requested == ([f"{loopback}/status-lists/1"] if allow else [])
    if allow:
        assert isinstance(raised.value, StatusListUnreachable) and isinstance(raised.value.cause, FetchUnreachable)


def test_the_registry_gives_each_issuer_its_own_origin_and_is_read_at_each_call() -> None:
    registry_key, root_key = generate_key("ES256"), generate_key("ES256")
    root = create_root_ca(root_key, common_name="root", now=NOW, valid_for=timedelta(days=1))
    issuers = [IssuerEntry(ISS, LocalizedText("Sakura Logistics", "さくら物流"), ("urn:test:employment",))]
    token = build_trust_registry(iss="https://registry.test", root_certificate=root, issuers=issuers, verifiers=[],
                                 key=registry_key, iat=NOW, exp=NOW + timedelta(days=1))
    current: dict[str, Any] = {"registry": None}
    origin = registered_issuer_origin(lambda: current["registry"])
    assert origin(ISS) is None
    registry: TrustRegistry = load_trust_registry(token, key=registry_key.public, now=NOW)
    current["registry"] = registry
    assert origin(ISS) == "https://issuer.test"
    assert origin("https://issuer.test/another-tenant") is None
