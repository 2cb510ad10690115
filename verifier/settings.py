"""Verifier settings: ``TSUNAGU_VERIFIER_*`` environment variables or a TOML file (``tsunagu serve verifier``)."""

from __future__ import annotations

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

    @property
    def allow_insecure_loopback(self) -> bool:
        """Plain-http issuers and response URIs on 127.0.0.1 are allowed only when this service itself runs there."""
        return self.public_url.startswith("http://") and is_loopback_url(self.public_url)
