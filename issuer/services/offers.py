"""Credential Offers (OpenID4VCI §4.1): made through the admin API, fetched by wallets by reference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from tsunagu.encoding import json_dumps, json_loads
from tsunagu.oid4vci import (
    CredentialOffer,
    PreAuthorizedCodeGrant,
    TxCode,
    UnknownCredentialConfiguration,
    build_credential_offer_uri,
)
from tsunagu.qr import qr_svg_data_uri
from tsunagu.sealing import seal, unseal

from ..errors import InvalidAdminRequest, UnknownOffer
from ..settings import IssuerSettings, IssuerTenant
from ..tables import IssuerCredential, IssuerOffer
from .codes import digest, new_secret, new_tx_code, tx_code_mac
from .tenants import tenant_credential_type
from tsunagu.service.database import utc

__all__ = ["OfferSpec", "CreatedOffer", "OfferStatus", "create_offer", "offer_document", "offer_status", "offer_aad"]


@dataclass(frozen=True, slots=True)
class OfferSpec:
    credential_configuration_id: str
    subject: str
    claims: dict[str, Any]
    tx_code: bool = False
    expires_in: int | None = None


@dataclass(frozen=True, slots=True)
class CreatedOffer:
    offer_id: str
    offer: CredentialOffer
    credential_offer_uri: str
    offer_uri: str
    qr_svg: str
    #: Returned to the admin only, to be delivered to the resident out of band.
    tx_code: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OfferStatus:
    offer_id: str
    credential_configuration_id: str
    subject: str
    #: offered, redeemed, locked or expired.
    status: str
    tx_code_attempts: int
    created_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    credentials_issued: int


def offer_aad(offer_id: str) -> bytes:
    return f"issuer_offer:{offer_id}".encode()


def create_offer(session: Session, settings: IssuerSettings, tenant: IssuerTenant, spec: OfferSpec, *, now: datetime) -> CreatedOffer:
    """Validate the claims against the credential type and record an offer with a fresh Pre-Authorized Code.

    Raises:
        InvalidAdminRequest: the tenant does not issue this configuration, or an expiry out of range.
        CredentialClaimsError: claims that do not fit the credential type (answered ``invalid_request``).
    """
    try:
        ctype = tenant_credential_type(tenant, spec.credential_configuration_id)
    except UnknownCredentialConfiguration as exc:
        raise InvalidAdminRequest(exc.reason) from None
    claims = ctype.validate_claims(spec.claims)
    lifetime = spec.expires_in if spec.expires_in is not None else settings.offer_lifetime_seconds
    if not 60 <= lifetime <= 7 * 24 * 3600:
        raise InvalidAdminRequest("expires_in must be between 60 seconds and 7 days")

    offer_id = new_secret()
    code = new_secret()
    tx_code = new_tx_code(settings.tx_code_length) if spec.tx_code else None
    issuer_id = settings.credential_issuer(tenant.id)
    offer = CredentialOffer(
        credential_issuer=issuer_id,
        credential_configuration_ids=(ctype.configuration_id,),
        pre_authorized_code=PreAuthorizedCodeGrant(
            pre_authorized_code=code,
            tx_code=TxCode(
                input_mode="numeric",
                length=settings.tx_code_length,
                description=f"Enter the {settings.tx_code_length}-digit code {tenant.name_en} sent you separately.",
            )
            if tx_code is not None
            else None,
        ),
    )
    expires_at = now + timedelta(seconds=lifetime)
    key = settings.master_key_bytes
    session.add(
        IssuerOffer(
            id=offer_id,
            tenant=tenant.id,
            credential_configuration_id=ctype.configuration_id,
            subject=spec.subject,
            sealed_claims=seal(key, json_dumps(claims).encode(), aad=offer_aad(offer_id)),
            sealed_offer=seal(key, json_dumps(offer.to_json()).encode(), aad=offer_aad(offer_id)),
            code_hash=digest(code),
            tx_code_mac=tx_code_mac(key, offer_id, tx_code) if tx_code is not None else None,
            created_at=utc(now),
            expires_at=utc(expires_at),
        )
    )
    session.commit()
    reference = f"{issuer_id}/credential-offers/{offer_id}"
    offer_uri = build_credential_offer_uri(offer_uri=reference)
    return CreatedOffer(
        offer_id=offer_id,
        offer=offer,
        credential_offer_uri=reference,
        offer_uri=offer_uri,
        qr_svg=qr_svg_data_uri(offer_uri),
        tx_code=tx_code,
        expires_at=expires_at,
    )


def offer_document(session: Session, settings: IssuerSettings, tenant: IssuerTenant, offer_id: str, *, now: datetime) -> dict[str, Any]:
    """The offer a ``credential_offer_uri`` serves (§4.1.3), while its code can still be redeemed.

    Raises:
        UnknownOffer: no such offer for this tenant, or it was redeemed, locked or has expired.
    """
    row = session.get(IssuerOffer, offer_id) if len(offer_id) <= 64 else None
    if row is None or row.tenant != tenant.id or row.status != "offered" or row.expires_at <= utc(now):
        raise UnknownOffer("this credential offer does not exist, was already used, or has expired")
    document: dict[str, Any] = json_loads(unseal(settings.master_key_bytes, row.sealed_offer, aad=offer_aad(row.id)))
    return document


def offer_status(session: Session, tenant: IssuerTenant, offer_id: str, *, now: datetime) -> OfferStatus:
    """Raises: UnknownOffer."""
    row = session.get(IssuerOffer, offer_id) if len(offer_id) <= 64 else None
    if row is None or row.tenant != tenant.id:
        raise UnknownOffer("no such offer for this organisation")
    status = row.status
    if status == "offered" and row.expires_at <= utc(now):
        status = "expired"
    issued = len(session.exec(select(IssuerCredential.id).where(IssuerCredential.offer_id == row.id)).all())
    return OfferStatus(
        offer_id=row.id,
        credential_configuration_id=row.credential_configuration_id,
        subject=row.subject,
        status=status,
        tx_code_attempts=row.tx_code_attempts,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        redeemed_at=utc(row.redeemed_at) if row.redeemed_at else None,
        credentials_issued=issued,
    )
