"""Refreshing an ongoing consent: ask the wallet, server to server, for a fresh presentation (docs/consent.md).

The verifier signs a ``consent-refresh+jwt`` (its request-signing key and ``x5c``, a fresh nonce,
``aud`` = the wallet) and POSTs it to the receipt's ``refresh_uri``; the wallet answers with a
``vp_token`` of exactly the consented claims, bound to that nonce and to this verifier's
``client_id``. The answer is verified by the same pipeline as an OpenID4VP response and stored as
a new request row (``kind`` ``refresh``) under the consent, so its data is deleted with the rest
when the consent ends or its retention does.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlmodel import Session, col, select

from tsunagu import jose
from tsunagu.consent import (
    MEDIA_TYPE_CONSENT_REFRESH_REQUEST,
    TYP_CONSENT_RECEIPT,
    ConsentRefreshRequest,
    build_consent_refresh_request,
)
from tsunagu.dcql import parse_dcql_query, parse_vp_token
from tsunagu.errors import JoseError, TsunaguError
from tsunagu.explain import decide
from tsunagu.sealing import seal
from tsunagu.service.database import utc
from tsunagu.service.http import FetchError, exchange_bounded
from tsunagu.service.issuer_documents import IssuerDocuments
from tsunagu.trust import TrustRegistry

from ..errors import (
    ConsentEnded,
    ConsentNotOngoing,
    ConsentRefreshRefused,
    RefreshUriRefused,
    UnknownConsent,
    WalletKeysLocationRefused,
    WalletUnavailable,
)
from ..settings import VerifierSettings
from ..tables import VerifierConsentNotice, VerifierConsentReceipt, VerifierRequest
from .consent_receipts import check_refresh_within_consent, wallet_jwks_url
from .requests import claims_aad, random_value
from .tenants import Tenant
from .verification import VerificationContext, policy_from, verify_vp_token

__all__ = ["consent_receipts_of", "receipt_claim", "same_origin_uri", "refresh_consent"]


def consent_receipts_of(session: Session, tenant: str, consent_id: str) -> list[VerifierConsentReceipt]:
    """The stored receipt rows of a consent, the first request's first. Raises: UnknownConsent."""
    rows = list(session.exec(select(VerifierConsentReceipt).where(
        VerifierConsentReceipt.tenant == tenant, VerifierConsentReceipt.consent_id == consent_id)
        .order_by(col(VerifierConsentReceipt.received_at))))
    if not rows:
        raise UnknownConsent(f"this verifier holds no consent {consent_id!r}")
    return rows


def receipt_claim(stored: VerifierConsentReceipt, name: str) -> object:
    """A claim of a stored receipt (it was verified when it arrived; the JWS is kept as evidence)."""
    try:
        return jose.parse_compact(stored.receipt, typ=TYP_CONSENT_RECEIPT).payload.get(name)
    except JoseError:  # stored only after verification: a bug, not a client error
        raise RuntimeError(f"the stored receipt of request {stored.request_id} cannot be read") from None


def same_origin_uri(uri: object, wallet: str) -> str | None:
    """``uri`` when it is a URL without query part on the wallet's (the receipt ``iss``'s) origin, else ``None``."""
    if not isinstance(uri, str):
        return None
    parts, base = urlsplit(uri), urlsplit(wallet)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or parts.fragment or parts.username:
        return None
    return uri


