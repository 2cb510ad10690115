"""The wallet's tables (names prefixed ``wallet_``: the three services share ``SQLModel.metadata``).

Every row that holds a resident's data carries ``resident_id``, and every query filters on it.
Credentials and holder keys are stored sealed (``tsunagu.sealing``) with an ``aad`` naming the row
and its resident, so a sealed value copied into another row or to another resident does not open.
No claim value is stored in the clear: what a credential says is decoded from the sealed credential
when the resident asks. Times are stored in UTC; SQLite gives them back naive, readers treat them as UTC.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from tsunagu.encoding import json_loads
from tsunagu.service.outbox import OutboxMessage
from tsunagu.service.schema import ServiceSchema

__all__ = [
    "WalletResident",
    "WalletSession",
    "WalletCredential",
    "WalletCredentialCopy",
    "WalletPresentationRequest",
    "WalletConsent",
    "WalletPresentation",
    "WalletCredentialStatus",
    "WalletEvent",
    "WalletEventCredential",
    "WalletConsentEvent",
    "WalletConsentUse",
    "WalletServiceKey",
    "WalletOutbox",
    "WalletDeletionAck",
    "TABLES",
    "SCHEMA",
]


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    # A fresh Column per field: SQLAlchemy binds a Column object to one table only.
    return Field(default=None if nullable else ..., sa_column=Column(DateTime(timezone=True), nullable=nullable,
                                                                     index=index))


class WalletResident(SQLModel, table=True):
    """A resident's local account."""

    __tablename__ = "wallet_resident"

    id: str = Field(primary_key=True, max_length=64)
    #: Lower-cased; unique across the service.
    username: str = Field(unique=True, index=True, max_length=64)
    #: argon2id, in the PHC string format (parameters and salt included).
    password_hash: str
    display_name: str = Field(max_length=200)
    preferred_language: str = Field(max_length=2)
    #: Failed logins since the last success; at ``login_max_failures`` the account locks.
    failed_logins: int = 0
    locked_until: datetime | None = _time(nullable=True)
    created_at: datetime = _time()


class WalletSession(SQLModel, table=True):
    """A login session; only the SHA-256 of its bearer token is stored."""

    __tablename__ = "wallet_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    created_at: datetime = _time()
    expires_at: datetime = _time(index=True)


class WalletCredential(SQLModel, table=True):
    """A credential the resident holds, as one or more copies (batch issuance) with the same claims."""

    __tablename__ = "wallet_credential"

    id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    #: The Credential Issuer Identifier the offer named, and the ``iss`` the credential carries.
    credential_issuer: str
    iss: str
    credential_configuration_id: str
    vct: str
    #: JSON: the issuer's display of itself and of this credential configuration (names in en/ja,
    #: claim display names) as its metadata said at issuance, so the credential stays readable offline.
    display: str = Field(sa_column=Column(Text, nullable=False))
    iat: datetime | None = _time(nullable=True)
    exp: datetime | None = _time(nullable=True)
    received_at: datetime = _time()


class WalletCredentialCopy(SQLModel, table=True):
    """One copy of a credential, bound to its own holder key, presented at most once."""

    __tablename__ = "wallet_credential_copy"

    id: str = Field(primary_key=True, max_length=64)
    credential_id: str = Field(foreign_key="wallet_credential.id", index=True)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    #: ``seal`` of the SD-JWT VC, aad ``wallet_credential_copy:{id}:{resident_id}:credential``.
    sealed_credential: str = Field(sa_column=Column(Text, nullable=False))
    #: ``seal`` of the private holder JWK, aad ``wallet_credential_copy:{id}:{resident_id}:holder_key``.
    sealed_holder_key: str = Field(sa_column=Column(Text, nullable=False))
    #: Set, once and atomically, when the copy is used for a presentation.
    used_at: datetime | None = _time(nullable=True)
    used_for_request_id: str | None = Field(default=None, max_length=64)


