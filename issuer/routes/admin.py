"""The admin API (``Authorization: Bearer <admin_api_key>``): offers for residents, issued credentials
and their status (revoke, suspend, reinstate), and signing key rotation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import AdminActorDep, AdminKeyDep, ClockDep, SessionDep, SettingsDep, TenantDep
from ..schemas import (
    AuditEventPublic,
    CredentialDetail,
    CredentialList,
    CredentialPublic,
    KeyRotateBody,
    KeyRotated,
    OfferCreate,
    OfferCreated,
    OfferStatusPublic,
    SigningKeyPublic,
    StatusChangeBody,
    StatusReferencePublic,
)
from ..services import credential_status, keys, offers
from ..services.credential_status import CredentialRecord, StatusAction, StatusChange

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/{tenant}/offers", response_model=OfferCreated, status_code=201)
def create_offer(
    body: OfferCreate, tenant: TenantDep, _admin: AdminKeyDep, session: SessionDep, settings: SettingsDep, now: ClockDep
) -> OfferCreated:
    """Offer a credential to a resident: claims checked against the type; returns the offer URI, QR code and tx_code."""
    spec = offers.OfferSpec(
        credential_configuration_id=body.credential_configuration_id,
        subject=body.subject,
        claims=body.claims,
        tx_code=body.tx_code,
        expires_in=body.expires_in,
    )
    created = offers.create_offer(session, settings, tenant, spec, now=now)
    return OfferCreated(
        offer_id=created.offer_id,
        credential_offer=created.offer.to_json(),
        credential_offer_uri=created.credential_offer_uri,
        offer_uri=created.offer_uri,
        qr_svg=created.qr_svg,
        tx_code=created.tx_code,
        expires_at=created.expires_at,
    )


@router.get("/{tenant}/offers/{offer_id}", response_model=OfferStatusPublic)
def offer_status(offer_id: str, tenant: TenantDep, _admin: AdminKeyDep, session: SessionDep, now: ClockDep) -> OfferStatusPublic:
    """Where an offer stands: offered, redeemed, locked or expired, and how many credentials it yielded."""
    status = offers.offer_status(session, tenant, offer_id, now=now)
    return OfferStatusPublic(
        offer_id=status.offer_id,
        credential_configuration_id=status.credential_configuration_id,
        subject=status.subject,
        status=status.status,
        tx_code_attempts=status.tx_code_attempts,
        created_at=status.created_at,
        expires_at=status.expires_at,
        redeemed_at=status.redeemed_at,
        credentials_issued=status.credentials_issued,
    )


def _public(record: CredentialRecord) -> CredentialPublic:
    return CredentialPublic(
        id=record.id,
        subject=record.subject,
        credential_configuration_id=record.credential_configuration_id,
        vct=record.vct,
        status=record.status,
        expired=record.expired,
        iat=record.iat,
        exp=record.exp,
        status_list=StatusReferencePublic(idx=record.status_idx, uri=record.status_uri),
        signing_kid=record.signing_kid,
        status_changed_at=record.status_changed_at,
    )


@router.get("/{tenant}/credentials", response_model=CredentialList)
def list_credentials(
    tenant: TenantDep,
    _admin: AdminKeyDep,
    session: SessionDep,
    settings: SettingsDep,
    now: ClockDep,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    vct: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CredentialList:
    """Credentials issued by the tenant, newest first; filter by the resident's subject label and by vct."""
    records = credential_status.list_credentials(session, settings, tenant, subject=subject, vct=vct, limit=limit, now=now)
    return CredentialList(credentials=[_public(r) for r in records])


@router.get("/{tenant}/credentials/{credential_id}", response_model=CredentialDetail)
def credential_detail(
    credential_id: str, tenant: TenantDep, _admin: AdminKeyDep, session: SessionDep, settings: SettingsDep, now: ClockDep
) -> CredentialDetail:
    """One issued credential with its status and the audit log of its status changes (who, what, when, why)."""
    record = credential_status.get_credential(session, settings, tenant, credential_id, now=now)
    history = credential_status.credential_history(session, tenant, record.id)
    return CredentialDetail(
        **_public(record).model_dump(),
        history=[
            AuditEventPublic(action=e.action, from_status=e.from_status, to_status=e.to_status, reason=e.reason,
                             actor=e.actor, at=e.at)
            for e in history
        ],
    )


def _change(action: StatusAction, credential_id: str, body: StatusChangeBody, tenant: TenantDep, actor: str,
            session: SessionDep, settings: SettingsDep, now: ClockDep) -> CredentialPublic:
    change = StatusChange(action=action, reason=body.reason, actor=actor)
    return _public(credential_status.change_credential_status(session, settings, tenant, credential_id, change, now=now))


@router.post("/{tenant}/credentials/{credential_id}/revoke", response_model=CredentialPublic)
def revoke(credential_id: str, body: StatusChangeBody, tenant: TenantDep, _admin: AdminKeyDep, actor: AdminActorDep,
           session: SessionDep, settings: SettingsDep, now: ClockDep) -> CredentialPublic:
    """Revoke a credential (final): its status list entry becomes INVALID (1) in the next status list token."""
    return _change("revoke", credential_id, body, tenant, actor, session, settings, now)


@router.post("/{tenant}/credentials/{credential_id}/suspend", response_model=CredentialPublic)
def suspend(credential_id: str, body: StatusChangeBody, tenant: TenantDep, _admin: AdminKeyDep, actor: AdminActorDep,
            session: SessionDep, settings: SettingsDep, now: ClockDep) -> CredentialPublic:
    """Suspend a credential: its status list entry becomes SUSPENDED (2) until it is reinstated."""
    return _change("suspend", credential_id, body, tenant, actor, session, settings, now)


@router.post("/{tenant}/credentials/{credential_id}/reinstate", response_model=CredentialPublic)
def reinstate(credential_id: str, body: StatusChangeBody, tenant: TenantDep, _admin: AdminKeyDep, actor: AdminActorDep,
              session: SessionDep, settings: SettingsDep, now: ClockDep) -> CredentialPublic:
    """Lift a suspension: the entry is VALID (0) again. A revoked credential cannot be reinstated (409)."""
    return _change("reinstate", credential_id, body, tenant, actor, session, settings, now)


@router.post("/{tenant}/keys/rotate", response_model=KeyRotated)
def rotate_key(body: KeyRotateBody, tenant: TenantDep, _admin: AdminKeyDep, actor: AdminActorDep, session: SessionDep,
               settings: SettingsDep, now: ClockDep) -> KeyRotated:
    """Make a new ES256 signing key active; older keys stay published until what they signed has expired.

    The body is required (``{}`` will do), so that no stray empty POST rotates a key.
    """
    rotated = keys.rotate_signing_key(session, settings, tenant.id, actor=actor, reason=body.reason, now=now)
    return KeyRotated(
        kid=rotated.kid,
        keys=[
            SigningKeyPublic(kid=k.kid, alg=k.alg, generation=k.generation, active=k.active, created_at=k.created_at,
                             signed_until=k.signed_until, published=k.published)
            for k in keys.signing_keys(session, settings, tenant.id, now=now)
        ],
    )