async def refresh_consent(
    session: Session, settings: VerifierSettings, documents: IssuerDocuments, registry: TrustRegistry | None,
    tenant: Tenant, consent_id: str, *, http: httpx.AsyncClient, now: datetime,
) -> VerifierRequest:
    """Fetch and verify a fresh presentation under an ongoing consent; the new ``refresh`` request row.

    Raises:
        UnknownConsent: no receipt with that id for this tenant.
        ConsentNotOngoing: a one-time consent.
        ConsentEnded: a revocation event arrived, or the consent is past its ``expires_at``.
        RefreshUriRefused: no ``refresh_uri`` on the wallet's own origin, or a wallet we do not call.
        ConsentRefreshRefused: the wallet answered with an error (its code and text in the description).
        WalletUnavailable: the wallet could not be reached, or its answer is not a refresh response.
    """
    receipts = consent_receipts_of(session, tenant.slug, consent_id)
    first = receipts[0]
    original = session.get(VerifierRequest, first.request_id)
    assert original is not None  # the receipt row's foreign key
    if first.access_type != "ongoing":
        raise ConsentNotOngoing(f"the consent {consent_id} is for one-time access; it cannot be refreshed")
    revoked = session.exec(select(VerifierConsentNotice).where(
        VerifierConsentNotice.tenant == tenant.slug, VerifierConsentNotice.consent_id == consent_id)).first()
    if revoked is not None:
        raise ConsentEnded(f"the consent {consent_id} ended: the wallet reported it {revoked.event}")
    expires_at = utc(first.expires_at)
    if now >= expires_at:
        raise ConsentEnded(f"the consent {consent_id} expired at {expires_at.isoformat()}")
    refresh_uri = _refresh_uri(first, settings)

    nonce = random_value()
    token = build_consent_refresh_request(ConsentRefreshRequest(
        client_id=tenant.client_id, wallet=first.wallet, consent_id=consent_id, nonce=nonce, issued_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_request_lifetime_seconds)), tenant.key, x5c=tenant.x5c)
    # Read before the commit: the rows expire with it, and reloading them would hold a connection while issuers are asked.
    template = original.model_dump(include={"purpose", "purpose_text_en", "purpose_text_ja", "retention_days",
                                            "dcql_query", "access_type", "access_period_days"})
    evidence = first.model_dump(include={"wallet", "subject", "purpose", "access_type", "retention_days",
                                         "granted_at", "expires_at", "receipt"})
    consented = receipt_claim(first, "claims")
    session.commit()  # give the pooled connection back while the wallet and issuers are asked
    try:
        answer = await exchange_bounded(http, "POST", refresh_uri, max_bytes=settings.max_refresh_answer_bytes,
                                        timeout=settings.http_timeout_seconds, content=token,
                                        headers={"Content-Type": MEDIA_TYPE_CONSENT_REFRESH_REQUEST})
    except FetchError as exc:
        raise WalletUnavailable(f"the wallet could not be asked: {exc.reason}") from None
    body = answer.json()
    if not answer.ok:
        error, description = _wallet_error(body)
        raise ConsentRefreshRefused(f"the wallet refused the refresh (HTTP {answer.status}): {error}"
                                    + (f": {description}" if description else ""),
                                    wallet_error=error, wallet_status=answer.status)
    if not isinstance(body, dict) or body.get("consent_id") != consent_id or "vp_token" not in body:
        raise WalletUnavailable("the wallet's answer is not a refresh response for this consent")
    try:
        vp_token = parse_vp_token(body["vp_token"])
    except TsunaguError as exc:
        raise WalletUnavailable(f"the wallet's vp_token is not usable: {exc.reason}") from None

    query = parse_dcql_query(json.loads(template["dcql_query"]))
    context = VerificationContext(
        query=query, client_id=tenant.client_id, nonce=nonce, registry=registry,
        policy=policy_from(settings.clock_skew_seconds, settings.kb_max_age_seconds),
        unreachable_status_policy=settings.unreachable_status_policy)
    result = await verify_vp_token(vp_token, context, documents, now=now)
    decision = decide([*result.decision.checks, check_refresh_within_consent(
        consent_id, consented, query, result.claims, accepted=result.decision.outcome == "accepted")])

    row = VerifierRequest(
        id=random_value(), tenant=tenant.slug, client_id=tenant.client_id, state=random_value(), nonce=nonce,
        status="completed", created_at=now, responded_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_request_lifetime_seconds),
        decision=json.dumps(decision.to_json(), ensure_ascii=False), kind="refresh", consent_id=consent_id,
        **template)
    if result.claims and decision.outcome == "accepted":
        received = json.dumps(result.claims, ensure_ascii=False).encode()
        row.sealed_claims = seal(settings.master_key_bytes, received, aad=claims_aad(row.id))
        # Kept as the request says, but never past the consent itself.
        row.retain_until = min(now + timedelta(days=row.retention_days), expires_at)
    session.add(row)
    session.flush()  # the receipt row's foreign key needs the request first (PostgreSQL checks at once)
    session.add(VerifierConsentReceipt(request_id=row.id, tenant=tenant.slug, consent_id=consent_id, received_at=now,
                                       **evidence))
    session.commit()
    session.refresh(row)
    return row


def _refresh_uri(stored: VerifierConsentReceipt, settings: VerifierSettings) -> str:
    try:
        wallet_jwks_url(stored.wallet, settings)  # the same policy as for its keys: https, allowed origins
    except WalletKeysLocationRefused as exc:
        raise RefreshUriRefused(exc.reason) from None
    uri = same_origin_uri(receipt_claim(stored, "refresh_uri"), stored.wallet)
    if uri is None:
        raise RefreshUriRefused("the consent receipt names no refresh_uri on its wallet's own origin")
    return uri


def _wallet_error(body: object) -> tuple[str, str | None]:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return body["error"], description if isinstance(description, str) else None
    return "no error code", None
