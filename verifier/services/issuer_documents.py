"""The verifier's :class:`~tsunagu.service.issuer_documents.IssuerDocuments`, built from its settings.

One per process, in ``app.state.issuer_documents``: issuer keys and status list tokens are fetched
only from an issuer's origin in the trust registry, cached, and shared by every concurrent
verification (see ``tsunagu.service.issuer_documents`` for the rules).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx

from tsunagu.service.clock import Clock
from tsunagu.service.issuer_documents import IssuerDocuments, registered_issuer_origin
from tsunagu.trust import TrustRegistry

from ..settings import VerifierSettings

__all__ = ["build_issuer_documents"]


def build_issuer_documents(settings: VerifierSettings, http: httpx.AsyncClient, *,
                           registry: Callable[[], TrustRegistry | None], clock: Clock) -> IssuerDocuments:
    return IssuerDocuments(
        http,
        issuer_origin=registered_issuer_origin(registry),
        clock=clock,
        timeout=settings.http_timeout_seconds,
        max_metadata_bytes=settings.max_metadata_bytes,
        max_status_list_bytes=settings.max_status_list_bytes,
        allow_insecure_loopback=settings.allow_insecure_loopback,
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
        keys_ttl=timedelta(seconds=settings.issuer_keys_cache_seconds),
        default_status_list_ttl=timedelta(seconds=settings.status_list_default_ttl_seconds),
        max_status_list_ttl=timedelta(seconds=settings.status_list_max_ttl_seconds),
        retry_after=timedelta(seconds=settings.status_list_retry_seconds),
    )
