"""Presentation requests: creating one, serving its signed Request Object, and reading it back."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from tsunagu.service.database import utc
from tsunagu.settings import is_loopback_url
from tsunagu.trust import FlaggedClaim, TrustRegistry, access_exceeded, over_asked_claims

from ..errors import InvalidAccessPeriod, RequestAlreadyAnswered, RequestExpired, UnknownRequest
from ..settings import VerifierSettings
from ..tables import VerifierConsentReceipt, VerifierRequest
from .tenants import Tenant

__all__ = ["NewRequest", "CreatedRequest", "AccessWarning", "RequestView", "create_request", "request_object", "view_request",
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
    #: ``ongoing``: the verifier may ask the wallet for fresh presentations for ``access_period_days``.
    access_type: Literal["one-time", "ongoing"] = "one-time"
    access_period_days: int | None = None


@dataclass(frozen=True, slots=True)
class AccessWarning:
    """Ongoing access the tenant's registration for the purpose does not allow (or not that long)."""

    access_period_days: int
    #: What the registration allows: ``None`` for one-time access only.
    allowed_days: int | None
    reason_en: str
    reason_ja: str


@dataclass(frozen=True, slots=True)
class CreatedRequest:
    row: VerifierRequest
    request_uri: str
    authorization_request_uri: str
    #: Claims the query asks that the tenant's registration for the purpose does not cover.
    registration_warnings: tuple[FlaggedClaim, ...]
    #: Set when the requested ongoing access lies outside the registration (wallets will flag it).
    access_warning: AccessWarning | None = None


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



def create_request(
    session: Session, settings: VerifierSettings, tenant: Tenant, new: NewRequest, *,
    registry: TrustRegistry | None, now: datetime,
) -> CreatedRequest:
    """Store a new presentation request (fresh id, ``state`` and ``nonce``) and give its links.

    Raises:
        UnknownPurpose: the purpose is not in the vocabulary.
        InvalidDcqlQuery: the query is not valid DCQL.
        InvalidRequest: a ``redirect_uri`` that is not an absolute https URL without fragment.
        InvalidAccessPeriod: ``access_period_days`` given without ongoing access, or missing with it.
    """
    purpose = get_purpose(new.purpose)
    query = parse_dcql_query(new.dcql_query)
    if new.redirect_uri is not None:
        _check_redirect_uri(new.redirect_uri, settings)
    _check_access(new)
    row = VerifierRequest(
        id=random_value(), tenant=tenant.slug, client_id=tenant.client_id, state=random_value(), nonce=random_value(),
        purpose=purpose.code, purpose_text_en=new.purpose_text_en or purpose.description_en,
        purpose_text_ja=new.purpose_text_ja or purpose.description_ja, retention_days=new.retention_days,
        dcql_query=json.dumps(new.dcql_query, ensure_ascii=False), redirect_uri=new.redirect_uri,
        request_uri_method=new.request_uri_method, created_at=now,
        expires_at=now + timedelta(seconds=settings.request_lifetime_seconds),
        access_type=new.access_type, access_period_days=new.access_period_days,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    warnings: tuple[FlaggedClaim, ...] = ()
    access_warning = None
    entry = registry.find_verifier(tenant.client_id) if registry is not None else None
    if entry is not None:
        registration = next((r for r in entry.purposes if r.purpose == purpose.code), None)
        warnings = over_asked_claims(registration, query)
        # Without a registration for the purpose, over_asked_claims already flags every claim.
        if registration is not None and new.access_period_days is not None and access_exceeded(
                registration, new.access_period_days):
            access_warning = _access_warning(new.access_period_days, registration.max_access_period_days)
    request_uri = request_uri_of(settings, tenant.slug, row.id)
    link = build_authorization_request_uri(client_id=tenant.client_id, request_uri=request_uri,
                                           request_uri_method=new.request_uri_method)
    return CreatedRequest(row=row, request_uri=request_uri, authorization_request_uri=link,
                          registration_warnings=warnings, access_warning=access_warning)


def _check_access(new: NewRequest) -> None:
    if new.access_type == "ongoing":
        if new.access_period_days is None or new.access_period_days < 1:
            raise InvalidAccessPeriod("ongoing access needs access_period_days of at least one day")
    elif new.access_period_days is not None:
        raise InvalidAccessPeriod("access_period_days belongs to ongoing access only (access_type 'ongoing')")


def _access_warning(days: int, allowed: int | None) -> AccessWarning:
    if allowed is None:
        return AccessWarning(days, None,
                             "The registration for this purpose allows one-time access only, not ongoing access.",
                             "この目的の登録は一回限りの提供のみで、継続的な提供は認められていません。")
    return AccessWarning(days, allowed,
                         f"The registration for this purpose allows ongoing access for at most {allowed} days, "
                         f"not {days}.",
                         f"この目的の登録で認められた継続提供の期間は最長{allowed}日で、{days}日ではありません。")


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
    expires_at = utc(row.expires_at)
    if now >= expires_at:
        raise RequestExpired("this request has expired; ask the verifier for a new one")
    purpose = PurposeStatement(
        purpose=row.purpose, text_en=row.purpose_text_en, text_ja=row.purpose_text_ja,
        retention_days=row.retention_days, registry=registry.iss if registry is not None else None,
        registration=tenant.client_id, access_type=row.access_type, access_period_days=row.access_period_days,
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
    if row.status == "pending" and now >= utc(row.expires_at):
        row.status = "expired"
        session.add(row)
        session.commit()
        session.refresh(row)
    decision = Decision.from_json(json.loads(row.decision)) if row.decision else None
    claims = None
    if row.sealed_claims is not None and (row.retain_until is None or now < utc(row.retain_until)):
        claims = json.loads(unseal(settings.master_key_bytes, row.sealed_claims, aad=claims_aad(row.id)))
    consent = session.get(VerifierConsentReceipt, row.id)
    return RequestView(row=row, decision=decision, claims=claims, consent=consent)
