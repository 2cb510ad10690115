"""The verifier's tables (names prefixed ``verifier_``: the three services share ``SQLModel.metadata``).

Times are stored with their time zone (UTC) where the database keeps one (PostgreSQL); SQLite gives
them back naive, and readers treat a naive time as UTC.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel

from tsunagu.service.outbox import OutboxMessage
from tsunagu.service.schema import ServiceSchema

__all__ = ["VerifierTenant", "VerifierRequest", "VerifierConsentReceipt", "VerifierConsentNotice", "VerifierOutbox",
           "TABLES", "SCHEMA"]


class VerifierTenant(SQLModel, table=True):
    """One verifier hosted here: its ``client_id``, names, and its request-signing key, sealed."""

    __tablename__ = "verifier_tenant"

    slug: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(unique=True, index=True)
    name_en: str
    name_ja: str
    #: ``tsunagu.sealing.seal`` of the private JWK, aad ``verifier_tenant:{slug}``.
    sealed_key: str
    #: JSON array: the certificate chain, leaf first (the ``x5c`` header of every request object).
    x5c: str
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class VerifierRequest(SQLModel, table=True):
    """A presentation request and, once answered, its response, decision and received claims."""

    __tablename__ = "verifier_request"

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(foreign_key="verifier_tenant.slug", index=True)
    client_id: str
    state: str = Field(unique=True, index=True)
    nonce: str
    purpose: str
    purpose_text_en: str
    purpose_text_ja: str
    retention_days: int
    #: The DCQL query as JSON text, exactly as signed into the request object.
    dcql_query: str
    redirect_uri: str | None = None
    request_uri_method: str | None = None
    #: pending → verifying → completed | declined; pending → expired (seen on use).
    status: str = Field(default="pending", index=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    fetched_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    responded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    #: ``tsunagu.explain.Decision.to_json()`` as JSON text.
    decision: str | None = None
    #: Sealed JSON ``{query id: [claims, ...]}`` of the presentations that verified; aad ``verifier_request:{id}``.
    sealed_claims: str | None = None
    #: The wallet's Authorization Error Response, when it declined.
    error: str | None = None
    error_description: str | None = None
    #: §8.2: the fresh value put into the ``redirect_uri`` answered to the wallet.
    response_code: str | None = None
    #: When the received claims must be deleted (responded_at + retention_days).
    retain_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    #: What the request asked for: ``one-time`` or ``ongoing`` access (then for ``access_period_days``).
    access_type: str = Field(default="one-time", max_length=16)
    access_period_days: int | None = None
    #: ``request``: answered through OpenID4VP; ``refresh``: a fresh presentation fetched under an ongoing consent.
    kind: str = Field(default="request", max_length=16)
    #: The consent this request's data was received under (the receipt's ``jti``), once a receipt was stored.
    consent_id: str | None = Field(default=None, index=True)
    #: When ``sealed_claims`` were deleted, and why (``retention ended``, ``consent revoked``, ``consent expired``).
    deleted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    deletion_reason: str | None = None


class VerifierConsentReceipt(SQLModel, table=True):
    """The resident's consent receipt (``consent-receipt+jwt``) that came with a request's accepted response.

    Kept with the data it covers, as docs/consent.md asks of a verifier: the signed JWS as received
    (the evidence) and, for look-ups, what it says. It names claim paths, never claim values, and
    the resident only by a pseudonym for this verifier.
    """

    __tablename__ = "verifier_consent_receipt"

    request_id: str = Field(primary_key=True, foreign_key="verifier_request.id", max_length=64)
    tenant: str = Field(index=True)
    #: The receipt's ``jti``; not unique: an ongoing consent covers several presentations.
    consent_id: str = Field(index=True)
    #: The receipt's ``iss``: the wallet's public URL.
    wallet: str
    #: The resident's pairwise pseudonym for this verifier (the receipt's ``sub``).
    subject: str = Field(index=True)
    purpose: str
    access_type: str
    retention_days: int
    granted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    receipt: str


class VerifierConsentNotice(SQLModel, table=True):
    """A consent revocation event received from a wallet (``consent-revocation+jwt``), and the ack answered.

    Keyed by the event's ``jti``: a wallet's outbox may deliver the same event again, and gets the
    same acknowledgement again.
    """

    __tablename__ = "verifier_consent_notice"

    jti: str = Field(primary_key=True, max_length=200)
    tenant: str = Field(index=True)
    consent_id: str = Field(index=True)
    #: The event's ``iss``: the wallet's public URL.
    wallet: str
    #: ``revoked`` or ``expired``.
    event: str = Field(max_length=16)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    #: The signed ``consent-deletion-ack+jwt`` answered.
    ack: str = Field(sa_type=Text)


class VerifierOutbox(OutboxMessage, table=True):
    """Deletion acknowledgements to deliver to wallets when the consented retention has ended (docs/consent.md)."""

    __tablename__ = "verifier_outbox"

    tenant: str = Field(index=True)
    consent_id: str = Field(index=True)


TABLES: tuple[type[SQLModel], ...] = (VerifierTenant, VerifierRequest, VerifierConsentReceipt, VerifierConsentNotice,
                                      VerifierOutbox)

#: The tables above, and the migrations in ``verifier/migrations/`` that build and change them.
SCHEMA = ServiceSchema("verifier", TABLES, Path(__file__).with_name("migrations"))
