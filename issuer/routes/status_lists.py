"""The status list endpoint (Token Status List §8.1, §8.2): one signed status list token per list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response

from tsunagu.status_list import MEDIA_TYPE_STATUSLIST_JWT

from ..deps import ClockDep, SessionDep, SettingsDep, StatusListCacheDep, TenantDep
from ..services.status_lists import etag_matches, published_status_list

router = APIRouter(tags=["status lists"])

_TOKEN_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The status list token (JWS compact serialization), typ statuslist+jwt",
        "content": {MEDIA_TYPE_STATUSLIST_JWT: {"schema": {"type": "string"}}},
    },
    304: {"description": "Not modified: the token named by If-None-Match is still the current one"},
}


@router.get("/{tenant}/status-lists/{list_number}", response_class=Response, responses=_TOKEN_RESPONSE)
def status_list(
    tenant: TenantDep,
    list_number: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    settings: SettingsDep,
    cache: StatusListCacheDep,
    now: ClockDep,
    if_none_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    """A status list token (§5.1): `sub` is this URL, `ttl` how long to cache it; changes appear in the next token."""
    published = published_status_list(session, settings, cache, tenant, list_number, now=now)
    headers = {
        "ETag": published.etag,
        "Cache-Control": f"max-age={published.max_age}",
        # §8.1: browser-based clients may fetch it too; the token is public.
        "Access-Control-Allow-Origin": "*",
    }
    if etag_matches(if_none_match, published.etag):
        return Response(status_code=304, headers=headers)
    return Response(published.token, media_type=MEDIA_TYPE_STATUSLIST_JWT, headers=headers)