class WalletPresentationRequest(SQLModel, table=True):
    """A verified OpenID4VP request waiting for the resident's decision (or answered)."""

    __tablename__ = "wallet_presentation_request"

    id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    client_id: str
    verifier_name_en: str
    verifier_name_ja: str
    response_uri: str
    nonce: str
    state: str | None = None
    #: The DCQL query as the verifier signed it (JSON text).
    dcql_query: str = Field(sa_column=Column(Text, nullable=False))
    purpose: str | None = None
    purpose_text_en: str | None = None
    purpose_text_ja: str | None = None
    retention_days: int | None = None
    #: ``one-time``, or ``ongoing``: the verifier asks to refresh the presentation for ``access_period_days``.
    access_type: str = Field(default="one-time", max_length=16)
    access_period_days: int | None = None
    #: The trust registry (its ``iss``) the request was checked against.
    registry_iss: str
    #: pending → answering → presented | failed; pending → declined; pending → expired (seen on use).
    status: str = Field(default="pending", max_length=16, index=True)
    created_at: datetime = _time()
    expires_at: datetime = _time()
    answered_at: datetime | None = _time(nullable=True)


class WalletConsent(SQLModel, table=True):
    """The resident's consent to one presentation (after ISO/IEC TS 27560 and the Kantara Consent Receipt).

    Committed before anything is built or sent: no presentation exists without one.
    """

    __tablename__ = "wallet_consent"

    id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    request_id: str = Field(foreign_key="wallet_presentation_request.id", index=True)
    client_id: str
    verifier_name_en: str
    verifier_name_ja: str
    purpose: str | None = None
    purpose_text_en: str | None = None
    purpose_text_ja: str | None = None
    retention_days: int | None = None
    registry_iss: str
    #: JSON ``{credential query id: [claims path, ...]}``: what the resident agreed to disclose (no values).
    claims: str = Field(sa_column=Column(Text, nullable=False))
    #: JSON ``{credential query id: credential id}``.
    credentials: str = Field(sa_column=Column(Text, nullable=False))
    granted_at: datetime = _time(index=True)
    #: ISO/IEC TS 27560 / Kantara: the lawful basis; always ``consent`` here (APPI Art. 27 third-party provision).
    legal_basis: str = Field(default="consent", max_length=32)
    #: ``one-time`` (one presentation) or ``ongoing`` (the verifier refreshes it, ``routes/refresh.py``).
    access_type: str = Field(default="one-time", max_length=16)
    #: When the consent ends: ``granted_at`` + the retention the verifier asked for (or the wallet's default);
    #: for ongoing access, ``granted_at`` + the access period.
    expires_at: datetime | None = _time(nullable=True, index=True)
    #: active | fulfilled | expired | revoked (``tsunagu.consent``); changed only by a conditional UPDATE
    #: on the status read, with a ``wallet_consent_event`` row in the same transaction.
    status: str = Field(default="active", max_length=16, index=True)
    status_changed_at: datetime | None = _time(nullable=True)
    #: Presentations made under this consent (``wallet_consent_use``), counted in the same UPDATE that checks it.
    use_count: int = 0
    #: The signed consent receipt (JWT, ``typ`` consent-receipt+jwt) sent with the presentation.
    receipt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: JSON ``{credential query id: [claims path, ...]}`` the resident chose to disclose although the verifier's
    #: registered purpose does not cover them (her override, allowed by ``allow_resident_purpose_override``);
    #: ``None``: nothing beyond the registered purpose.
    beyond_purpose: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    def credential_ids(self) -> list[str]:
        """The held credentials the consent covers (the values of ``credentials``)."""
        loaded = json_loads(self.credentials)
        return [v for v in loaded.values() if isinstance(v, str)] if isinstance(loaded, dict) else []


