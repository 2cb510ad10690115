"""``create_app(settings)``: the issuer service, for several issuing organisations (tenants).

Wallet-facing endpoints speak OpenID4VCI 1.0 (``routes/oid4vci.py``) under each tenant's
Credential Issuer Identifier ``{public_url}/{tenant}``; the well-known documents sit at
``{public_url}/.well-known/.../{tenant}`` (``routes/metadata.py``); the admin API creates offers
(``routes/admin.py``), and revokes, suspends and reinstates issued credentials, whose status every
verifier reads from the tenant's status lists (``routes/status_lists.py``). Each tenant's ES256
signing key is made on first start, kept sealed, and rotated on request.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlmodel import Session

from tsunagu.credential_types import CredentialClaimsError
from tsunagu.errors import ProtocolError, TsunaguError
from tsunagu.oid4vci import CredentialRequestDenied
from tsunagu.sealing import SealedValueInvalid
from tsunagu.service.app import build_service_app
from tsunagu.service.clock import Clock, utc_now

from .errors import InvalidAdminRequest
from .routes import admin, metadata, oid4vci, status_lists
from .services.keys import ensure_signing_keys
from .services.status_lists import StatusListCache
from .settings import IssuerSettings
from .tables import SCHEMA

__all__ = ["create_app"]

DESCRIPTION = """\
Issuing organisations (an employer, a city tax office, the immigration authority) issue SD-JWT VCs
with OpenID for Verifiable Credential Issuance 1.0: an admin creates a Credential Offer for a
resident (Pre-Authorized Code, optional Transaction Code); the resident's wallet redeems it at the
token endpoint (Bearer or DPoP-bound token), gets a `c_nonce`, and receives one credential per key
proof, each bound to that key, with every personal claim selectively disclosable, and each with an
entry in one of the tenant's Token Status Lists (`{public_url}/{tenant}/status-lists/{n}`), through
which the admin revokes or suspends it.
Each tenant is its own Credential Issuer at `{public_url}/{tenant}`.
"""

#: Core errors the admin API can meet, answered as its ``invalid_request``.
CORE_TO_WIRE: dict[type[TsunaguError], type[ProtocolError]] = {
    CredentialClaimsError: InvalidAdminRequest,
    # A sealed secret that no longer opens is the operator's problem, never the wallet's fault.
    SealedValueInvalid: CredentialRequestDenied,
}


def create_app(settings: IssuerSettings, *, http: httpx.AsyncClient | None = None, clock: Clock | None = None) -> FastAPI:
    clock = clock or utc_now
    app = build_service_app(
        title="Tsunagu issuer",
        description=DESCRIPTION,
        settings=settings,
        schema=SCHEMA,
        http=http,
        clock=clock,
        core_to_wire=CORE_TO_WIRE,
    )
    app.state.status_list_cache = StatusListCache()
    with Session(app.state.engine) as session:
        ensure_signing_keys(session, settings, now=clock())
    app.include_router(metadata.router)
    app.include_router(admin.router)
    app.include_router(status_lists.router)
    app.include_router(oid4vci.router)
    return app
