"""The admin API: register hosted verifiers, create presentation requests, read their results."""

from __future__ import annotations

import json

from fastapi import APIRouter

from tsunagu.errors import JwkError
from tsunagu.jwk import parse_private_jwk
from tsunagu.qr import qr_svg
from tsunagu.trust import TrustRegistry

from ..deps import AdminKeyDep, ClockDep, HttpDep, IssuerDocumentsDep, RegistryDep, SessionDep, SettingsDep
from ..errors import InvalidTenant
from ..schemas import (
    CheckModel,
    ConsentAckModel,
    ConsentHoldingsBody,
    ConsentNoticeModel,
    ConsentReceiptModel,
    ConsentRequestModel,
    ConsentSummaryModel,
    CreatedRequestBody,
    CreateRequestBody,
    DecisionModel,
    FlaggedClaimModel,
    LocalizedTextModel,
    ReasonModel,
    RequestStatusBody,
    TemplateInfo,
    TenantBody,
    TenantInfo,
    WalletErrorModel,
)
from ..services import requests as request_service
from ..services import tenants as tenant_service
from ..services.consent_holdings import consent_holdings
from ..services.refreshes import refresh_consent
from ..services.requests import CreatedRequest, NewRequest, RequestView
from ..tables import VerifierTenant
from ..templates import TEMPLATES, get_template

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/templates", response_model=list[TemplateInfo])
def list_templates(_: AdminKeyDep) -> list[TemplateInfo]:
    return [TemplateInfo(name=t.name, purpose=t.purpose, title=LocalizedTextModel(en=t.title_en, ja=t.title_ja),
                         dcql_query=dict(t.dcql_query)) for t in TEMPLATES.values()]


@router.get("/tenants", response_model=list[TenantInfo])
def list_tenants(_: AdminKeyDep, session: SessionDep, registry: RegistryDep) -> list[TenantInfo]:
    return [_tenant_info(row, registry) for row in tenant_service.list_tenants(session)]


@router.put("/tenants/{tenant}", response_model=TenantInfo)
def put_tenant(tenant: str, body: TenantBody, _: AdminKeyDep, session: SessionDep, settings: SettingsDep,
               registry: RegistryDep, now: ClockDep) -> TenantInfo:
    try:
        key = parse_private_jwk(body.private_jwk)
    except JwkError as exc:
        raise InvalidTenant(f"private_jwk is unusable: {exc.reason}") from None
    spec = tenant_service.TenantSpec(slug=tenant, name_en=body.name.en, name_ja=body.name.ja, key=key,
                                     x5c=tuple(body.x5c), prefix=body.client_id_prefix)
    row = tenant_service.provision_tenant(session, settings, spec, registry=registry, now=now)
    return _tenant_info(row, registry)


@router.post("/{tenant}/requests", response_model=CreatedRequestBody, status_code=201)
def create_request(tenant: str, body: CreateRequestBody, _: AdminKeyDep, session: SessionDep, settings: SettingsDep,
                   registry: RegistryDep, now: ClockDep) -> CreatedRequestBody:
    query = body.dcql_query if body.dcql_query is not None else dict(get_template(body.template or "").dcql_query)
    new = NewRequest(
        purpose=body.purpose, purpose_text_en=body.purpose_text.en if body.purpose_text else None,
        purpose_text_ja=body.purpose_text.ja if body.purpose_text else None, dcql_query=query,
        retention_days=body.retention_days, redirect_uri=body.redirect_uri, request_uri_method=body.request_uri_method,
        access_type=body.access_type, access_period_days=body.access_period_days,
    )
    hosted = tenant_service.get_tenant(session, settings, tenant)
    created = request_service.create_request(session, settings, hosted, new, registry=registry, now=now)
    return CreatedRequestBody(
        request_id=created.row.id, client_id=created.row.client_id, request_uri=created.request_uri,
        authorization_request_uri=created.authorization_request_uri, qr_svg=qr_svg(created.authorization_request_uri),
        expires_at=created.row.expires_at, registration_warnings=_warnings(created),
    )


@router.get("/{tenant}/requests/{request_id}", response_model=RequestStatusBody)
def get_request(tenant: str, request_id: str, _: AdminKeyDep, session: SessionDep, settings: SettingsDep,
                now: ClockDep) -> RequestStatusBody:
    tenant_service.get_tenant(session, settings, tenant)
    return _status(request_service.view_request(session, settings, tenant, request_id, now=now))


@router.post("/{tenant}/consents/{consent_id}/refresh", response_model=RequestStatusBody)
async def refresh(tenant: str, consent_id: str, _: AdminKeyDep, session: SessionDep, settings: SettingsDep,
                  documents: IssuerDocumentsDep, registry: RegistryDep, http: HttpDep,
                  now: ClockDep) -> RequestStatusBody:
    """Ask the resident's wallet, server to server, for a fresh presentation under an ongoing consent
    (a signed `consent-refresh+jwt` to the receipt's `refresh_uri`). The answer is verified like a
    presentation and stored as a new request of kind `refresh` under the consent; the body is that
    request, as `GET /admin/{tenant}/requests/{id}` shows it. A wallet's refusal is 409
    `consent_refresh_refused` with its error code and text; an unreachable wallet is 502 `wallet_unavailable`."""
    hosted = tenant_service.get_tenant(session, settings, tenant)
    row = await refresh_consent(session, settings, documents, registry, hosted, consent_id, http=http, now=now)
    return _status(request_service.view_request(session, settings, tenant, row.id, now=now))