class WalletPresentation(SQLModel, table=True):
    """Every answer the wallet sent (or tried to send) to a verifier: a presentation, or a decline."""

    __tablename__ = "wallet_presentation"

    id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    request_id: str = Field(foreign_key="wallet_presentation_request.id", index=True)
    #: The consent it was made under; ``None`` for a decline, which discloses nothing.
    consent_id: str | None = Field(default=None, foreign_key="wallet_consent.id", index=True)
    kind: str = Field(max_length=16)  # "presentation" | "decline"
    client_id: str
    verifier_name_en: str
    verifier_name_ja: str
    response_uri: str
    #: JSON, as in the consent; ``{}`` for a decline.
    claims: str = Field(sa_column=Column(Text, nullable=False))
    credentials: str = Field(sa_column=Column(Text, nullable=False))
    #: "sent" (the verifier answered 2xx) or "failed" (not delivered, or refused).
    status: str = Field(max_length=16)
    sent_at: datetime = _time(index=True)
    #: The verifier's answer: HTTP status and the beginning of its body (or why there was none).
    verifier_status: int | None = None
    verifier_answer: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))


class WalletCredentialStatus(SQLModel, table=True):
    """What the wallet last learned of a credential's status (Token Status List), one row per credential.

    A separate table, not columns of ``wallet_credential``: a wallet database made before status
    checking existed gains it without a migration (a missing row is made from the credential itself).
    A failed check never overwrites the last known status; it is recorded beside it.
    """

    __tablename__ = "wallet_credential_status"

    credential_id: str = Field(primary_key=True, foreign_key="wallet_credential.id", max_length=64)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    #: JSON list of the copies' ``status.status_list`` references, ``[{"uri": ..., "idx": ...}, ...]``: each
    #: copy has its own entry (one shared index would let verifiers link the copies). ``[]``: the issuer
    #: publishes no status for this credential.
    references: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    #: valid | revoked | suspended | unknown (never established, or a status value this wallet does not know),
    #: over all copies: one revoked copy makes the credential revoked (the issuer revokes credentials, not copies).
    status: str = Field(default="unknown", max_length=16)
    #: The status value behind ``status`` at the last successful check (0 valid, 1 revoked, 2 suspended,
    #: 3 and 0x0C-0x0F issuer-specific).
    status_value: int | None = None
    #: The ``iat`` of the status list token in which the current status first appeared: the date of the
    #: change as the wallet can know it (the issuer's own time of the change is not published).
    status_since: datetime | None = _time(nullable=True)
    #: The ``iat`` of the status list token that last confirmed the status, and when the wallet read it.
    status_as_of: datetime | None = _time(nullable=True)
    checked_at: datetime | None = _time(nullable=True)
    #: The last attempt to check, and why it failed (``None`` when it succeeded).
    attempted_at: datetime | None = _time(nullable=True)
    check_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: Set once, atomically, when the wallet first notices that ``exp`` has passed (one history event).
    expired_noticed_at: datetime | None = _time(nullable=True)


class WalletEvent(SQLModel, table=True):
    """An entry in the resident's history: something that happened to the resident's data.

    Issue #4 records status changes of held credentials (``credential_revoked``, ``credential_suspended``,
    ``credential_reinstated``, ``credential_expired``, ``credential_status_unknown``); the history is meant
    to grow into the resident's full access log, so the row is generic: a kind, what it concerns, details.
    """

    __tablename__ = "wallet_event"

    id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    occurred_at: datetime = _time(index=True)
    kind: str = Field(max_length=48, index=True)
    #: The credential the event concerns, if any (no foreign key: history outlives a deleted credential).
    credential_id: str | None = Field(default=None, max_length=64, index=True)
    #: The verifier the event concerns, if any (the log's verifier filter).
    client_id: str | None = Field(default=None, index=True)
    #: JSON object; never a claim value.
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class WalletEventCredential(SQLModel, table=True):
    """Which credentials an event concerns (a presentation may disclose several): the log's credential filter."""

    __tablename__ = "wallet_event_credential"

    event_id: str = Field(primary_key=True, foreign_key="wallet_event.id", max_length=64)
    credential_id: str = Field(primary_key=True, max_length=64, index=True)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)


