"""Issuer settings: ``TSUNAGU_ISSUER_*`` environment variables or a TOML file (``tsunagu serve issuer``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from tsunagu.credential_types import CREDENTIAL_TYPES, credential_type
from tsunagu.settings import BaseServiceSettings, is_loopback_url

__all__ = ["IssuerTenant", "IssuerSettings", "DEFAULT_TENANTS"]


class IssuerTenant(BaseModel):
    """One issuing organisation hosted by this service; its Credential Issuer Identifier is ``{public_url}/{id}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    name_en: str = Field(min_length=1, max_length=200)
    name_ja: str = Field(min_length=1, max_length=200)
    #: Credential Configuration ids (``tsunagu.credential_types``) this organisation issues.
    credential_configuration_ids: tuple[str, ...] = Field(min_length=1)

    @field_validator("credential_configuration_ids")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in CREDENTIAL_TYPES]
        if unknown:
            raise ValueError(f"unknown credential configuration ids: {', '.join(unknown)}")
        if len(set(value)) != len(value):
            raise ValueError("a credential configuration id is listed twice")
        return value


DEFAULT_TENANTS: tuple[IssuerTenant, ...] = (
    IssuerTenant(
        id="employer",
        name_en="Sakura Systems K.K.",
        name_ja="さくらシステムズ株式会社",
        credential_configuration_ids=("EmploymentCertificate",),
    ),
    IssuerTenant(
        id="tax-office",
        name_en="Shibuya City Tax Office",
        name_ja="渋谷区税務課",
        credential_configuration_ids=("ResidentTaxCertificate",),
    ),
    IssuerTenant(
        id="immigration",
        name_en="Immigration Services Agency",
        name_ja="出入国在留管理庁",
        credential_configuration_ids=("ResidenceCard",),
    ),
)


class IssuerSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="TSUNAGU_ISSUER_", frozen=True, extra="forbid", env_nested_delimiter="__"
    )

    tenants: tuple[IssuerTenant, ...] = DEFAULT_TENANTS
    #: Default lifetime of an offer's Pre-Authorized Code (OpenID4VCI §4.1.1: "short lived").
    offer_lifetime_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    #: Digits of a Transaction Code, and wrong tries before the Pre-Authorized Code is dead.
    tx_code_length: int = Field(default=6, ge=4, le=12)
    tx_code_max_attempts: int = Field(default=3, ge=1, le=10)
    #: §13.7: a Bearer token living longer than 5 minutes counts as long-lived.
    access_token_lifetime_seconds: int = Field(default=300, ge=30, le=3600)
    c_nonce_lifetime_seconds: int = Field(default=300, ge=30, le=3600)
    #: How old a key proof / DPoP proof may be (its ``iat``), on top of the clock skew.
    proof_max_age_seconds: int = Field(default=300, ge=10, le=3600)
    #: ``batch_credential_issuance.batch_size``: most proofs (and credentials) per Credential Request.
    batch_size: int = Field(default=10, ge=1, le=100)
    #: Most credentials one offer may yield over all its Credential Requests.
    max_credentials_per_offer: int = Field(default=20, ge=1, le=1000)
    proof_signing_algs: tuple[str, ...] = ("ES256", "EdDSA")
    dpop_signing_algs: tuple[str, ...] = ("ES256", "EdDSA")
    #: Refuse Bearer tokens: every token request must carry a DPoP proof.
    require_dpop: bool = False
    #: Decoy digests per disclosable level (RFC 9901 §4.2.5), so the number of claims does not show.
    decoy_digests: int = Field(default=2, ge=0, le=20)
    #: Validity (``exp - iat``) per Credential Configuration id, in days; absent ids use the type's
    #: default from ``tsunagu.credential_types`` (1 year).
    credential_validity_days: dict[str, int] = Field(default_factory=dict)
    #: Entries per status list (Token Status List §12: herd privacy). Fetching a list reveals only
    #: that one of its credentials is checked, so lists are large; smaller sizes are for tests.
    status_list_size: int = Field(default=131_072, ge=1, le=1 << 24)
    #: ``ttl`` of status list tokens and the ``max-age`` they are served with: how long a verifier
    #: may keep a token before fetching it again, so the longest a revocation takes to be seen.
    status_list_ttl_seconds: int = Field(default=300, ge=1, le=24 * 3600)
    #: Lifetime (``exp - iat``) of a status list token; tokens are re-signed at half their lifetime.
    status_list_token_lifetime_seconds: int = Field(default=24 * 3600, ge=120, le=30 * 24 * 3600)

    @model_validator(mode="after")
    def _check_tenants(self) -> IssuerSettings:
        ids = [t.id for t in self.tenants]
        if len(set(ids)) != len(ids):
            raise ValueError("two tenants share an id")
        if not self.tenants:
            raise ValueError("at least one tenant is needed")
        allowed = {"ES256", "ES384", "ES512", "EdDSA"}
        if not set(self.proof_signing_algs) | set(self.dpop_signing_algs) <= allowed:
            raise ValueError(f"signing algorithms must be among {', '.join(sorted(allowed))}")
        unknown = sorted(set(self.credential_validity_days) - set(CREDENTIAL_TYPES))
        if unknown:
            raise ValueError(f"credential_validity_days names unknown credential configurations: {', '.join(unknown)}")
        if any(days < 1 or days > 36_500 for days in self.credential_validity_days.values()):
            raise ValueError("credential_validity_days must be between 1 and 36500 days")
        # A token is re-signed at half its lifetime; a verifier caching it for ttl must never hold it past exp.
        if 2 * self.status_list_ttl_seconds > self.status_list_token_lifetime_seconds:
            raise ValueError("status_list_ttl_seconds must be at most half of status_list_token_lifetime_seconds")
        return self

    @property
    def allow_insecure_loopback(self) -> bool:
        """Plain http identifiers are used only when this service itself runs on a loopback host."""
        return self.public_url.startswith("http://") and is_loopback_url(self.public_url)

    def tenant(self, tenant_id: str) -> IssuerTenant | None:
        return next((t for t in self.tenants if t.id == tenant_id), None)

    def credential_validity(self, configuration_id: str) -> timedelta:
        """``exp - iat`` of a credential of this configuration: the setting, else the type's default."""
        days = self.credential_validity_days.get(configuration_id)
        return timedelta(days=days) if days is not None else credential_type(configuration_id).validity

    def status_list_uri(self, tenant_id: str, list_number: int) -> str:
        """Where status list ``list_number`` of the tenant is served: the ``uri`` of credentials' ``status_list``."""
        return f"{self.credential_issuer(tenant_id)}/status-lists/{list_number}"

    def credential_issuer(self, tenant_id: str) -> str:
        """The tenant's Credential Issuer Identifier (OpenID4VCI §12.2.1), also ``iss`` of its credentials."""
        return f"{self.public_url}/{tenant_id}"
