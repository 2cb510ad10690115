"""Presentation requests: creating one, serving its signed Request Object, and reading it back."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlmodel import Session

from tsunagu.dcql import parse_dcql_query
from tsunagu.encoding import b64url_encode
from tsunagu.explain import Decision
from tsunagu.oid4vp import (
    InvalidRequest,
    PurposeStatement,
    build_authorization_request_uri,
    request_object_claims,
    sign_request_object,
)
from tsunagu.purposes import get_purpose
from tsunagu.sealing import unseal
from tsunagu.settings import is_loopback_url
from tsunagu.trust import FlaggedClaim, TrustRegistry, over_asked_claims

from ..errors import RequestAlreadyAnswered, RequestExpired, UnknownRequest
from ..settings import VerifierSettings
from ..tables import VerifierConsentReceipt, VerifierRequest
from .tenants import Tenant

__all__ = ["NewRequest", "CreatedRequest", "RequestView", "create_request", "request_object", "view_request",
           "get_request", "request_uri_of", "response_uri_of", "claims_aad", "random_value"]


@dataclass(frozen=True, slots=True)
class NewRequest:
    purpose: str
    purpose_text_en: str | None
    purpose_text_ja: str | None
    dcql_query: Mapping[str, Any]
    retention_days: int
    redirect_uri: str | None = None
    request_uri_method: Literal["get", "post"] | None = None


@dataclass(frozen=True, slots=True)
class CreatedRequest:
    row: VerifierRequest
    request_uri: str
    authorization_request_uri: str
    #: Claims the query asks that the tenant's registration for the purpose does not cover.
    registration_warnings: tuple[FlaggedClaim, ...]


@dataclass(frozen=True, slots=True)
class RequestView:
    row: VerifierRequest
    decision: Decision | None
    claims: dict[str, Any] | None
    #: The resident's consent receipt that came with the accepted response (docs/consent.md).
    consent: VerifierConsentReceipt | None = None


def random_value() -> str:
    """128 bits from the OS CSPRNG, base64url: request ids, ``state``, ``nonce`` (OpenID4VP §5.2, §14.1)."""
    return b64url_encode(secrets.token_bytes(16))


def request_uri_of(settings: VerifierSettings, tenant: str, request_id: str) -> str:
    return f"{settings.public_url}/{tenant}/requests/{request_id}/object"


def response_uri_of(settings: VerifierSettings, tenant: str, request_id: str) -> str:
    return f"{settings.public_url}/{tenant}/responses/{request_id}"


def claims_aad(request_id: str) -> bytes:
    return f"verifier_request:{request_id}".encode()


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def create_request(
    session: Session, settings: VerifierSettings, tenant: Tenant, new: NewRequest, *,
    registry: TrustRegistry | None, now: datetime,
) -> CreatedRequest:
    """Store a new presentation request (fresh id, ``state`` and ``nonce``) and give its links.

    Raises:
        UnknownPurpose: the purpose is not in the vocabulary.
        InvalidDcqlQuery: the query is not valid DCQL.
        InvalidRequest: a ``redirect_uri`` that is not an absolute https URL without fragment.
    """
    purpose = get_purpose(new.purpose)
    query = parse_dcql_query(new.dcql_query)
    if new.redirect_uri is not None:
        _check_redirect_uri(new.redirect_uri, settings)
    row = VerifierRequest(
        id=random_value(), tenant=tenant.slug, client_id=tenant.client_id, state=random_value(), nonce=random_value(),
        purpose=purpose.code, purpose_text_en=new.purpose_text_en or purpose.description_en,
        purpose_text_ja=new.purpose_text_ja or purpose.description_ja, retention_days=new.retention_days,
        dcql_query=json.dumps(new.dcql_query, ensure_ascii=False), redirect_uri=new.redirect_uri,
        request_uri_method=new.request_uri_method, created_at=now,
        expires_at=now + timedelta(seconds=settings.request_lifetime_seconds),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    warnings: tuple[FlaggedClaim, ...] = ()
    entry = registry.find_verifier(tenant.client_id) if registry is not None else None
    if entry is not None:
        registration = next((r for r in entry.purposes if r.purpose == purpose.code), None)
        warnings = over_asked_claims(registration, query)
    request_uri = request_uri_of(settings, tenant.slug, row.id)
    link = build_authorization_request_uri(client_id=tenant.client_id, request_uri=request_uri,
                                           request_uri_method=new.request_uri_method)
    return CreatedRequest(row=row, request_uri=request_uri, authorization_request_uri=link,
                          registration_warnings=warnings)


def _check_redirect_uri(uri: str, settings: VerifierSettings) -> None:
    parts = urlsplit(uri)
    secure = parts.scheme == "https" or (parts.scheme == "http" and settings.allow_insecure_loopback
                                         and is_loopback_url(uri))
    if not secure or not parts.hostname or parts.fragment:
        raise InvalidRequest("redirect_uri must be an absolute https URL without a fragment")


def get_request(session: Session, tenant: str, request_id: str) -> VerifierRequest:
    """Raises: UnknownRequest."""
    row = session.get(VerifierRequest, request_id)
    if row is None or row.tenant != tenant:
        raise UnknownRequest(f"there is no request {request_id!r} for {tenant!r}")
    return row


def request_object(
    session: Session, settings: VerifierSettings, tenant: Tenant, request_id: str, *,
    registry: TrustRegistry | None, now: datetime, wallet_nonce: str | None = None,
) -> str:
    """The signed Request Object (OpenID4VP §5), signed now with the tenant's key.

    Raises:
        UnknownRequest, RequestExpired, RequestAlreadyAnswered.
    """
    row = get_request(session, tenant.slug, request_id)
    if row.status != "pending":
        raise RequestAlreadyAnswered("this request has already been answered; ask the verifier for a new one")
    expires_at = _aware(row.expires_at)
    if now >= expires_at:
        raise RequestExpired("this request has expired; ask the verifier for a new one")
    purpose = PurposeStatement(
        purpose=row.purpose, text_en=row.purpose_text_en, text_ja=row.purpose_text_ja,
        retention_days=row.retention_days, registry=registry.iss if registry is not None else None,
        registration=tenant.client_id,
    )
    claims = request_object_claims(
        client_id=tenant.client_id, response_uri=response_uri_of(settings, tenant.slug, row.id), nonce=row.nonce,
        state=row.state, dcql_query=json.loads(row.dcql_query), verifier_info=[purpose.to_verifier_info()],
        iat=now, exp=min(now + timedelta(seconds=settings.request_object_lifetime_seconds), expires_at),
        wallet_nonce=wallet_nonce,
    )
    if row.fetched_at is None:
        row.fetched_at = now
        session.add(row)
        session.commit()
    return sign_request_object(claims, key=tenant.key, x5c=tenant.x5c)


def view_request(
    session: Session, settings: VerifierSettings, tenant: str, request_id: str, *, now: datetime
) -> RequestView:
    """A request with its decision and, while they may be kept, the claims received."""
    row = get_request(session, tenant, request_id)
    if row.status == "pending" and now >= _aware(row.expires_at):
        row.status = "expired"
        session.add(row)
        session.commit()
        session.refresh(row)
    decision = Decision.from_json(json.loads(row.decision)) if row.decision else None
    claims = None
    if row.sealed_claims is not None and (row.retain_until is None or now < _aware(row.retain_until)):
        claims = json.loads(unseal(settings.master_key_bytes, row.sealed_claims, aad=claims_aad(row.id)))
    consent = session.get(VerifierConsentReceipt, row.id)
    return RequestView(row=row, decision=decision, claims=claims, consent=consent)
