"""The ``response_uri`` (OpenID4VP 1.0 §8.2): take a wallet's answer once, verify it, store the decision.

A response is accepted only for a pending, unexpired request of this tenant and only with that
request's ``state`` (§13.3.2). The request is claimed with one conditional UPDATE, so of two
responses racing for it, on one worker or several, exactly one is processed; the other is a
replay and refused. A declined request (an Authorization Error Response) is recorded as such.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import Session

from tsunagu.dcql import parse_dcql_query
from tsunagu.encoding import b64url_encode
from tsunagu.explain import decide
from tsunagu.oid4vp import (
    AuthorizationErrorResponse,
    InvalidAuthorizationResponse,
    ResponseReplayed,
    UnknownState,
    parse_authorization_response,
    response_endpoint_answer,
)
from tsunagu.oid4vp.form import parse_form
from tsunagu.sealing import seal
from tsunagu.service.database import utc
from tsunagu.service.issuer_documents import IssuerDocuments
from tsunagu.trust import TrustRegistry

from ..errors import RequestExpired
from ..settings import VerifierSettings
from ..tables import VerifierRequest
from .consent_receipts import FORM_PARAMETER, check_consent_receipt, receipt_row
from .requests import claims_aad
from .verification import VerificationContext, policy_from, verify_vp_token

__all__ = ["receive_response"]



async def receive_response(
    session: Session, settings: VerifierSettings, documents: IssuerDocuments, registry: TrustRegistry | None,
    tenant: str, request_id: str, body: bytes, *, http: httpx.AsyncClient, now: datetime,
) -> dict[str, Any]:
    """Process one ``direct_post`` body; the JSON object to answer with 200.

    A ``consent_receipt`` parameter beside ``vp_token`` (docs/consent.md) is verified against the
    request and what arrived, reported as the ``consent_receipt`` check, and stored with the request.

    Raises:
        InvalidAuthorizationResponse: the body is not an Authorization (Error) Response.
        UnknownState: no such request here, or a ``state`` that is not the request's.
        RequestExpired: the request's lifetime is over.
        ResponseReplayed: the request already has a response.
    """
    form = parse_form(body, error=InvalidAuthorizationResponse)
    response = parse_authorization_response(form)
    row = session.get(VerifierRequest, request_id)
    if row is None or row.tenant != tenant:
        raise UnknownState("this response_uri belongs to no request of this verifier")
    if response.state != row.state:
        raise UnknownState("the response's state does not belong to this request")
    if row.status not in ("pending",):
        raise ResponseReplayed("this request has already been answered; a response is accepted once")
    if now >= utc(row.expires_at):
        raise RequestExpired("this request expired before the response arrived")
    claimed = session.execute(
        update(VerifierRequest)
        .where(VerifierRequest.id == row.id, VerifierRequest.status == "pending")  # type: ignore[arg-type]
        .values(status="verifying", responded_at=now)
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ResponseReplayed("this request has already been answered; a response is accepted once")
    session.refresh(row)
    try:
        if isinstance(response, AuthorizationErrorResponse):
            row.status, row.error, row.error_description = "declined", response.error, response.error_description
        else:
            query = parse_dcql_query(json.loads(row.dcql_query))
            context = VerificationContext(
                query=query, client_id=row.client_id, nonce=row.nonce,
                registry=registry, policy=policy_from(settings.clock_skew_seconds, settings.kb_max_age_seconds),
                unreachable_status_policy=settings.unreachable_status_policy,
            )
            # Give the pooled connection back while issuers are asked: a check can wait seconds for a
            # status list, and verifications holding connections meanwhile would exhaust the pool
            # (and block the event loop waiting for one). The row is reloaded after the await.
            session.commit()
            result = await verify_vp_token(response.vp_token, context, documents, now=now)
            consent = await check_consent_receipt(
                form.get(FORM_PARAMETER), row=row, query=query, accepted=result.decision.outcome == "accepted",
                received=result.claims, settings=settings, http=http, now=now)
            decision = decide([*result.decision.checks, consent.check])
            row.status = "completed"
            row.decision = json.dumps(decision.to_json(), ensure_ascii=False)
            stored = receipt_row(consent, row.id, row.tenant, now=now)
            if stored is not None and decision.outcome == "accepted":
                session.add(stored)
                # Everything received under a consent is found by its id (refresh, revocation, retention).
                row.consent_id = stored.consent_id
            if result.claims and decision.outcome == "accepted":
                received = json.dumps(result.claims, ensure_ascii=False).encode()
                row.sealed_claims = seal(settings.master_key_bytes, received, aad=claims_aad(row.id))
                row.retain_until = now + timedelta(days=row.retention_days)
                if stored is not None and stored.access_type == "ongoing":
                    # As for its refreshes: what came under an ongoing consent is not kept past the consent's end.
                    row.retain_until = min(row.retain_until, stored.expires_at)
    except BaseException:
        # A bug or a cancelled request must not leave the request stuck in "verifying".
        session.rollback()
        session.execute(update(VerifierRequest).where(VerifierRequest.id == row.id)  # type: ignore[arg-type]
                        .values(status="pending", responded_at=None))
        session.commit()
        raise
    redirect = None
    if row.redirect_uri is not None:
        row.response_code = b64url_encode(secrets.token_bytes(16))
        redirect = f"{row.redirect_uri}#response_code={row.response_code}"
    session.add(row)
    session.commit()
    return response_endpoint_answer(redirect)