class WalletConsentEvent(SQLModel, table=True):
    """One change of a consent's status: the consent's full history (ISO/IEC TS 27560 "consent record" events)."""

    __tablename__ = "wallet_consent_event"

    id: str = Field(primary_key=True, max_length=64)
    consent_id: str = Field(foreign_key="wallet_consent.id", index=True)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    #: ``None`` for the grant itself.
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    at: datetime = _time(index=True)
    #: ``resident`` or ``system`` (expiry, a presentation sent).
    by: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class WalletConsentUse(SQLModel, table=True):
    """A presentation made under a consent, written in the transaction that checked the consent active.

    A refresh records the verifier's ``nonce``: the unique constraint makes a replayed nonce fail the insert.
    """

    __tablename__ = "wallet_consent_use"
    __table_args__ = (UniqueConstraint("consent_id", "nonce", name="uq_wallet_consent_use_nonce"),)

    id: str = Field(primary_key=True, max_length=64)
    consent_id: str = Field(foreign_key="wallet_consent.id", index=True)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    used_at: datetime = _time()
    #: ``presentation`` (the first, answering the request) or ``refresh`` (ongoing access).
    kind: str = Field(max_length=16)
    #: The refresh request's ``nonce``; ``None`` for a presentation (NULLs never collide in the constraint).
    nonce: str | None = Field(default=None, max_length=255)


class WalletServiceKey(SQLModel, table=True):
    """A key of the wallet service itself (not of a resident): the consent receipt signing key.

    Made on first start, one per purpose; the private JWK is sealed with aad ``wallet_service_key:{purpose}``.
    """

    __tablename__ = "wallet_service_key"

    purpose: str = Field(primary_key=True, max_length=32)
    kid: str = Field(max_length=128)
    alg: str = Field(max_length=16)
    sealed_private_key: str = Field(sa_column=Column(Text, nullable=False))
    #: The public JWK (JSON), as published at ``/.well-known/jwks.json``.
    public_jwk: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _time()


class WalletOutbox(OutboxMessage, table=True):
    """A revocation event (``consent-revocation+jwt``) waiting to reach the verifier (``tsunagu.service.outbox``).

    Written in the transaction that revoked or expired the consent, so the verifier is told exactly
    when the change happened, even if the wallet restarts before it could deliver.
    """

    __tablename__ = "wallet_outbox"

    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    consent_id: str = Field(foreign_key="wallet_consent.id", index=True)
    client_id: str
    #: ``revoked`` | ``expired``.
    event: str = Field(max_length=16)
    #: The ``jti`` of the event: the verifier's acknowledgement must name it (``event_jti``).
    event_jti: str = Field(max_length=64)


class WalletDeletionAck(SQLModel, table=True):
    """A verifier's signed word on what it did with the data received under a consent (``consent-deletion-ack+jwt``).

    Either the answer to a revocation event (``event_jti`` set) or sent on its own at the end of the
    retention period. Kept as received (``token``) so the resident can show it to anyone.
    """

    __tablename__ = "wallet_deletion_ack"

    jti: str = Field(primary_key=True, max_length=255)
    consent_id: str = Field(foreign_key="wallet_consent.id", index=True)
    resident_id: str = Field(foreign_key="wallet_resident.id", index=True)
    client_id: str
    #: ``deleted`` | ``retained``.
    outcome: str = Field(max_length=16)
    legal_basis: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    retain_until: datetime | None = _time(nullable=True)
    event_jti: str | None = Field(default=None, max_length=64)
    issued_at: datetime = _time()
    received_at: datetime = _time(index=True)
    token: str = Field(sa_column=Column(Text, nullable=False))


TABLES: tuple[type[SQLModel], ...] = (
    WalletResident,
    WalletSession,
    WalletCredential,
    WalletCredentialCopy,
    WalletPresentationRequest,
    WalletConsent,
    WalletPresentation,
    WalletCredentialStatus,
    WalletEvent,
    WalletEventCredential,
    WalletConsentEvent,
    WalletConsentUse,
    WalletServiceKey,
    WalletOutbox,
    WalletDeletionAck,
)

#: The tables above, and the migrations in ``wallet/migrations/`` that build and change them.
SCHEMA = ServiceSchema("wallet", TABLES, Path(__file__).with_name("migrations"))
