"""Request and response models of the wallet's API (the resident's and the admin's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "LocalizedText",
    "ResidentCreate",
    "ResidentPublic",
    "LoginBody",
    "SessionToken",
    "OfferBody",
    "IssuerView",
    "CredentialTypeView",
    "ClaimValue",
    "CredentialStatusName",
    "StatusCheckView",
    "CredentialView",
    "ExcludedCandidate",
    "PresentationRequestBody",
    "VerifierView",
    "PurposeView",
    "RetentionView",
    "RequestedClaim",
    "Candidate",
    "CredentialQueryView",
    "CredentialSetView",
    "FlagView",
    "AccessView",
    "PresentationRequestView",
    "ApproveBody",
    "DeclineBody",
    "ConsentEventView",
    "NotificationView",
    "DeletionView",
    "ConsentView",
    "ReceiptView",
    "RefreshAnswer",
    "DeletionAckRecorded",
    "PresentationView",
    "EventView",
    "EventLogExport",
]


class LocalizedText(BaseModel):
    en: str
    ja: str


# --- accounts ------------------------------------------------------------------------------------


class ResidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "username": "mai", "password": "correct horse battery", "display_name": "Nguyen Thi Mai",
        "preferred_language": "ja"}]})

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=10, max_length=1024)
    display_name: str = Field(min_length=1, max_length=200)
    preferred_language: Literal["en", "ja"] = "en"


class ResidentPublic(BaseModel):
    id: str
    username: str
    display_name: str
    preferred_language: Literal["en", "ja"]
    created_at: datetime


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionToken(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


# --- credentials ---------------------------------------------------------------------------------


class OfferBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "offer_uri": "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Femployer"
                     "%2Fcredential-offers%2F7f3c",
        "tx_code": "493817"}]})

    #: ``openid-credential-offer://?credential_offer=...`` or ``...?credential_offer_uri=...`` (OpenID4VCI §4.1).
    offer_uri: str = Field(min_length=1, max_length=65536)
    #: The Transaction Code the issuer sent separately, when the offer asks for one.
    tx_code: str | None = Field(default=None, min_length=1, max_length=64)


class IssuerView(BaseModel):
    #: The Credential Issuer Identifier the credential came from.
    id: str
    #: The ``iss`` the credential carries.
    iss: str
    #: From the trust registry when the issuer is registered, else as the issuer's metadata names itself.
    name: LocalizedText
    registered: bool
    #: The registry lets this issuer issue this type of credential.
    trusted_for_type: bool


class CredentialTypeView(BaseModel):
    vct: str
    configuration_id: str
    name: LocalizedText


class ClaimValue(BaseModel):
    path: list[str | int | None]
    name: LocalizedText
    value: Any


CredentialStatusName = Literal["valid", "revoked", "suspended", "expired", "unknown"]


class StatusCheckView(BaseModel):
    """How the wallet knows the status: its last look at the issuer's status list."""

    #: The issuer publishes a status for this credential (it can revoke or suspend it).
    checkable: bool
    #: When the wallet last confirmed the status, and the date of the issuer's status list it read.
    checked_at: datetime | None
    status_list_issued_at: datetime | None
    #: The last attempt to check failed: the status shown is the last one confirmed.
    failed: bool
    attempted_at: datetime | None
    #: Plain words when the status could not be checked (or never could), else ``null``.
    note: LocalizedText | None
    #: What went wrong, technically, for support.
    error: str | None


class CredentialView(BaseModel):
    id: str
    type: CredentialTypeView
    issuer: IssuerView
    claims: list[ClaimValue]
    issued_at: datetime | None
    expires_at: datetime | None
    #: As last known: ``valid``, ``revoked`` or ``suspended`` (from the issuer's status list), ``expired``
    #: (from ``exp`` and the clock), ``unknown`` (not checked yet, or a status this wallet does not know).
    status: CredentialStatusName
    #: When the status took effect as far as the wallet can tell: the date of the issuer's status list in
    #: which it first appeared; for ``expired``, the expiry time.
    status_date: datetime | None
    #: The status in a sentence, e.g. "Revoked by Sakura Systems (status list of 2026-11-23)".
    status_text: LocalizedText
    status_check: StatusCheckView
    #: False when revoked, suspended or expired: such a credential is never offered to a verifier.
    valid: bool
    copies: int
    #: Copies not yet shown to any verifier; each is shown once, so presentations cannot be linked.
    copies_left: int
    received_at: datetime


# --- presentation requests -----------------------------------------------------------------------


class PresentationRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "uri": "openid4vp://?client_id=x509_hash%3A...&request_uri=https%3A%2F%2Fverifier.example%2Flandlord"
               "%2Frequests%2F3b2a%2Fobject"}]})

    #: An ``openid4vp://`` link (from a QR code), or the ``request_uri`` itself.
    uri: str = Field(min_length=1, max_length=8192)


