"""Request and response bodies of the verifier's HTTP API (the wallet-facing ones are OpenID4VP's own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tsunagu.explain import Outcome, Party

__all__ = ["LocalizedTextModel", "CreateRequestBody", "CreatedRequestBody", "FlaggedClaimModel", "ReasonModel", "CheckModel",
           "DecisionModel", "RequestStatusBody", "WalletErrorModel", "TenantBody", "TenantInfo", "TemplateInfo"]


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

    @model_validator(mode="after")
    def _one_query(self) -> CreateRequestBody:
        if (self.dcql_query is None) == (self.template is None):
            raise ValueError("give exactly one of dcql_query and template")
        return self


class FlaggedClaimModel(BaseModel):
    credential_query_id: str
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
