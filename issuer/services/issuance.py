"""The Credential Endpoint's work (OpenID4VCI §8): one SD-JWT VC per key proof, each bound to its proof's key.

Order matters for "bad input changes no state": every stateless check (request shape, each
proof's signature, type, audience and time) runs first; then the nonces are consumed, the
credentials signed and recorded in one transaction, which is rolled back if anything fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from tsunagu.credential_types import credential_type
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

from ..settings import IssuerSettings, IssuerTenant
from ..tables import IssuerCredential, IssuerNotification, IssuerOffer
from .codes import new_secret
from .keys import active_signing_key
from .nonces import consume_nonces
from .offers import offer_aad
from .tenants import tenant_credential_type
from tsunagu.service.database import utc
from .tokens import AccessContext

__all__ = ["issue_credentials"]


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

    consume_nonces(session, tenant, [p.nonce for p in proofs if p.nonce is not None], now=now)
    offer = session.get(IssuerOffer, access.offer_id)
    assert offer is not None
    claims = json_loads(unseal(settings.master_key_bytes, offer.sealed_claims, aad=offer_aad(offer.id)))
    key = active_signing_key(session, settings, tenant.id)
    validity_days = settings.credential_validity_days.get(ctype.configuration_id)
    validity = timedelta(days=validity_days) if validity_days is not None else credential_type(ctype.configuration_id).validity
    iat = now.replace(microsecond=0)
    exp = iat + validity
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
    credentials: list[str] = []
    for proof in proofs:
        issued = issue_sd_jwt_vc(
            claims,
            vct=ctype.vct,
            key=key,
            issuer=issuer_id,
            iat=iat,
            exp=exp,
            holder_key=proof.holder_key,
            decoys=settings.decoy_digests,
        )
        credentials.append(issued.compact)
        session.add(
            IssuerCredential(
                id=new_secret(),
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
            )
        )
    session.commit()
    return CredentialResponse(credentials=tuple(credentials), notification_id=notification_id)
