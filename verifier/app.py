"""``create_app(settings)``: the verifier service, for several hosted verifiers (banks, landlords ...).

Wallet-facing endpoints speak OpenID4VP 1.0 (``routes/oid4vp.py``); the admin API, behind the admin
key, registers hosted verifiers and creates and reads presentation requests (``routes/admin.py``).
The trust registry named in the settings is verified with the registry key at start-up: a service
with a forged or expired registry does not start.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tsunagu.service.app import build_service_app
from tsunagu.service.clock import Clock

from .retention import install_retention_jobs
from .routes import admin, consent_notifications, oid4vp
from .services.issuer_documents import build_issuer_documents
from .settings import VerifierSettings
from .tables import SCHEMA

__all__ = ["create_app"]

DESCRIPTION = """\
Verifiers (a bank, a landlord ...) ask residents' wallets for credentials with OpenID for Verifiable
Presentations 1.0: a signed request object (`x509_san_dns` or `x509_hash` client, certificate under
the trust registry's root) with a DCQL query, a purpose, and a retention period; the wallet answers
with `direct_post`. Each answer gets an explained decision: one entry per check, with a reason in
English and Japanese and the party a failure belongs to.

Consent (docs/consent.md): a Tsunagu wallet sends the resident's signed consent receipt with the
answer. Under an ongoing consent the verifier asks the wallet for fresh presentations
(`POST /admin/{tenant}/consents/{id}/refresh`); wallets deliver revocation events to
`POST /{tenant}/consent-notifications`, which deletes everything received under the consent and
answers a signed deletion acknowledgement. Claims are deleted when their retention ends, and the
wallet is sent a signed acknowledgement then too (`GET /admin/{tenant}/consents/{id}` shows it all).
"""


def create_app(
    settings: VerifierSettings, *, http: httpx.AsyncClient | None = None, clock: Clock | None = None
) -> FastAPI:
    app = build_service_app(title="Tsunagu verifier", description=DESCRIPTION, settings=settings, schema=SCHEMA,
                            http=http, clock=clock)
    # One per process: its cache and its single-flight fetches are shared by all verifications.
    app.state.issuer_documents = build_issuer_documents(settings, app.state.http, registry=lambda: app.state.registry,
                                                        clock=app.state.clock)
    app.include_router(admin.router)
    app.include_router(oid4vp.router)
    app.include_router(consent_notifications.router)
    install_retention_jobs(app, settings)
    return app
