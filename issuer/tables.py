"""The issuer's tables (names prefixed ``issuer_``: the three services share ``SQLModel.metadata``).

Everything a second worker must see lives here: offers and their one-time codes, ``tx_code``
attempts, access tokens, ``c_nonce`` values, DPoP ``jti`` values seen, what was issued, the
status lists and the audit log of status changes.
Secrets are stored as hashes (codes, tokens) or sealed (signing keys, the resident's claims, the
offer document that carries its Pre-Authorized Code); issued credentials themselves are not
kept (OpenID4VCI §14.3), only a record of them for revocation and look-up.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import DDL, Column, Index, LargeBinary, Table, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from tsunagu.service.schema import ServiceSchema

__all__ = [
    "IssuerSigningKey",
    "IssuerOffer",
    "IssuerAccessToken",
    "IssuerNonce",
    "IssuerDpopJti",
    "IssuerNotification",
    "IssuerCredential",
    "IssuerStatusList",
    "IssuerStatusListData",
    "IssuerStatusListSlots",
    "IssuerStatusListToken",
    "IssuerAuditEvent",
    "TABLES",
    "SCHEMA",
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
    #: Signs new credentials and status list tokens; rotation clears it on the older keys.
    active: bool = True
    created_at: datetime
    #: The latest ``exp`` of anything this key signed (credentials, status list tokens): an old key
    #: stays published in the JWT VC Issuer Metadata until then.
    signed_until: datetime | None = None


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
    """A record of an issued credential (not the credential): who, what type, bound to which key, valid when,
    and its entry in a status list."""

    __tablename__ = "issuer_credential"
    # No entry of a list is ever given to two credentials, whichever worker allocated it.
    __table_args__ = (
        UniqueConstraint("tenant", "status_list", "status_idx"),
        Index("ix_issuer_credential_tenant_subject", "tenant", "subject"),
        Index("ix_issuer_credential_tenant_vct", "tenant", "vct"),
    )

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
    #: ``list_number`` of its status list (``{issuer}/status-lists/{list_number}``) and its index there.
    status_list: int
    status_idx: int
    #: valid, suspended or revoked: what its status list entry says (0, 2 or 1).
    status: str = Field(default="valid", max_length=16)
    status_changed_at: datetime | None = None


class IssuerStatusList(SQLModel, table=True):
    """One Token Status List of a tenant (2 bits per entry): its counters and its last signed token's details.

    Only small columns live here, because this row changes with every issuance (``allocated``);
    the list's bytes, its slot permutation and its token are in their own tables, so no update
    of this row rewrites them (SQLite rewrites a whole row on every update).
    """

    __tablename__ = "issuer_status_list"

    tenant: str = Field(primary_key=True, max_length=40)
    list_number: int = Field(primary_key=True)
    size: int
    bits: int
    #: Entries handed out; the list is full when this reaches ``size``. Incremented by a
    #: conditional UPDATE, which serialises allocation in this list across workers.
    allocated: int = 0
    #: Grows with every status change; a token signed for an older version is never served again.
    version: int = 1
    created_at: datetime
    updated_at: datetime
    #: The last signed status list token (in ``issuer_status_list_token``): for which version, by
    #: which key, when, and its ETag. Shared by all workers, so all serve the same bytes.
    token_version: int | None = None
    token_kid: str | None = Field(default=None, max_length=64)
    token_iat: datetime | None = None
    token_exp: datetime | None = None
    token_etag: str | None = Field(default=None, max_length=100)


class IssuerStatusListData(SQLModel, table=True):
    """The list's uncompressed status byte array (Token Status List §4.1): a change rewrites one entry."""

    __tablename__ = "issuer_status_list_data"

    tenant: str = Field(primary_key=True, max_length=40)
    list_number: int = Field(primary_key=True)
    packed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class IssuerStatusListSlots(SQLModel, table=True):
    """A piece of the random permutation drawn when the list opened: slot n is entry ``permutation[n]``.

    ``SLOTS_PER_CHUNK`` slots of 4 bytes (little endian) per row, so an allocation reads 4 bytes
    of one small row rather than a permutation of the whole list.
    """

    __tablename__ = "issuer_status_list_slots"

    tenant: str = Field(primary_key=True, max_length=40)
    list_number: int = Field(primary_key=True)
    chunk: int = Field(primary_key=True)
    slots: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class IssuerStatusListToken(SQLModel, table=True):
    """The last status list token signed for the list (empty until the first request)."""

    __tablename__ = "issuer_status_list_token"

    tenant: str = Field(primary_key=True, max_length=40)
    list_number: int = Field(primary_key=True)
    token: str = Field(sa_column=Column(Text, nullable=False))
    #: The token's ETag, stored with it so that the two are always read together.
    etag: str = Field(default="", max_length=100)


class IssuerAuditEvent(SQLModel, table=True):
    """Who changed what, when and why: status changes and key rotations. Never published."""

    __tablename__ = "issuer_audit_event"

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(index=True, max_length=40)
    #: revoke, suspend, reinstate, rotate_key.
    action: str = Field(max_length=32)
    credential_id: str | None = Field(default=None, index=True, max_length=64)
    #: The key made by a rotation.
    kid: str | None = Field(default=None, max_length=64)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    #: Who asked: the name the admin client gave, behind the admin API key.
    actor: str = Field(max_length=200)
    at: datetime


def _store_uncompressed(model: type[SQLModel], column: str) -> None:
    """PostgreSQL: keep ``column`` out of line but uncompressed (``STORAGE EXTERNAL``).

    A status list's bytes change one entry at a time and are read whole on every republish;
    TOAST's pglz would spend tens of milliseconds compressing and inflating a 256 KiB list with a
    few percent of entries set, for a saving nobody needs. The slots are random and the token is
    base64 of compressed data: neither compresses.
    """
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    ddl = DDL(f"ALTER TABLE {table.name} ALTER COLUMN {column} SET STORAGE EXTERNAL")  # type: ignore[no-untyped-call]
    event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))


_store_uncompressed(IssuerStatusListData, "packed")
_store_uncompressed(IssuerStatusListSlots, "slots")
_store_uncompressed(IssuerStatusListToken, "token")


TABLES: tuple[type[SQLModel], ...] = (
    IssuerSigningKey,
    IssuerOffer,
    IssuerAccessToken,
    IssuerNonce,
    IssuerDpopJti,
    IssuerNotification,
    IssuerCredential,
    IssuerStatusList,
    IssuerStatusListData,
    IssuerStatusListSlots,
    IssuerStatusListToken,
    IssuerAuditEvent,
)

#: The tables above, and the migrations in ``issuer/migrations/`` that build and change them.
SCHEMA = ServiceSchema("issuer", TABLES, Path(__file__).with_name("migrations"))
