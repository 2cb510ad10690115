"""Settings every Tsunagu service shares; each service subclasses :class:`BaseServiceSettings`.

Settings are built once, in ``main()`` or by a test, and passed to ``create_app(settings)``:
nothing here is read at import time. Values come from keyword arguments, then environment
variables with the service's prefix (``TSUNAGU_ISSUER_DATABASE_URL``), then a TOML file given
to :func:`load_settings` (``tsunagu serve issuer --config FILE``).

The core (``tsunagu.sd_jwt``, ``tsunagu.dcql`` ...) never sees a settings object: services turn
settings into explicit policy values (``VerifyPolicy(clock_skew=...)``) at the edge.
"""

from __future__ import annotations

import base64
import binascii
import tomllib
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from .urls import is_loopback_url

__all__ = ["BaseServiceSettings", "load_settings", "is_loopback_url"]

S = TypeVar("S", bound="BaseServiceSettings")


class BaseServiceSettings(BaseSettings):
    """What every service needs: where it is reachable, where it keeps data, and its secrets."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", env_nested_delimiter="__")

    #: The service's external base URL, without a trailing slash. Identifiers derive from it
    #: (a credential issuer id is ``{public_url}/{tenant}``), so it must be what others see.
    public_url: str
    #: SQLAlchemy URL: ``sqlite:///path/issuer.db`` (default, one file per service, WAL) or
    #: ``postgresql+psycopg://user@host/db`` for production and horizontal scaling.
    database_url: str
    #: base64url of 32 random bytes; seals private keys and held credentials at rest (AES-256-GCM).
    master_key: SecretStr
    #: Bearer key for the admin API; ``None`` disables the admin API entirely.
    admin_api_key: SecretStr | None = None
    #: The signed trust registry (a JWT, see ``tsunagu.trust``) and the registry's public JWK.
    trust_registry_path: Path | None = None
    trust_registry_jwk_path: Path | None = None
    #: Request bodies above this are refused with 413 before they are parsed.
    max_body_bytes: int = 256 * 1024
    #: Timeout for every outbound request (metadata, JWKS, status lists, request objects).
    http_timeout_seconds: float = 5.0
    #: Tolerance for clocks that disagree, applied to iat/nbf/exp checks.
    clock_skew_seconds: int = 60

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        value = value.rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("public_url must be an absolute https URL")
        if parts.scheme == "http" and not is_loopback_url(value):
            raise ValueError("public_url may use plain http only on a loopback host (127.0.0.1, localhost)")
        if parts.query or parts.fragment:
            raise ValueError("public_url must not have a query or fragment")
        return value

    @field_validator("master_key")
    @classmethod
    def _check_master_key(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        try:
            key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ValueError("master_key must be base64url") from exc
        if len(key) != 32:
            raise ValueError("master_key must encode exactly 32 bytes (256 bits)")
        return value

    @model_validator(mode="after")
    def _check_registry_pair(self) -> BaseServiceSettings:
        if (self.trust_registry_path is None) != (self.trust_registry_jwk_path is None):
            raise ValueError("trust_registry_path and trust_registry_jwk_path go together")
        return self

    @property
    def master_key_bytes(self) -> bytes:
        raw = self.master_key.get_secret_value()
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))


def load_settings(cls: type[S], path: Path | None = None, **overrides: Any) -> S:
    """Settings of type ``cls`` from a TOML file (if given), overridden by the environment
    (``TSUNAGU_<SERVICE>_<SETTING>``), overridden by ``overrides``.

    Relative paths in the file are resolved against the file's directory, so a deployment's
    config directory can be moved as a whole.
    """
    values: dict[str, Any] = {}
    if path is not None:
        with path.open("rb") as fh:
            values = tomllib.load(fh)
        for name, field in cls.model_fields.items():
            if name in values and field.annotation in (Path, Path | None) and values[name] is not None:
                candidate = Path(values[name])
                values[name] = candidate if candidate.is_absolute() else (path.parent / candidate)
    # pydantic-settings ranks arguments above the environment, and the file's values arrive as
    # arguments: read the environment here too, so that it wins over the file as documented.
    values.update(EnvSettingsSource(cls)())
    values.update(overrides)
    return cls(**values)
