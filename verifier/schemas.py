"""Request and response bodies of the verifier's HTTP API (the wallet-facing ones are OpenID4VP's own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tsunagu.explain import Outcome, Party

__all__ = ["LocalizedTextModel", "CreateRequestBody", "CreatedRequestBody", "FlaggedClaimModel", "ReasonModel", "CheckModel",
           "DecisionModel", "RequestStatusBody", "WalletErrorModel", "TenantBody", "TenantInfo", "TemplateInfo",
           "ConsentReceiptModel", "ConsentRequestModel", "ConsentNoticeModel", "ConsentAckModel", "ConsentSummaryModel",
           "ConsentHoldingsBody"]


class LocalizedTextModel(BaseModel):
    en: str = Field(min_length=1, max_length=500)
    ja: str = Field(min_length=1, max_length=500)


class CreateRequestBody(BaseModel):
    """A presentation request: why (purpose), what (a DCQL query or a template's name) and for how long."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "purpose": "rental_screening",
        "purpose_text": {"en": "Screening your application for flat 301", "ja": "301号室の入居審査のため"},
        "template": "rental_screening_employment_income",
        "retention_days": 90,
    }]})

    purpose: str = Field(description="A code of the purpose vocabulary (tsunagu.purposes), e.g. rental_screening.")
    purpose_text: LocalizedTextModel | None = Field(
        default=None, description="The purpose in the verifier's own words; defaults to the vocabulary's text.")
    dcql_query: dict[str, Any] | None = Field(default=None, description="An OpenID4VP 1.0 DCQL query.")
    template: str | None = Field(default=None, description="Or the name of a query template (GET /admin/templates).")
    retention_days: int = Field(ge=0, le=3650, description="How long the received claims are kept.")
    redirect_uri: str | None = Field(default=None, description="Where the wallet sends the user after answering.")
    request_uri_method: Literal["get", "post"] | None = None
    access_type: Literal["one-time", "ongoing"] = Field(
        default="one-time", description="ongoing: the verifier may later ask the wallet for fresh presentations.")
    access_period_days: int | None = Field(
        default=None, ge=1, le=3650, description="With ongoing access only, and required there: for how long.")

    @model_validator(mode="after")
    def _one_query(self) -> CreateRequestBody:
        if (self.dcql_query is None) == (self.template is None):
            raise ValueError("give exactly one of dcql_query and template")
        return self


class FlaggedClaimModel(BaseModel):
    """Something the request asks that the tenant's registration does not cover: a claim, or the ongoing access."""

    kind: Literal["claim", "access_period"] = "claim"
    credential_query_id: str | None
    vct: str | None
    path: list[str | int | None]
    reason: LocalizedTextModel


class CreatedRequestBody(BaseModel):
    request_id: str
    client_id: str
    request_uri: str
    authorization_request_uri: str
    qr_svg: str
    expires_at: datetime
    registration_warnings: list[FlaggedClaimModel]


class ReasonModel(BaseModel):
    """A check's reason: not bounded like input text, since it quotes what the check found."""

    en: str
    ja: str


class CheckModel(BaseModel):
    id: str
    #: ``warning``: the check could not be made and the verifier's policy let the decision go on.
    outcome: Outcome
    reason: ReasonModel
    party: Party | None
    code: str | None
    credential: str | None


class DecisionModel(BaseModel):
    decision: Literal["accepted", "rejected"]
    checks: list[CheckModel]


class WalletErrorModel(BaseModel):
    error: str
    error_description: str | None


class ConsentReceiptModel(BaseModel):
    """The resident's consent receipt stored with the request (docs/consent.md)."""

    consent_id: str
    wallet: str = Field(description="The receipt's iss: the wallet that signed it.")
    subject: str = Field(description="The resident's pseudonym for this verifier (pairwise).")
    purpose: str
    retention_days: int
    access_type: Literal["one-time", "ongoing"]
    granted_at: datetime
    expires_at: datetime
    received_at: datetime
    receipt: str = Field(description="The consent-receipt+jwt as received: the evidence of the consent.")


class RequestStatusBody(BaseModel):
    request_id: str
    tenant: str
    client_id: str
    status: Literal["pending", "verifying", "completed", "declined", "expired"]
    purpose: str
    purpose_text: LocalizedTextModel
    retention_days: int
    dcql_query: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    result: DecisionModel | None
    claims: dict[str, list[dict[str, Any]]] | None = Field(
        description="The disclosed claims of an accepted response, by Credential Query id, while they may be kept.")
    retain_until: datetime | None
    wallet_error: WalletErrorModel | None
    response_code: str | None
    consent: ConsentReceiptModel | None = Field(
        default=None, description="The consent receipt that came with the accepted response, when it was valid.")
    access_type: Literal["one-time", "ongoing"] = "one-time"
    access_period_days: int | None = None
    kind: Literal["request", "refresh"] = Field(
        default="request", description="refresh: a fresh presentation fetched from the wallet under an ongoing consent.")
    consent_id: str | None = Field(default=None, description="The consent the claims were received under.")
    deleted_at: datetime | None = Field(default=None, description="When the received claims were deleted.")
    deletion_reason: str | None = Field(
        default=None, description="retention ended, consent revoked or consent expired.")


class ConsentRequestModel(BaseModel):
    request_id: str
    kind: Literal["request", "refresh"]
    responded_at: datetime | None
    held: bool = Field(description="Whether claims received with it are still kept.")
    deleted_at: datetime | None
    deletion_reason: str | None


class ConsentNoticeModel(BaseModel):
    """A revocation event received from the wallet."""

    jti: str
    event: Literal["revoked", "expired"]
    received_at: datetime


class ConsentAckModel(BaseModel):
    """A deletion acknowledgement this verifier sends the wallet when the retention ended."""

    id: str
    target_uri: str
    status: Literal["pending", "delivered", "abandoned"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


class ConsentSummaryModel(BaseModel):
    purpose: str
    access_type: Literal["one-time", "ongoing"]
    retention_days: int
    granted_at: datetime
    expires_at: datetime
    wallet: str


class ConsentHoldingsBody(BaseModel):
    """What this verifier holds under one consent, and what it knows of the consent's state."""

    consent_id: str
    tenant: str
    status: Literal["active", "revoked", "expired"]
    receipt: ConsentSummaryModel
    requests: list[ConsentRequestModel]
    notices: list[ConsentNoticeModel]
    acks: list[ConsentAckModel]


class TenantBody(BaseModel):
    """A verifier to host: names, request-signing private JWK, and its certificate chain under the registry's root."""

    model_config = ConfigDict(extra="forbid")

    name: LocalizedTextModel
    private_jwk: dict[str, str]
    x5c: list[str] = Field(min_length=1, max_length=5)
    client_id_prefix: Literal["x509_san_dns", "x509_hash"]


class TenantInfo(BaseModel):
    tenant: str
    client_id: str
    name: LocalizedTextModel
    x5c: list[str]
    registered: bool = Field(description="Whether the trust registry lists this client_id.")


class TemplateInfo(BaseModel):
    name: str
    purpose: str
    title: LocalizedTextModel
    dcql_query: dict[str, Any]