class VerifierView(BaseModel):
    client_id: str
    name: LocalizedText
    registered: bool


class PurposeView(BaseModel):
    code: str
    #: The purpose as the shared vocabulary names and explains it.
    name: LocalizedText
    description: LocalizedText
    #: The verifier's own words for this request.
    text: LocalizedText
    #: The verifier is registered for this purpose in the trust registry.
    registered: bool


class RetentionView(BaseModel):
    days: int
    max_registered_days: int | None
    exceeded: bool


class RequestedClaim(BaseModel):
    path: list[str | int | None]
    id: str | None
    name: LocalizedText
    #: The verifier is not registered to ask for this claim under the stated purpose.
    flagged: bool
    flag_reason: LocalizedText | None


class Candidate(BaseModel):
    """A held credential that answers the query, with the resident's values for the claims asked."""

    credential_id: str
    type: CredentialTypeView
    issuer: IssuerView
    copies_left: int
    claims: list[ClaimValue]
    #: Indexes into the query's ``claim_sets`` this credential can satisfy (verifier's preference first).
    claim_set_options: list[int]


class ExcludedCandidate(BaseModel):
    """A held credential of a requested type that is not offered, because of its status."""

    credential_id: str
    type: CredentialTypeView
    issuer: IssuerView
    status: CredentialStatusName
    status_text: LocalizedText


class CredentialQueryView(BaseModel):
    id: str
    vct_values: list[str]
    claims: list[RequestedClaim]
    claim_sets: list[list[str]] | None
    candidates: list[Candidate]
    #: Credentials of the requested type that are revoked, suspended or expired, and so not offered.
    not_offered: list[ExcludedCandidate]
    #: Why no held credential answers this query, when none does.
    mismatch: str | None


class CredentialSetView(BaseModel):
    options: list[list[str]]
    required: bool


class FlagView(BaseModel):
    credential_query_id: str
    vct: str | None
    path: list[str | int | None]
    reason: LocalizedText


class AccessView(BaseModel):
    """One presentation, or ongoing access: the verifier may ask again (refresh) until the period ends."""

    type: Literal["one-time", "ongoing"]
    #: Ongoing access: for how many days.
    period_days: int | None = None
    #: The longest ongoing access the verifier is registered for under this purpose (``None``: one-time only).
    max_registered_days: int | None = None
    #: Ongoing access the registration does not allow; the wallet refuses to approve it.
    exceeded: bool = False


class PresentationRequestView(BaseModel):
    id: str
    status: str
    created_at: datetime
    expires_at: datetime
    verifier: VerifierView
    purpose: PurposeView | None
    retention: RetentionView | None
    credential_queries: list[CredentialQueryView]
    credential_sets: list[CredentialSetView] | None
    flags: list[FlagView]
    #: The held credentials can answer the request.
    satisfiable: bool
    #: Purpose registered, nothing asked beyond it, retention and ongoing access within the registered maximum.
    within_registration: bool
    #: One-time or ongoing access, measured against the registration.
    access: AccessView = AccessView(type="one-time")


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "credentials": {"employment": "5c1e0f9d2b7a4e66a0c3b1d2e4f5a6b7"}}]})

    #: Credential query id → the id of the held credential to answer it with (default: the wallet's choice).
    credentials: dict[str, str] | None = None
    #: Index into each chosen query's ``claim_sets`` (default: the first one the credential satisfies),
    #: to share less where the verifier allows it.
    claim_set: int | None = Field(default=None, ge=0)
    #: Share claims the verifier is not registered to ask for under its purpose anyway. Refused
    #: (403 outside_registered_purpose) unless the deployment sets ``allow_resident_purpose_override``.
    override_purpose_limits: bool = False


class DeclineBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "reason": "outside_registered_purpose"}]})

    #: ``outside_registered_purpose``: the request asks too much; the verifier is told which claims
    #: its registered purpose does not cover. Only for a request the wallet flagged.
    reason: Literal["outside_registered_purpose"] | None = None


# --- records -------------------------------------------------------------------------------------


ConsentStatusName = Literal["active", "fulfilled", "expired", "revoked"]


class ConsentEventView(BaseModel):
    """One change in a consent's status (``from_status`` is ``null`` for the grant)."""

    from_status: ConsentStatusName | None
    to_status: ConsentStatusName
    at: datetime
    #: ``resident`` (granted, revoked) or ``system`` (fulfilled by the presentation, expired).
    by: Literal["resident", "system"]
    note: str | None


