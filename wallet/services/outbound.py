"""Bounded outbound POSTs whose error answers matter (token, nonce, credential, direct_post).

``tsunagu.service.http.fetch_bounded`` refuses any non-2xx answer without its body; at an
issuer's token or credential endpoint the body of a 400 is the point (its ``error`` code), and a
verifier's answer to a presentation is kept in the resident's log. This helper has the same
bounds (size, deadline, no redirects) and the same typed failures, but returns every status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from tsunagu.encoding import json_loads
from tsunagu.errors import EncodingError
from tsunagu.service.http import FetchTimeout, FetchTooLarge, FetchUnreachable

__all__ = ["Answer", "post_bounded"]


@dataclass(frozen=True, slots=True)
class Answer:
    url: str
    status: int
    content_type: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> object:
        """The body as strict JSON, or ``None`` when it is not JSON."""
        try:
            return json_loads(self.body) if self.body else None
        except EncodingError:
            return None


async def post_bounded(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    data: Mapping[str, str] | None = None,
    json: Any = None,
    content: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """POST and read the answer, whatever its status, up to ``max_bytes``.

    Raises:
        FetchUnreachable, FetchTimeout, FetchTooLarge.
    """
    try:
        with anyio.fail_after(timeout):
            async with client.stream(
                "POST", url, data=data, json=json, content=content, headers=dict(headers or {}),
                timeout=httpx.Timeout(timeout), follow_redirects=False,
            ) as response:
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchTooLarge(f"{url} sent more than {max_bytes} bytes", url=url, max_bytes=max_bytes)
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchTooLarge(f"{url} sent more than {max_bytes} bytes", url=url, max_bytes=max_bytes)
                content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                return Answer(url, response.status_code, content_type, dict(response.headers), bytes(body))
    except TimeoutError as exc:
        raise FetchTimeout(f"{url} did not answer within {timeout:g} seconds", url=url) from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"{url} did not answer within {timeout:g} seconds", url=url) from exc
    except httpx.HTTPError as exc:
        raise FetchUnreachable(f"{url} could not be reached ({type(exc).__name__})", url=url) from exc
