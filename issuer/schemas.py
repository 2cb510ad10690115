"""Request and response models of the admin API, and response models that document the protocol endpoints.

The protocol endpoints parse their bodies with ``tsunagu.oid4vci`` (so a malformed request gets
the spec's error code, never a generic validation error); these models only describe them in
the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "OfferCreate",
    "OfferCreated",
    "OfferStatusPublic",
    "TokenResponseBody",
    "NonceResponseBody",
    "CredentialResponseBody",
    "IssuedCredentialBody",
    "StatusChangeBody",
    "StatusReferencePublic",
    "CredentialPublic",
    "CredentialList",
    "AuditEventPublic",
    "CredentialDetail",
    "KeyRotateBody",
    "SigningKeyPublic",
    "KeyRotated",
]


class OfferCreate(BaseModel):
    """An offer of one credential for one resident."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "credential_configuration_id": "EmploymentCertificate",
                    "subject": "employee 4711 (Nguyen Thi Mai)",
                    "claims": {
                        "employee_name": "NGUYEN THI MAI",
                        "employer_name": "Sakura Systems K.K.",
                        "employment_type": "regular",
                        "job_title": "Logistics Planner",
                        "annual_income": 4800000,
                        "as_of_date": "2026-11-20",
                    },
                    "tx_code": True,
                    "expires_in": 900,
                }
            ]
        },
    )

    credential_configuration_id: str = Field(max_length=100)
    #: A label for the resident, for the issuer's own records; never sent to the wallet.
    subject: str = Field(min_length=1, max_length=200)
    claims: dict[str, Any]
    #: Ask for a numeric Transaction Code, returned here to be delivered to the resident out of band.
    tx_code: bool = False
    #: Lifetime of the Pre-Authorized Code in seconds (default: the ``offer_lifetime_seconds`` setting).
    expires_in: int | None = Field(default=None, ge=60, le=7 * 24 * 3600)


class OfferCreated(BaseModel):
    offer_id: str
    #: The Credential Offer object (OpenID4VCI §4.1.1), as a wallet fetches it from ``credential_offer_uri``.
    credential_offer: dict[str, Any]
    credential_offer_uri: str
    #: ``openid-credential-offer://?credential_offer_uri=...``: the link or QR code for the wallet.
    offer_uri: str
    #: The QR code of ``offer_uri`` as an SVG ``data:`` URI.
    qr_svg: str
    #: The Transaction Code, for the admin to deliver by another channel (SMS, letter); ``null`` without one.
    tx_code: str | None
    expires_at: datetime


class OfferStatusPublic(BaseModel):
    offer_id: str
    credential_configuration_id: str
    subject: str
    status: str = Field(description="offered, redeemed, locked (too many wrong transaction codes) or expired")
    tx_code_attempts: int
    created_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    credentials_issued: int


class TokenResponseBody(BaseModel):
    access_token: str
    token_type: str = Field(description="Bearer, or DPoP when the request carried a DPoP proof (RFC 9449 §5)")
    expires_in: int


class NonceResponseBody(BaseModel):
    c_nonce: str


class IssuedCredentialBody(BaseModel):
    credential: str = Field(description="An SD-JWT VC (dc+sd-jwt), bound to the key of one proof")


class CredentialResponseBody(BaseModel):
    credentials: list[IssuedCredentialBody]
    notification_id: str


class StatusChangeBody(BaseModel):
    """Why the credential's status changes: kept in the issuer's audit log, never published."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "employment ended on 2026-11-30 (resignation)"}]},
    )

    reason: str = Field(min_length=1, max_length=1000)


class StatusReferencePublic(BaseModel):
    """The credential's ``status.status_list`` claim (Token Status List §6.2)."""

    idx: int
    uri: str


class CredentialPublic(BaseModel):
    """An issued credential as the issuer recorded it (the credential itself is not kept)."""

    id: str
    subject: str
    credential_configuration_id: str
    vct: str
    status: str = Field(description="valid, suspended or revoked: what its status list entry says")
    expired: bool = Field(description="its exp has passed")
    iat: datetime
    exp: datetime
    status_list: StatusReferencePublic
    signing_kid: str
    status_changed_at: datetime | None


class CredentialList(BaseModel):
    credentials: list[CredentialPublic]


class AuditEventPublic(BaseModel):
    action: str
    from_status: str | None
    to_status: str | None
    reason: str
    actor: str
    at: datetime


class CredentialDetail(CredentialPublic):
    #: Every status change, oldest first: who, what, when and why.
    history: list[AuditEventPublic]


class KeyRotateBody(BaseModel):
    """Why the key is rotated, for the audit log."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "yearly rotation"}]})

    reason: str = Field(default="scheduled key rotation", min_length=1, max_length=1000)


class SigningKeyPublic(BaseModel):
    kid: str
    alg: str
    generation: int
    active: bool = Field(description="signs new credentials and status list tokens")
    created_at: datetime
    signed_until: datetime | None = Field(description="the latest exp of anything this key signed")
    published: bool = Field(description="listed in the JWT VC Issuer Metadata")


class KeyRotated(BaseModel):
    kid: str = Field(description="the new active key")
    keys: list[SigningKeyPublic]
