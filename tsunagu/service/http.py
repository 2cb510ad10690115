"""Bounded outbound HTTP: every document a service fetches (issuer metadata, JWKS, status lists,
request objects, credential offers) goes through :func:`fetch_bounded`.

A hostile or broken server must not be able to make a service hang, fill its memory, or follow a
redirect somewhere else: the body is read in chunks up to ``max_bytes``, the whole exchange has a
deadline (a server that trickles one byte a second is cut off), and redirects are not followed.
Failures are typed, and their responsible party is the network or the remote service, never the
resident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import httpx
from fastapi import Depends, Request

from ..encoding import json_loads
from ..errors import EncodingError, TsunaguError

__all__ = [
    "FetchedDocument",
    "FetchError",
    "FetchUnreachable",
    "FetchTimeout",
    "FetchTooLarge",
    "FetchBadStatus",
    "FetchBadContentType",
    "fetch_bounded",
    "exchange_bounded",
    "HttpDep",
]


class FetchError(TsunaguError):
    """A document could not be fetched; ``details["url"]`` says which."""

    code = "fetch.failed"


class FetchUnreachable(FetchError):
    code = "fetch.unreachable"


class FetchTimeout(FetchError):
    code = "fetch.timeout"


class FetchTooLarge(FetchError):
    code = "fetch.too_large"


class FetchBadStatus(FetchError):
    code = "fetch.bad_status"


class FetchBadContentType(FetchError):
    code = "fetch.bad_content_type"


@dataclass(frozen=True, slots=True)
class FetchedDocument:
    url: str
    status: int
    content_type: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> object:
        """The body as strict JSON, or ``None`` when it is empty or not JSON."""
        try:
            return json_loads(self.body) if self.body else None
        except EncodingError:
            return None


async def exchange_bounded(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    accept: str = "application/json",
    data: Mapping[str, str] | None = None,
    json: Any = None,
    content: str | bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> FetchedDocument:
    """One request with a size bound and a deadline, returning the answer whatever its status.

    For calls whose error answers matter (a token endpoint's ``error`` code, a verifier's answer
    to a presentation); :func:`fetch_bounded` is the variant that refuses non-2xx answers.

    Raises:
        FetchUnreachable, FetchTimeout, FetchTooLarge.
    """
    try:
        with anyio.fail_after(timeout):
            async with client.stream(
                method,
                url,
                headers={"Accept": accept, **(headers or {})},
                data=data,
                json=json,
                content=content,
                timeout=httpx.Timeout(timeout),
                follow_redirects=False,
            ) as response:
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise _too_large(url, max_bytes)
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > max_bytes:
                        raise _too_large(url, max_bytes)
                content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                return FetchedDocument(url, response.status_code, content_type, dict(response.headers), bytes(body))
    except TimeoutError as exc:
        raise FetchTimeout(f"{url} did not answer within {timeout:g} seconds", url=url) from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"{url} did not answer within {timeout:g} seconds", url=url) from exc
    except httpx.HTTPError as exc:
        raise FetchUnreachable(f"{url} could not be reached ({type(exc).__name__})", url=url) from exc


async def fetch_bounded(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    accept: str = "application/json",
    content_types: frozenset[str] | None = None,
    method: str = "GET",
    data: Mapping[str, str] | None = None,
) -> FetchedDocument:
    """Fetch ``url`` with a size bound and a deadline; only a 2xx answer is a document.

    ``content_types``, when given, lists the media types (without parameters) accepted in the
    answer's ``Content-Type``: an HTML error page where a JWT was expected is refused here.

    Raises:
        FetchUnreachable, FetchTimeout, FetchTooLarge, FetchBadStatus, FetchBadContentType.
    """
    document = await exchange_bounded(
        client, method, url, max_bytes=max_bytes, timeout=timeout, accept=accept, data=data
    )
    if not document.ok:
        raise FetchBadStatus(f"{url} answered HTTP {document.status}", url=url, status=document.status)
    if content_types is not None and document.content_type not in content_types:
        raise FetchBadContentType(
            f"{url} answered with {document.content_type or 'no content type'}, "
            f"expected {' or '.join(sorted(content_types))}",
            url=url,
            content_type=document.content_type,
        )
    return document


def _too_large(url: str, max_bytes: int) -> FetchTooLarge:
    return FetchTooLarge(f"{url} sent more than {max_bytes} bytes", url=url, max_bytes=max_bytes)


def _http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http
    return client


#: The service's outbound client (``app.state.http``): a test passes one routed to other apps.
HttpDep = Annotated[httpx.AsyncClient, Depends(_http)]
