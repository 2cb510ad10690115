"""The issuer's tables (names prefixed ``issuer_``: the three services share ``SQLModel.metadata``).

Everything a second worker must see lives here: offers and their one-time codes, ``tx_code``
attempts, access tokens, ``c_nonce`` values, DPoP ``jti`` values seen, and what was issued.
Secrets are stored as hashes (codes, tokens) or sealed (signing keys, the resident's claims, the
offer document that carries its Pre-Authorized Code); issued credentials themselves are not
kept (OpenID4VCI §14.3), only a record of them for revocation (issue #4).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "IssuerSigningKey",
    "IssuerOffer",
    "IssuerAccessToken",
    "IssuerNonce",
    "IssuerDpopJti",
    "IssuerNotification",
    "IssuerCredential",
    "TABLES",
]


class IssuerSigningKey(SQLModel, table=True):
    """A tenant's credential signing key; the public JWK is published, the private one sealed."""

    __tablename__ = "issuer_signing_key"
    __table_args__ = (UniqueConstraint("tenant", "generation"),)

    kid: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=40)
    #: 1 for the key made on first start; rotation adds 2, 3 ... (the unique pair stops two workers both making one).
    generation: int
    alg: str
    #: ``tsunagu.sealing.seal`` of the private JWK, aad ``issuer_signing_key:{kid}``.
    sealed_key: str
    #: The public JWK as JSON text.
    public_jwk: str
    active: bool = True
    created_at: datetime


class IssuerOffer(SQLModel, table=True):
    """A Credential Offer made by an admin for one resident, and the life of its Pre-Authorized Code."""

    __tablename__ = "issuer_offer"

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=40)
    credential_configuration_id: str
    #: The admin's label for the resident (never shown to wallets).
    subject: str
    #: Sealed JSON of the validated claims, aad ``issuer_offer:{id}``.
    sealed_claims: str
    #: Sealed JSON of the offer served at its ``credential_offer_uri`` (it carries the code), same aad.
    sealed_offer: str
    #: SHA-256 (hex) of the Pre-Authorized Code.
    code_hash: str = Field(unique=True, index=True, max_length=64)
    #: HMAC-SHA256 (hex) of the Transaction Code under a key derived from the master key, or ``None``.
    tx_code_mac: str | None = None
    tx_code_attempts: int = 0
    #: offered → redeemed; offered → locked (too many wrong tx_codes); expiry is read from ``expires_at``.
    status: str = Field(default="offered", max_length=16)
    created_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None


class IssuerAccessToken(SQLModel, table=True):
    __tablename__ = "issuer_access_token"

    #: SHA-256 (hex) of the access token.
    token_hash: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=40)
    offer_id: str = Field(foreign_key="issuer_offer.id", index=True)
    credential_configuration_id: str
    client_id: str | None = None
    #: RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to, ``None`` for a Bearer token.
    dpop_jkt: str | None = None
    created_at: datetime
    expires_at: datetime


class IssuerNonce(SQLModel, table=True):
    """A ``c_nonce`` handed out by the Nonce Endpoint; a key proof may use it once, before it expires."""

    __tablename__ = "issuer_nonce"

    nonce: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=40)
    created_at: datetime
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class IssuerDpopJti(SQLModel, table=True):
    """RFC 9449 §11.1: DPoP proofs seen, kept as long as they would be accepted, so none is replayed."""

    __tablename__ = "issuer_dpop_jti"

    jkt: str = Field(primary_key=True, max_length=64)
    jti: str = Field(primary_key=True, max_length=256)
    expires_at: datetime = Field(index=True)


class IssuerNotification(SQLModel, table=True):
    """One per Credential Response: the ``notification_id`` and what the wallet said became of it (§11)."""

    __tablename__ = "issuer_notification"

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=40)
    offer_id: str = Field(foreign_key="issuer_offer.id", index=True)
    credential_count: int
    event: str | None = None
    event_description: str | None = None
    created_at: datetime
    event_at: datetime | None = None


class IssuerCredential(SQLModel, table=True):
    """A record of an issued credential (not the credential): who, what type, bound to which key, valid when."""

    __tablename__ = "issuer_credential"

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=40)
    offer_id: str = Field(foreign_key="issuer_offer.id", index=True)
    notification_id: str = Field(foreign_key="issuer_notification.id", index=True)
    subject: str
    credential_configuration_id: str
    vct: str
    #: RFC 7638 thumbprint of the holder key in ``cnf.jwk``.
    holder_jkt: str = Field(index=True, max_length=64)
    #: The ``kid`` of the signing key, so a rotation knows which credentials a key still vouches for.
    signing_kid: str
    iat: datetime
    exp: datetime


TABLES: tuple[type[SQLModel], ...] = (
    IssuerSigningKey,
    IssuerOffer,
    IssuerAccessToken,
    IssuerNonce,
    IssuerDpopJti,
    IssuerNotification,
    IssuerCredential,
)
