"""``create_app(settings)``: the wallet service, holding many residents' credentials, keys and consents.

Residents log in (``routes/session.py``), accept credential offers with OpenID4VCI 1.0
(``routes/credentials.py``), receive OpenID4VP 1.0 presentation requests and approve or decline
them (``routes/presentations.py``), and read their consents and every presentation made
(``routes/records.py``). Accounts are created through the admin API (``routes/admin.py``). The trust
registry named in the settings is verified at start-up: a wallet with a forged or expired registry
does not start.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlmodel import Session

from tsunagu.errors import DcqlError, ProtocolError, TsunaguError
from tsunagu.sealing import SealedValueInvalid
from tsunagu.service.app import build_service_app
from tsunagu.service.clock import Clock
from tsunagu.service.http import FetchError
from tsunagu.service.issuer_documents import IssuerDocuments, registered_issuer_origin

from .errors import InvalidChoice, IssuerUnavailable, StoredSecretUnusable
from .consent_sweep import install_consent_sweep
from .notifications import install_notifications
from .routes import (
    admin,
    consent_notifications,
    consents,
    credentials,
    history,
    presentations,
    records,
    refresh,
    session,
)
from .services.receipts import receipt_key
from .settings import WalletSettings
from .status_refresh import install_status_refresh
from .tables import SCHEMA

__all__ = ["create_app"]

DESCRIPTION = """\
A resident's wallet. Log in (`POST /session`), accept a credential offer (`POST /offers`: OpenID for
Verifiable Credential Issuance 1.0, pre-authorized code, one fresh holder key per credential copy),
see what you hold (`GET /credentials`). When a verifier asks (`POST /presentation-requests` with the
`openid4vp://` link), the wallet verifies the signed request against the trust registry and shows who
asks, why, for how long, exactly which of your values, and flags anything the verifier is not
registered to ask for. Approving records your consent first; only then is a presentation with just
the approved claims built and sent (OpenID for Verifiable Presentations 1.0, `direct_post`).
Your consents and every presentation are listed at `GET /consents` and `GET /presentations`.
The wallet keeps asking each issuer whether your credentials are still in force (its Token Status List:
on a schedule and whenever you open one, `GET /credentials/{id}`): a revoked, suspended or expired
credential is shown as such, with the date, is never offered to a verifier, and the change is written
to your history (`GET /events`).

Each consent has a status (active, fulfilled, expired, revoked) and its history; revoke one with
`POST /consents/{id}/revoke` — once that call returns, nothing more is presented under it. On approval
the wallet signs a consent receipt (`typ` consent-receipt+jwt, keys at `/.well-known/jwks.json`) and
sends it with the presentation; download yours at `GET /consents/receipts`. `GET /events` is your
access log: who asked for what, why, what was sent, refused, revoked or expired, filterable by verifier
and credential, exportable at `GET /events/export`.

Ongoing access: a verifier the resident allowed to re-check (a guarantor company, for the length of a
lease) asks for a fresh presentation of exactly the consented claims at `POST /consent-refresh` with a
signed `consent-refresh+jwt`, until the consent ends or is revoked. When a consent that was used ends,
the wallet sends the verifier a signed revocation event and keeps retrying until it acknowledges the
deletion; a verifier also reports deletion at the end of its retention at `POST /consent-notifications`.
"""


#: Core errors a route can meet outside a protocol module, and how the resident is told.
CORE_TO_WIRE: dict[type[TsunaguError], type[ProtocolError]] = {
    FetchError: IssuerUnavailable,
    DcqlError: InvalidChoice,
    SealedValueInvalid: StoredSecretUnusable,
}


def create_app(settings: WalletSettings, *, http: httpx.AsyncClient | None = None,
               clock: Clock | None = None) -> FastAPI:
    app = build_service_app(title="Tsunagu wallet", description=DESCRIPTION, settings=settings, schema=SCHEMA,
                            http=http, clock=clock, core_to_wire=CORE_TO_WIRE)
    app.include_router(admin.router)
    app.include_router(session.router)
    app.include_router(credentials.router)
    app.include_router(presentations.router)
    app.include_router(consents.router)  # before records: /consents/receipts is not a consent id
    app.include_router(records.router)
    app.include_router(history.router)
    app.include_router(refresh.router)
    app.include_router(consent_notifications.router)
    # Status lists only from the origins the trust registry gives issuers: a credential's own status
    # URI must not make the wallet fetch from anywhere else (without a registry, nothing is fetched).
    app.state.issuer_documents = IssuerDocuments(
        app.state.http, issuer_origin=registered_issuer_origin(lambda: app.state.registry), clock=app.state.clock,
        timeout=settings.http_timeout_seconds, max_metadata_bytes=settings.max_metadata_bytes,
        max_status_list_bytes=settings.max_status_list_bytes,
        allow_insecure_loopback=settings.allow_insecure_loopback,
        clock_skew=timedelta(seconds=settings.clock_skew_seconds))
    install_status_refresh(app, settings.status_refresh_seconds)
    install_consent_sweep(app, settings.consent_sweep_seconds)
    install_notifications(app, settings.notification_retry_seconds)
    # The receipt signing key exists before the first approval (made here on first start, once across workers).
    with Session(app.state.engine) as db:
        receipt_key(db, settings, now=app.state.clock())
    return app
