"""Our issuer and verifier services over real HTTP, for the npm OpenID4VC packages to talk to.

The npm client and wallet (``js/oid4vci_client.mjs``, ``js/oid4vp_wallet.mjs``) run in another
process, so the services are served by uvicorn on 127.0.0.1 (``live_server.serve``) rather than
through ``httpx.ASGITransport``. The deployment is the demo's shape: the issuer hosts the default
tenants (employer, tax office, immigration authority); the verifier hosts a bank (``x509_san_dns``)
and a landlord (``x509_hash``) with certificates under a trust registry root, and the registry
trusts the issuer's employer tenant for employment certificates.

The verifier's URL uses the host name ``localhost``, not ``127.0.0.1``: with ``x509_san_dns`` a
wallet that cannot otherwise trust the response URI requires its host to equal the certificate's
``dNSName`` (OpenID4VP 1.0 §5.9.3), and an IP address is no DNS name. The bank's certificate is for
``localhost`` (``verifier.demo.build_demo_verifiers`` takes the service's own host when it is a name).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from issuer.app import create_app as create_issuer
from issuer.settings import IssuerSettings
from tsunagu.credential_types import CREDENTIAL_TYPES
from tsunagu.jwk import generate_key
from tsunagu.trust import IssuerEntry, LocalizedText, build_trust_registry
from tsunagu.x509 import certificate_to_pem, create_root_ca
from verifier.app import create_app as create_verifier
from verifier.demo import DemoVerifier, build_demo_verifiers
from verifier.settings import VerifierSettings

from .live_server import LiveServer, serve

__all__ = ["Deployment", "deploy", "ADMIN_KEY", "EMPLOYMENT", "EMPLOYMENT_CLAIMS"]

ADMIN_KEY = "interop-admin-key"
EMPLOYMENT = CREDENTIAL_TYPES["EmploymentCertificate"]
#: An employment certificate of JAPAN-CONTEXT.md's resident, as the employer's HR system would send it.
EMPLOYMENT_CLAIMS: dict[str, Any] = {
    "employee_name": "NGUYEN THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "Viet Nam",
    "employer_name": "さくら物流株式会社",
    "employer_corporate_number": "1234567890123",
    "employment_type": "regular",
    "job_title": "Logistics Planner",
    "department": "物流企画部",
    "employment_start_date": "2021-04-01",
    "annual_income": 4_800_000,
    "social_insurance_enrolled": True,
    "as_of_date": "2026-11-20",
}

@dataclass(frozen=True)
class Deployment:
    issuer: LiveServer
    verifier: LiveServer
    #: The trust registry's root: the anchor a wallet checks verifiers' certificates against.
    root_pem: str
    bank: DemoVerifier
    landlord: DemoVerifier

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_KEY}"}

    def credential_issuer(self, tenant: str = "employer") -> str:
        return f"{self.issuer.url}/{tenant}"

    def offer(self, claims: dict[str, Any] | None = None, *, tx_code: bool = False, tenant: str = "employer",
              configuration: str = "EmploymentCertificate") -> dict[str, Any]:
        """``POST /admin/{tenant}/offers``: the admin API's answer (offer_uri, tx_code, ...)."""
        response = httpx.post(f"{self.issuer.url}/admin/{tenant}/offers", headers=self.admin, json={
            "credential_configuration_id": configuration, "subject": "employee 4711",
            "claims": EMPLOYMENT_CLAIMS if claims is None else claims, "tx_code": tx_code,
        })
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def offer_status(self, offer_id: str, tenant: str = "employer") -> dict[str, Any]:
        response = httpx.get(f"{self.issuer.url}/admin/{tenant}/offers/{offer_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()
        return status

    def issuer_jwks(self, tenant: str = "employer") -> dict[str, Any]:
        response = httpx.get(f"{self.issuer.url}/.well-known/jwt-vc-issuer/{tenant}")
        assert response.status_code == 200, response.text
        metadata: dict[str, Any] = response.json()
        assert metadata["issuer"] == self.credential_issuer(tenant)
        jwks: dict[str, Any] = metadata["jwks"]
        return jwks

    def presentation_request(self, tenant: str, **body: Any) -> dict[str, Any]:
        """``POST /admin/{tenant}/requests``: request id, client_id and the ``openid4vp://`` link."""
        response = httpx.post(f"{self.verifier.url}/admin/{tenant}/requests", headers=self.admin, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def result(self, tenant: str, request_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.verifier.url}/admin/{tenant}/requests/{request_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def _master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@contextmanager
def deploy(data_dir: Path, *, verifier_host: str = "localhost") -> Iterator[Deployment]:
    """The issuer, then the verifier (whose registry names the issuer's URL), each on its own port."""
    now = datetime.now(timezone.utc)
    root_key, registry_key = generate_key("ES256"), generate_key("ES256", kid="registry")
    root = create_root_ca(root_key, common_name="Tsunagu Interop Registry Root", now=now - timedelta(hours=1),
                          valid_for=timedelta(days=30))

    def build_issuer(public_url: str) -> FastAPI:
        return create_issuer(IssuerSettings(public_url=public_url, database_url=f"sqlite:///{data_dir}/issuer.db",
                                            master_key=SecretStr(_master_key()),
                                            admin_api_key=SecretStr(ADMIN_KEY)))

    with serve(build_issuer) as issuer:
        demo: dict[str, DemoVerifier] = {}

        def build_verifier(public_url: str) -> FastAPI:
            bank, landlord = build_demo_verifiers(ca_key=root_key, ca_certificate=root, public_url=public_url, now=now)
            demo.update(bank=bank, landlord=landlord)
            registry = build_trust_registry(
                iss="https://registry.tsunagu.example", root_certificate=root,
                issuers=[IssuerEntry(f"{issuer.url}/employer", LocalizedText("Sakura Logistics", "さくら物流"),
                                     (EMPLOYMENT.vct,))],
                verifiers=[bank.registry_entry, landlord.registry_entry],
                key=registry_key, iat=now - timedelta(minutes=5), exp=now + timedelta(days=1))
            (data_dir / "registry.jwt").write_text(registry, encoding="ascii")
            (data_dir / "registry.jwk").write_text(json.dumps(registry_key.public.to_jwk()), encoding="ascii")
            return create_verifier(VerifierSettings(
                public_url=public_url, database_url=f"sqlite:///{data_dir}/verifier.db",
                master_key=SecretStr(_master_key()), admin_api_key=SecretStr(ADMIN_KEY), trust_registry_path=data_dir / "registry.jwt",
                trust_registry_jwk_path=data_dir / "registry.jwk"))

        with serve(build_verifier, host=verifier_host) as verifier:
            deployment = Deployment(issuer=issuer, verifier=verifier, root_pem=certificate_to_pem(root),
                                    bank=demo["bank"], landlord=demo["landlord"])
            for hosted in (deployment.bank, deployment.landlord):
                spec = hosted.tenant
                response = httpx.put(f"{verifier.url}/admin/tenants/{spec.slug}", headers=deployment.admin, json={
                    "name": {"en": spec.name_en, "ja": spec.name_ja},
                    "private_jwk": spec.key.to_jwk(include_private=True),
                    "x5c": list(spec.x5c), "client_id_prefix": spec.prefix,
                })
                assert response.status_code == 200, response.text
            yield deployment