@router.get("/{tenant}/consents/{consent_id}", response_model=ConsentHoldingsBody)
def get_consent(tenant: str, consent_id: str, _: AdminKeyDep, session: SessionDep, settings: SettingsDep,
                now: ClockDep) -> ConsentHoldingsBody:
    """What this verifier holds under a resident's consent: the receipt's terms, the consent's state as
    this verifier knows it (`active`, `revoked`, `expired`), each request received under it and whether
    its claims are still kept, the wallet's revocation events, and the deletion acknowledgements sent."""
    tenant_service.get_tenant(session, settings, tenant)
    held = consent_holdings(session, tenant, consent_id, now=now)
    receipt = held.receipt
    return ConsentHoldingsBody(
        consent_id=held.consent_id, tenant=held.tenant, status=held.status,
        receipt=ConsentSummaryModel(purpose=receipt.purpose, access_type=receipt.access_type,  # type: ignore[arg-type]
                                    retention_days=receipt.retention_days, granted_at=receipt.granted_at,
                                    expires_at=receipt.expires_at, wallet=receipt.wallet),
        requests=[ConsentRequestModel(request_id=r.id, kind=r.kind, responded_at=r.responded_at,  # type: ignore[arg-type]
                                      held=r.sealed_claims is not None, deleted_at=r.deleted_at,
                                      deletion_reason=r.deletion_reason) for r in held.requests],
        notices=[ConsentNoticeModel(jti=n.jti, event=n.event, received_at=n.received_at)  # type: ignore[arg-type]
                 for n in held.notices],
        acks=[ConsentAckModel(id=a.id, target_uri=a.target_uri, status=a.status, attempts=a.attempts,  # type: ignore[arg-type]
                              created_at=a.created_at, next_attempt_at=a.next_attempt_at,
                              delivered_at=a.delivered_at, last_error=a.last_error) for a in held.acks],
    )


def _warnings(created: CreatedRequest) -> list[FlaggedClaimModel]:
    warnings = [FlaggedClaimModel(credential_query_id=f.credential_query_id, vct=f.vct, path=list(f.path),
                                  reason=LocalizedTextModel(en=f.reason_en, ja=f.reason_ja))
                for f in created.registration_warnings]
    access = created.access_warning
    if access is not None:
        warnings.append(FlaggedClaimModel(kind="access_period", credential_query_id=None, vct=None, path=[],
                                          reason=LocalizedTextModel(en=access.reason_en, ja=access.reason_ja)))
    return warnings


def _tenant_info(row: VerifierTenant, registry: TrustRegistry | None) -> TenantInfo:
    registered = registry is not None and registry.find_verifier(row.client_id) is not None
    return TenantInfo(tenant=row.slug, client_id=row.client_id, name=LocalizedTextModel(en=row.name_en, ja=row.name_ja),
                      x5c=json.loads(row.x5c), registered=registered)


def _status(view: RequestView) -> RequestStatusBody:
    row = view.row
    result = None
    if view.decision is not None:
        result = DecisionModel(decision=view.decision.outcome, checks=[
            CheckModel(id=c.id, outcome=c.outcome, reason=ReasonModel(en=c.reason_en, ja=c.reason_ja),
                       party=c.party, code=c.code, credential=c.credential)
            for c in view.decision.checks
        ])
    return RequestStatusBody(
        request_id=row.id, tenant=row.tenant, client_id=row.client_id, status=row.status,  # type: ignore[arg-type]
        purpose=row.purpose, purpose_text=LocalizedTextModel(en=row.purpose_text_en, ja=row.purpose_text_ja),
        retention_days=row.retention_days, dcql_query=json.loads(row.dcql_query), created_at=row.created_at,
        expires_at=row.expires_at, responded_at=row.responded_at, result=result, claims=view.claims,
        retain_until=row.retain_until,
        wallet_error=WalletErrorModel(error=row.error, error_description=row.error_description) if row.error else None,
        response_code=row.response_code,
        consent=_consent(view), access_type=row.access_type, access_period_days=row.access_period_days,  # type: ignore[arg-type]
        kind=row.kind, consent_id=row.consent_id, deleted_at=row.deleted_at,  # type: ignore[arg-type]
        deletion_reason=row.deletion_reason,
    )


def _consent(view: RequestView) -> ConsentReceiptModel | None:
    stored = view.consent
    if stored is None:
        return None
    return ConsentReceiptModel(
        consent_id=stored.consent_id, wallet=stored.wallet, subject=stored.subject, purpose=stored.purpose,
        retention_days=stored.retention_days, access_type=stored.access_type,  # type: ignore[arg-type]
        granted_at=stored.granted_at, expires_at=stored.expires_at, received_at=stored.received_at,
        receipt=stored.receipt,
    )
