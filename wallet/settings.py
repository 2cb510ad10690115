"""Wallet settings: ``TSUNAGU_WALLET_*`` environment variables or a TOML file (``tsunagu serve wallet``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tsunagu.settings import BaseServiceSettings, is_loopback_url

__all__ = ["WalletSettings"]


class WalletSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TSUNAGU_WALLET_", frozen=True, extra="forbid",
                                      env_nested_delimiter="__")

    #: How many copies of a credential to ask for when the issuer offers batch issuance: each copy has its
    #: own holder key and is shown to one verifier only, so two verifiers cannot link their presentations.
    batch_size: int = Field(default=3, ge=1, le=10)
    #: How long a login session lasts.
    session_lifetime_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    #: Failed logins in a row that lock an account, and for how long.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_lock_seconds: int = Field(default=900, ge=1, le=24 * 3600)
    #: argon2id cost (RFC 9106 §4 "second recommended option": t=3, 64 MiB, p=4).
    argon2_time_cost: int = Field(default=3, ge=1, le=10)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    argon2_parallelism: int = Field(default=4, ge=1, le=16)
    #: How long a received presentation request waits for the resident (never past the request's own ``exp``).
    pending_request_lifetime_seconds: int = Field(default=600, ge=30, le=24 * 3600)
    #: Bounds for what the wallet fetches: offers and metadata, credential responses, request objects.
    max_metadata_bytes: int = Field(default=64 * 1024, ge=1024)
    max_credential_response_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_request_object_bytes: int = Field(default=256 * 1024, ge=1024)
    #: How often the wallet asks issuers whether the credentials it holds are still valid (Token Status
    #: List); 0 turns the background refresh off (a credential is still checked when the resident opens it).
    status_refresh_seconds: int = Field(default=3600, ge=0, le=7 * 24 * 3600)
    #: Bound on a status list, fetched and inflated (a list of 1,048,576 two-bit entries is 256 KiB).
    max_status_list_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: How much of a verifier's answer to a presentation is kept in the resident's log.
    max_recorded_answer_bytes: int = Field(default=4 * 1024, ge=0, le=64 * 1024)

    #: How long a consent lasts when the request names no retention period: its ``expires_at`` is
    #: ``granted_at`` + the verifier's ``retention_days``, or + this many days.
    consent_default_retention_days: int = Field(default=30, ge=1, le=3650)
    #: How often consents past their end are moved to ``expired`` (with a history entry); 0: never
    #: scheduled (``consent_sweep.sweep_once`` is still callable).
    consent_sweep_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    #: Issue #5: by default the wallet refuses to disclose a claim outside the verifier's registered purpose.
    #: True lets the resident (never the verifier) override that in her own approval; the consent and the
    #: access log then say she shared beyond the registered purpose.
    allow_resident_purpose_override: bool = False
    #: How often revocation/expiry events still owed to verifiers are (re)tried (``notifications.py``);
    #: 0: never scheduled (a revoke still tries its own event at once).
    notification_retry_seconds: int = Field(default=10, ge=0, le=24 * 3600)
    #: Backoff of a failed delivery: doubling from the base, capped at the max; abandoned after the give-up days.
    notification_backoff_base_seconds: float = Field(default=5, gt=0, le=3600)
    notification_backoff_max_seconds: float = Field(default=3600, gt=0, le=7 * 24 * 3600)
    notification_give_up_days: int = Field(default=30, ge=1, le=365)

    @property
    def allow_insecure_loopback(self) -> bool:
        """Plain-http issuers and verifiers on 127.0.0.1 are allowed only when this service itself runs there."""
        return self.public_url.startswith("http://") and is_loopback_url(self.public_url)
