"""The trust registry the wallet checks verifiers (and names issuers) against.

Loaded once at start-up from the files the settings name and verified with the registry key: a
wallet with a forged or expired registry does not start. Without one, the wallet still holds
credentials but answers no presentation request, since it could not tell the resident who asks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tsunagu.encoding import json_loads
from tsunagu.jwk import parse_public_jwk
from tsunagu.trust import TrustRegistry, load_trust_registry

from ..errors import TrustRegistryMissing
from ..settings import WalletSettings

__all__ = ["load_registry", "require_registry"]


def load_registry(settings: WalletSettings, *, now: datetime) -> TrustRegistry | None:
    """The verified registry the settings name, or ``None`` when they name none.

    Raises:
        TrustRegistrySignatureInvalid, TrustRegistryExpired, TrustRegistryInvalid, JwkError; OSError.
    """
    # This reads two files and calls tsunagu.trust; the verifier service does the same (a shared
    # "load from files" helper in tsunagu.trust would serve both).
    if settings.trust_registry_path is None or settings.trust_registry_jwk_path is None:
        return None
    key = parse_public_jwk(json_loads(Path(settings.trust_registry_jwk_path).read_bytes()))
    token = Path(settings.trust_registry_path).read_text(encoding="ascii")
    return load_trust_registry(token, key=key, now=now)


def require_registry(registry: TrustRegistry | None) -> TrustRegistry:
    """Raises: TrustRegistryMissing."""
    if registry is None:
        raise TrustRegistryMissing(
            "this wallet has no trust registry configured, so it cannot check who is asking; "
            "it answers no presentation request until one is configured"
        )
    return registry
