"""The trust registry a service was configured with, verified once at start-up.

A service whose settings name a registry refuses to start when its signature does not verify
with the registry key or it has expired: better not to run than to trust the wrong parties.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from ..encoding import json_loads
from ..jwk import parse_public_jwk
from ..settings import BaseServiceSettings
from ..trust import TrustRegistry, load_trust_registry

__all__ = ["load_registry", "RegistryDep"]


def load_registry(settings: BaseServiceSettings, *, now: datetime) -> TrustRegistry | None:
    """The verified registry the settings name, or ``None`` when they name none.

    Raises:
        TrustRegistrySignatureInvalid, TrustRegistryExpired, TrustRegistryInvalid, JwkError, OSError.
    """
    if settings.trust_registry_path is None or settings.trust_registry_jwk_path is None:
        return None
    key = parse_public_jwk(json_loads(Path(settings.trust_registry_jwk_path).read_bytes()))
    token = Path(settings.trust_registry_path).read_text(encoding="ascii").strip()
    return load_trust_registry(token, key=key, now=now)


def _registry(request: Request) -> TrustRegistry | None:
    registry: TrustRegistry | None = request.app.state.registry
    return registry


RegistryDep = Annotated[TrustRegistry | None, Depends(_registry)]
