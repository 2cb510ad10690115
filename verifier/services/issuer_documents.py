"""Fetching what an issuer publishes: JWT VC Issuer Metadata (its keys) and status list tokens.

Only from the issuer's own origin, the one its registered identifier names: a credential must not
be able to make the verifier fetch from anywhere it likes (SSRF), and a key or a status that does
not come from the issuer's origin is not the issuer's word. Every fetch is bounded
(``tsunagu.service.http.fetch_bounded``); the core gets the documents as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from tsunagu.encoding import json_loads
from tsunagu.errors import EncodingError, InvalidIssuerMetadata, InvalidStatusReference, IssuerKeyNotFound, JwkError
from tsunagu.jwk import PublicJwk, parse_jwks, select_key
from tsunagu.oid4vp import origin_of
from tsunagu.sd_jwt_vc import jwt_vc_issuer_metadata_url, parse_issuer_metadata
from tsunagu.service.http import fetch_bounded
from tsunagu.settings import is_loopback_url
from tsunagu.status_list import MEDIA_TYPE_STATUSLIST_JWT, StatusListToken, verify_status_list_token

from ..settings import VerifierSettings

__all__ = ["IssuerDocuments"]


class IssuerDocuments:
    """The verifier's view of issuers' published documents, for one verification."""

    def __init__(self, http: httpx.AsyncClient, settings: VerifierSettings) -> None:
        self._http = http
        self._settings = settings
        self._keys: dict[str, tuple[PublicJwk, ...]] = {}

    async def issuer_keys(self, iss: str) -> tuple[PublicJwk, ...]:
        """The keys ``iss`` publishes in its JWT VC Issuer Metadata (SD-JWT VC §5).

        Raises:
            InvalidIssuerMetadata: a URL we may not fetch, a document that is not metadata for ``iss``,
                or a ``jwks_uri`` on another origin.
            FetchError: the network failed.
        """
        if iss in self._keys:
            return self._keys[iss]
        document = await self._fetch_json(self._metadata_url(iss))
        metadata = parse_issuer_metadata(document, expected_issuer=iss)
        keys = metadata.jwks
        if keys is None:
            assert metadata.jwks_uri is not None
            if origin_of(metadata.jwks_uri) != origin_of(iss):
                raise InvalidIssuerMetadata("the issuer's jwks_uri is not on the issuer's own origin")
            try:
                keys = parse_jwks(await self._fetch_json(metadata.jwks_uri))
            except JwkError as exc:
                raise InvalidIssuerMetadata(f"the issuer's JWKS is unusable: {exc.reason}") from None
        self._keys[iss] = keys
        return keys

    async def status_list(self, iss: str, uri: str, *, now: datetime) -> StatusListToken:
        """The verified status list token at ``uri``, signed by one of ``iss``'s keys.

        Raises:
            InvalidStatusReference: ``uri`` is not on the issuer's origin.
            StatusListError (and its subclasses), FetchError, InvalidIssuerMetadata.
        """
        if origin_of(uri) != origin_of(iss) or not self._may_fetch(uri):
            raise InvalidStatusReference(f"the status list {uri} is not hosted at the issuer's origin {origin_of(iss)}")
        keys = await self.issuer_keys(iss)
        fetched = await fetch_bounded(self._http, uri, max_bytes=self._settings.max_status_list_bytes,
                                      timeout=self._settings.http_timeout_seconds, accept=MEDIA_TYPE_STATUSLIST_JWT,
                                      content_types=frozenset({MEDIA_TYPE_STATUSLIST_JWT}))

        def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicJwk:
            kid = header.get("kid")
            key = select_key(keys, kid=kid if isinstance(kid, str) else None, alg=header.get("alg"))
            if key is None:
                raise IssuerKeyNotFound(f"{iss} publishes no key with kid {kid!r} for its status list", kid=kid)
            return key

        try:
            token = fetched.body.decode("ascii").strip()
        except UnicodeDecodeError:
            token = ""
        return verify_status_list_token(token, key=resolve, expected_sub=uri, now=now,
                                        max_bytes=self._settings.max_status_list_bytes,
                                        clock_skew=timedelta(seconds=self._settings.clock_skew_seconds))

    def _may_fetch(self, url: str) -> bool:
        scheme = urlsplit(url).scheme
        loopback = self._settings.allow_insecure_loopback and is_loopback_url(url)
        return scheme == "https" or (scheme == "http" and loopback)

    def _metadata_url(self, iss: str) -> str:
        return jwt_vc_issuer_metadata_url(iss, allow_http_loopback=self._settings.allow_insecure_loopback)

    async def _fetch_json(self, url: str) -> object:
        fetched = await fetch_bounded(self._http, url, max_bytes=self._settings.max_metadata_bytes,
                                      timeout=self._settings.http_timeout_seconds, accept="application/json",
                                      content_types=frozenset({"application/json"}))
        try:
            return json_loads(fetched.body)
        except EncodingError as exc:
            raise InvalidIssuerMetadata(f"{url} did not return JSON: {exc.reason}") from None
