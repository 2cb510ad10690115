"""The Credential Endpoint's work (OpenID4VCI §8): one SD-JWT VC per key proof, each bound to its proof's key.

Order matters for "bad input changes no state": every stateless check (request shape, each
proof's signature, type, audience and time) runs first; then the nonces are consumed, status list
entries allocated, the credentials signed and recorded in one transaction, which is rolled back if
anything fails. A collision with another worker over a status list (both opening the next list)
rolls the whole transaction back and runs it again, nonces included.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from tsunagu.credential_types import CredentialType
from tsunagu.encoding import json_loads
from tsunagu.oid4vci import (
    CredentialRequest,
    CredentialRequestDenied,
    CredentialResponse,
    InvalidProof,
    ProofExpectation,
    UnknownCredentialIdentifier,
    VerifiedProof,
    verify_proof_jwt,
)
from tsunagu.sd_jwt_vc import issue_sd_jwt_vc
from tsunagu.sealing import unseal
from tsunagu.service.database import utc

from ..errors import StatusAllocationFailed
from ..settings import IssuerSettings, IssuerTenant
from ..tables import IssuerCredential, IssuerNotification, IssuerOffer
from .codes import new_secret
from .keys import active_signing_key, record_signature
from .nonces import consume_nonces
from .offers import offer_aad
from .status_allocation import allocate_status_entries
from .tenants import tenant_credential_type
from .tokens import AccessContext

__all__ = ["issue_credentials", "new_credential_id"]

#: Whole-transaction retries when workers collide over a status list. Each collision means another
#: worker made progress, so a handful of tries is plenty.
_WRITE_ATTEMPTS = 8


def new_credential_id() -> str:
    """128 random bits in hex: unguessable, and never starting with '-' (it is a command-line argument)."""
    return secrets.token_hex(16)


def issue_credentials(
    session: Session,
    settings: IssuerSettings,
    tenant: IssuerTenant,
    access: AccessContext,
    request: CredentialRequest,
    *,
    now: datetime,
) -> CredentialResponse:
    """Issue one credential per key proof of ``request``.

    Raises:
        UnknownCredentialIdentifier: a ``credential_identifier`` (this issuer hands out none).
        UnknownCredentialConfiguration: a configuration this tenant does not issue.
        CredentialRequestDenied: the access token is for another configuration, or the offer's
            credentials are used up.
        InvalidProof (and subclasses): no proofs, a bad proof, two proofs of one key.
        InvalidNonce: a proof's ``c_nonce`` unknown, expired or used.
    """
    if request.credential_identifier is not None:
        raise UnknownCredentialIdentifier("this issuer hands out no credential identifiers; use credential_configuration_id")
    assert request.credential_configuration_id is not None
    ctype = tenant_credential_type(tenant, request.credential_configuration_id)
    if ctype.configuration_id != access.credential_configuration_id:
        raise CredentialRequestDenied("the access token was granted for another credential configuration")
    if not request.proofs:
        raise InvalidProof("the request has no proofs; this credential is bound to a key the wallet proves it holds")
    issuer_id = settings.credential_issuer(tenant.id)
    expectation = ProofExpectation(
        audience=issuer_id,
        algorithms=settings.proof_signing_algs,
        require_nonce=True,
        max_age=timedelta(seconds=settings.proof_max_age_seconds),
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
        client_id=access.client_id,
    )
    proofs: list[VerifiedProof] = [verify_proof_jwt(p, expectation, now=now) for p in request.proofs]
    thumbprints = [p.thumbprint for p in proofs]
    if len(set(thumbprints)) != len(thumbprints):
        raise InvalidProof("two proofs are for the same key; each key is bound to at most one credential")

    already = session.exec(
        select(func.count()).select_from(IssuerCredential).where(IssuerCredential.offer_id == access.offer_id)
    ).one()
    if already + len(proofs) > settings.max_credentials_per_offer:
        raise CredentialRequestDenied("this offer's credentials have all been issued")

    for _ in range(_WRITE_ATTEMPTS):
        try:
            return _sign_and_record(session, settings, tenant, access, ctype, proofs, issuer_id, now=now)
        except IntegrityError:
            session.rollback()  # another worker opened the same status list first: run it all again
    raise StatusAllocationFailed("status list entries could not be allocated; nothing was issued, try again")


def _sign_and_record(
    session: Session,
    settings: IssuerSettings,
    tenant: IssuerTenant,
    access: AccessContext,
    ctype: CredentialType,
    proofs: list[VerifiedProof],
    issuer_id: str,
    *,
    now: datetime,
) -> CredentialResponse:
    consume_nonces(session, tenant, [p.nonce for p in proofs if p.nonce is not None], now=now)
    offer = session.get(IssuerOffer, access.offer_id)
    assert offer is not None
    claims = json_loads(unseal(settings.master_key_bytes, offer.sealed_claims, aad=offer_aad(offer.id)))
    key = active_signing_key(session, settings, tenant.id)
    iat = now.replace(microsecond=0)
    exp = iat + settings.credential_validity(ctype.configuration_id)
    notification_id = new_secret()
    session.add(
        IssuerNotification(
            id=notification_id,
            tenant=tenant.id,
            offer_id=offer.id,
            credential_count=len(proofs),
            created_at=utc(now),
        )
    )
    session.flush()  # the credential rows reference it; without relationships the ORM does not order the inserts
    entries = allocate_status_entries(session, settings, tenant.id, len(proofs), now=now)
    credentials: list[str] = []
    for proof, entry in zip(proofs, entries, strict=True):
        issued = issue_sd_jwt_vc(
            claims,
            vct=ctype.vct,
            key=key,
            issuer=issuer_id,
            iat=iat,
            exp=exp,
            holder_key=proof.holder_key,
            status={"status_list": {"idx": entry.idx, "uri": settings.status_list_uri(tenant.id, entry.list_number)}},
            decoys=settings.decoy_digests,
        )
        credentials.append(issued.compact)
        session.add(
            IssuerCredential(
                id=new_credential_id(),
                tenant=tenant.id,
                offer_id=offer.id,
                notification_id=notification_id,
                subject=offer.subject,
                credential_configuration_id=ctype.configuration_id,
                vct=ctype.vct,
                holder_jkt=proof.thumbprint,
                signing_kid=key.kid or "",
                iat=utc(iat),
                exp=utc(exp),
                status_list=entry.list_number,
                status_idx=entry.idx,
            )
        )
    record_signature(session, key.kid or "", exp)
    session.commit()
    return CredentialResponse(credentials=tuple(credentials), notification_id=notification_id)
