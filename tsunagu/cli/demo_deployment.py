"""A complete demo deployment on one machine: keys, certificates, the signed trust registry and the
settings of the three services, written to a data directory.

``tsunagu demo`` serves it; the end-to-end tests build the same deployment in ``tmp_path``, so the
demo and the tests exercise one configuration. Every file a person could reuse is written in the
formats production uses: TOML settings for ``tsunagu serve issuer|wallet|verifier --config FILE``,
the registry as a signed JWT, the registry root as PEM.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from issuer.settings import DEFAULT_TENANTS, IssuerSettings
from verifier.demo import DemoVerifier, build_demo_verifiers
from verifier.settings import VerifierSettings
from wallet.settings import WalletSettings

from ..credential_types import credential_type
from ..jwk import generate_key
from ..trust import IssuerEntry, LocalizedText, build_trust_registry
from ..x509 import certificate_to_pem, create_root_ca
from .demo import DEFAULT_BASE_PORT

__all__ = ["DemoDeployment", "DemoResident", "build_demo_deployment", "DEMO_RESIDENT", "DEFAULT_BASE_PORT", "DEMO_STATUS_LIST_TTL_SECONDS"]

REGISTRY_ID = "urn:tsunagu:demo:trust-registry"
#: How long verifiers may keep the demo issuer's status lists (production default: 300 s).
DEMO_STATUS_LIST_TTL_SECONDS = 5


@dataclass(frozen=True, slots=True)
class DemoResident:
    username: str
    password: str
    display_name: str
    language: str


#: The resident of the story: a software engineer from Vietnam, working in Tokyo on an
#: Engineer/Specialist in Humanities/International Services visa, looking for a flat.
DEMO_RESIDENT = DemoResident("mai", "sakura-2026-demo", "NGUYEN THI MAI", "en")


@dataclass(frozen=True, slots=True)
class DemoDeployment:
    data_dir: Path
    issuer: IssuerSettings
    wallet: WalletSettings
    verifier: VerifierSettings
    verifiers: tuple[DemoVerifier, ...]
    resident: DemoResident
    registry_root_pem: str

    def admin_key(self, service: str) -> str:
        settings = {"issuer": self.issuer, "wallet": self.wallet, "verifier": self.verifier}[service]
        assert settings.admin_api_key is not None
        return settings.admin_api_key.get_secret_value()

    def issuer_id(self, tenant: str) -> str:
        return f"{self.issuer.public_url}/{tenant}"

    def summary(self) -> dict[str, Any]:
        """What ``demo.json`` holds: every URL, API key and login a person needs to continue by hand."""
        return {
            "issuer": {
                "url": self.issuer.public_url,
                "docs": f"{self.issuer.public_url}/docs",
                "admin_api_key": self.admin_key("issuer"),
                "credential_issuers": {t.id: self.issuer_id(t.id) for t in self.issuer.tenants},
            },
            "wallet": {
                "url": self.wallet.public_url,
                "docs": f"{self.wallet.public_url}/docs",
                "admin_api_key": self.admin_key("wallet"),
                "resident": {"username": self.resident.username, "password": self.resident.password},
            },
            "verifier": {
                "url": self.verifier.public_url,
                "docs": f"{self.verifier.public_url}/docs",
                "admin_api_key": self.admin_key("verifier"),
                "tenants": {v.tenant.slug: v.registry_entry.client_id for v in self.verifiers},
            },
            "trust_registry": str(self.wallet.trust_registry_path),
        }


def build_demo_deployment(
    data_dir: Path,
    *,
    now: datetime,
    base_port: int = DEFAULT_BASE_PORT,
    host: str = "localhost",
    database_urls: Mapping[str, str] | None = None,
) -> DemoDeployment:
    """Generate a fresh deployment in ``data_dir`` (keys are new on every call)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    urls = {name: f"http://{host}:{base_port + offset}" for offset, name in enumerate(("issuer", "wallet", "verifier"))}
    databases = dict(database_urls or {name: f"sqlite:///{data_dir / (name + '.db')}" for name in urls})

    registry_key = generate_key("ES256", kid="demo-registry")
    root_ca = create_root_ca(
        registry_key, common_name="Tsunagu Demo Trust Registry Root", now=now, valid_for=timedelta(days=365)
    )
    verifiers = build_demo_verifiers(
        ca_key=registry_key, ca_certificate=root_ca, public_url=urls["verifier"], now=now
    )
    issuers = [
        IssuerEntry(
            id=f"{urls['issuer']}/{tenant.id}",
            name=LocalizedText(tenant.name_en, tenant.name_ja),
            vcts=tuple(credential_type(c).vct for c in tenant.credential_configuration_ids),
        )
        for tenant in DEFAULT_TENANTS
    ]
    registry = build_trust_registry(
        iss=REGISTRY_ID,
        root_certificate=root_ca,
        issuers=issuers,
        verifiers=[v.registry_entry for v in verifiers],
        key=registry_key,
        iat=now,
        exp=now + timedelta(days=365),
    )
    registry_path = _write(data_dir / "trust-registry.jwt", registry)
    registry_jwk_path = _write(data_dir / "trust-registry.jwk.json", json.dumps(registry_key.public.to_jwk(), indent=2))
    root_pem = certificate_to_pem(root_ca)
    _write(data_dir / "trust-registry-root.pem", root_pem)

    common: dict[str, Any] = {"trust_registry_path": registry_path, "trust_registry_jwk_path": registry_jwk_path}
    secrets_by_service = {name: (_master_key(), f"{name}-admin-{secrets.token_urlsafe(18)}") for name in urls}

    def settings_for(name: str) -> dict[str, Any]:
        master_key, admin_key = secrets_by_service[name]
        return {
            "public_url": urls[name],
            "database_url": databases[name],
            "master_key": master_key,
            "admin_api_key": admin_key,
            **common,
        }

    deployment = DemoDeployment(
        data_dir=data_dir,
        # A short status list ttl, so that the demo's revocation reaches the landlord within seconds.
        issuer=IssuerSettings(**settings_for("issuer"), status_list_ttl_seconds=DEMO_STATUS_LIST_TTL_SECONDS),
        wallet=WalletSettings(**settings_for("wallet")),
        verifier=VerifierSettings(**settings_for("verifier")),
        verifiers=verifiers,
        resident=DEMO_RESIDENT,
        registry_root_pem=root_pem,
    )
    for name in urls:
        extra = {"status_list_ttl_seconds": DEMO_STATUS_LIST_TTL_SECONDS} if name == "issuer" else {}
        _write(data_dir / f"{name}.toml", _toml({**settings_for(name), **extra}), secret=True)
    _write(
        data_dir / "verifier-tenants.json",
        json.dumps({v.tenant.slug: _tenant_body(v) for v in verifiers}, indent=2, ensure_ascii=False),
        secret=True,
    )
    _write(data_dir / "demo.json", json.dumps(deployment.summary(), indent=2, ensure_ascii=False), secret=True)
    return deployment


def _tenant_body(verifier: DemoVerifier) -> dict[str, Any]:
    """The body of the verifier's ``PUT /admin/tenants/{tenant}`` for this demo verifier."""
    tenant = verifier.tenant
    return {
        "name": {"en": tenant.name_en, "ja": tenant.name_ja},
        "private_jwk": tenant.key.to_jwk(include_private=True),
        "x5c": list(tenant.x5c),
        "client_id_prefix": tenant.prefix,
    }


def tenant_bodies(deployment: DemoDeployment) -> dict[str, dict[str, Any]]:
    return {v.tenant.slug: _tenant_body(v) for v in deployment.verifiers}


def _master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _toml(values: Mapping[str, Any]) -> str:
    lines = ["# Generated by `tsunagu demo`: demo secrets, do not reuse in production."]
    for key, value in values.items():
        literal = str(value) if isinstance(value, int) else json.dumps(str(value), ensure_ascii=False)
        lines.append(f"{key} = {literal}")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str, *, secret: bool = False) -> Path:
    # Secrets (master keys, private keys, API keys) are readable by the owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
