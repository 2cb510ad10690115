"""Verifier settings: ``TSUNAGU_VERIFIER_*`` environment variables or a TOML file (``tsunagu serve verifier``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tsunagu.settings import BaseServiceSettings, is_loopback_url

__all__ = ["VerifierSettings"]


class VerifierSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TSUNAGU_VERIFIER_", frozen=True, extra="forbid",
                                      env_nested_delimiter="__")

    #: How long a presentation request may be answered after it is created.
    request_lifetime_seconds: int = 900
    #: The ``exp`` of each signed Request Object, counted from when a wallet fetches it.
    request_object_lifetime_seconds: int = 300
    #: Bounds for documents fetched from issuers.
    max_metadata_bytes: int = 64 * 1024
    max_status_list_bytes: int = 1024 * 1024
    #: How long a presentation's Key Binding JWT stays fresh (its ``iat`` window).
    kb_max_age_seconds: int = 300
    #: When a credential's status list cannot be fetched (the issuer's server refuses, hangs,
    #: answers an error or HTML, or too much): ``reject`` the presentation (the default: a revoked
    #: credential must not pass because its issuer is down), or record a ``warning`` and decide on
    #: the other checks (a deployment that prefers availability, and says so in its policy).
    unreachable_status_policy: Literal["reject", "warn"] = "reject"
    #: Issuer keys (JWT VC Issuer Metadata) are kept this long; a token naming an unknown ``kid``
    #: refetches them sooner (key rotation).
    issuer_keys_cache_seconds: int = 300
    #: A status list token is kept for its own ``ttl`` (never past its ``exp``); for this long when it
    #: has no ``ttl``, and never longer than the maximum, so a revocation is seen within it.
    status_list_default_ttl_seconds: int = 300
    status_list_max_ttl_seconds: int = 86_400
    #: After a status list could not be fetched, checks of it fail at once for this long (rather
    #: than each waiting for the timeout); the first check after it tries again.
    status_list_retry_seconds: int = 30
    #: A presentation without a valid consent receipt matching the request (docs/consent.md) is
    #: rejected when this is on; by default it is accepted and the ``consent_receipt`` check says why
    #: the receipt was missing or not accepted (a ``warning``), since OpenID4VP does not define receipts.
    require_consent_receipt: bool = False
    #: Origins (``https://wallet.example``) whose consent receipts are verified, that is, whose JWK Set
    #: this service fetches; empty: any https origin (plain http only on loopback, like issuers).
    consent_wallet_origins: tuple[str, ...] = ()
    #: Bound for a wallet's JWK Set.
    max_wallet_jwks_bytes: int = 64 * 1024
    #: The lifetime (``exp - iat``) of a signed refresh request (``consent-refresh+jwt``, at most 600).
    refresh_request_lifetime_seconds: int = Field(default=300, ge=1, le=600)
    #: Bound for a wallet's answer to a refresh request (the presentations).
    max_refresh_answer_bytes: int = 256 * 1024
    #: How often received claims past their ``retain_until`` are deleted; 0: never (not in this process).
    retention_sweep_seconds: float = 60
    #: How often due deletion acknowledgements are (re)sent to wallets; 0: never (not in this process).
    ack_retry_seconds: float = 10
    #: Backoff of an acknowledgement a wallet did not take: doubling from the base, capped at the max.
    ack_backoff_base_seconds: float = 5
    ack_backoff_max_seconds: float = 3600
    #: An acknowledgement not delivered for this long is given up (``abandoned``).
    ack_give_up_days: int = 30

    @property
    def allow_insecure_loopback(self) -> bool:
        """Plain-http issuers and response URIs on 127.0.0.1 are allowed only when this service itself runs there."""
        return self.public_url.startswith("http://") and is_loopback_url(self.public_url)
