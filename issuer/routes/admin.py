"""The admin API (``Authorization: Bearer <admin_api_key>``): offers for residents, and their status."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import AdminKeyDep, ClockDep, SessionDep, SettingsDep, TenantDep
from ..schemas import OfferCreate, OfferCreated, OfferStatusPublic
from ..services import offers

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