class ConsentView(BaseModel):
    id: str
    request_id: str
    verifier: VerifierView
    purpose: PurposeView | None
    retention_days: int | None
    #: The trust registry the verifier was checked against.
    registry: str
    #: Credential query id → the claims (paths) disclosed; values are never recorded.
    claims: dict[str, list[list[str | int | None]]]
    #: Credential query id → credential id.
    credentials: dict[str, str]
    granted_at: datetime
    #: ISO/IEC TS 27560 / Kantara fields.
    legal_basis: str = "consent"
    access_type: Literal["one-time", "ongoing"] = "one-time"
    #: ``granted_at`` + the retention the verifier asked for (or the wallet's default).
    expires_at: datetime | None = None
    #: ``active`` (may still be used), ``fulfilled`` (a one-time consent whose presentation was sent),
    #: ``expired``, ``revoked`` (by you).
    status: ConsentStatusName = "active"
    status_changed_at: datetime | None = None
    #: The status, in a sentence.
    status_text: LocalizedText | None = None
    #: Every change of status, oldest first.
    history: list[ConsentEventView] = []
    #: A signed consent receipt exists (``GET /consents/{id}/receipt``).
    has_receipt: bool = False
    #: You chose to share claims beyond the verifier's registered purpose (your override).
    purpose_override: bool = False
    #: Those claims: credential query id → paths.
    beyond_purpose: dict[str, list[list[str | int | None]]] = {}
    #: Ongoing access: how many times the verifier refreshed its presentation under this consent.
    refresh_count: int = 0
    #: Once the consent ended (revoked, expired) after it was used: was the verifier told? ``None``: nothing owed.
    notification: NotificationView | None = None
    #: The verifier's latest deletion acknowledgement, if any.
    deletion: DeletionView | None = None


class NotificationView(BaseModel):
    """Whether the verifier was told the consent ended (and asked to delete what it holds)."""

    #: ``pending`` (being tried), ``delivered`` (it acknowledged), ``abandoned`` (never reached, gave up),
    #: ``undeliverable`` (the trust registry gives it no address for consent notifications).
    status: Literal["pending", "delivered", "abandoned", "undeliverable"]
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


class DeletionView(BaseModel):
    """The verifier's latest signed word on what it did with your data under this consent."""

    #: ``deleted``, or ``retained`` (kept on a legal basis until ``retain_until``).
    outcome: Literal["deleted", "retained"]
    acknowledged_at: datetime
    legal_basis: str | None = None
    retain_until: datetime | None = None


class ReceiptView(BaseModel):
    """A signed consent receipt (``typ`` ``consent-receipt+jwt``, docs/consent.md) and what it says."""

    consent_id: str
    #: The compact JWS, as sent to the verifier.
    receipt: str
    #: Its decoded header and claims (verifiable with ``/.well-known/jwks.json``).
    header: dict[str, Any]
    claims: dict[str, Any]


class PresentationView(BaseModel):
    id: str
    request_id: str
    consent_id: str | None
    kind: Literal["presentation", "decline"]
    verifier: VerifierView
    response_uri: str
    claims: dict[str, list[list[str | int | None]]]
    credentials: dict[str, str]
    status: Literal["sent", "failed"]
    sent_at: datetime
    verifier_status: int | None
    verifier_answer: str | None
    error: str | None


# --- history -------------------------------------------------------------------------------------


class EventView(BaseModel):
    """An entry in the resident's history."""

    id: str
    occurred_at: datetime
    #: ``credential_revoked``, ``credential_suspended``, ``credential_reinstated``, ``credential_expired``,
    #: ``credential_status_unknown``.
    kind: str
    credential_id: str | None
    #: What happened, in a sentence.
    summary: LocalizedText
    #: The facts behind it (never a claim value): status, previous status, status list date, issuer.
    details: dict[str, Any]
    #: The verifier it concerns (requests, consents, presentations).
    verifier: VerifierView | None = None
    #: Every credential it concerns.
    credential_ids: list[str] = []
    #: Credential id → the claims (paths) concerned: asked, disclosed or consented to; never values.
    claims: dict[str, list[list[str | int | None]]] = {}
    purpose: PurposeView | None = None


class EventLogExport(BaseModel):
    """The whole access log, for the resident to keep (``GET /events/export``)."""

    resident: str
    exported_at: datetime
    events: list[EventView]


# --- verifiers (server to server) -----------------------------------------------------------------


class RefreshAnswer(BaseModel):
    """A fresh presentation under an ongoing consent (the answer to ``POST /consent-refresh``)."""

    consent_id: str
    #: Credential query id → one SD-JWT VC presentation with a KB-JWT (``aud`` your client_id, your nonce).
    vp_token: dict[str, list[str]]


class DeletionAckRecorded(BaseModel):
    consent_id: str
    outcome: str
    recorded: bool = True
