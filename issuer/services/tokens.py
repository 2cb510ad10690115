"""The Token Endpoint's work (OpenID4VCI §6) and access-token checks at the protected endpoints.

A Pre-Authorized Code is redeemed once, before it expires; with a Transaction Code, a wrong code
counts against a small number of tries, after which the Pre-Authorized Code is dead (§13.4.1:
the code alone must not be replayable by someone who photographed the QR code). Every step that
must hold across workers is a conditional UPDATE, so two wallets racing with one code cannot
both get a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, update
from sqlmodel import Session, col, select

from tsunagu.dpop import DpopProofRejectedAtResource, InvalidDpopProof
from tsunagu.oid4vci import InvalidGrant, InvalidRequest, InvalidToken, TokenRequest, TokenResponse

from ..settings import IssuerSettings, IssuerTenant
from ..tables import IssuerAccessToken, IssuerOffer
from .codes import digest, new_secret, tx_code_matches
from .dpop_proofs import check_dpop_proof
from tsunagu.service.database import utc

__all__ = ["AccessContext", "redeem_pre_authorized_code", "authenticate_access_token"]


@dataclass(frozen=True, slots=True)
class AccessContext:
    """What a valid access token allows: one offer's credential configuration, for one tenant."""

    token_hash: str
    tenant: str
    offer_id: str
    credential_configuration_id: str
    client_id: str | None
    dpop_jkt: str | None


def redeem_pre_authorized_code(
    session: Session,
    settings: IssuerSettings,
    tenant: IssuerTenant,
    request: TokenRequest,
    *,
    dpop_jkt: str | None,
    now: datetime,
) -> TokenResponse:
    """Exchange a Pre-Authorized Code (and Transaction Code) for an access token, bound to ``dpop_jkt`` if given.

    Raises:
        InvalidGrant: unknown, used, expired or locked code; a wrong Transaction Code (the try is counted).
        InvalidRequest: a Transaction Code missing where the offer asked for one, or sent where it did not.
    """
    offer = session.exec(select(IssuerOffer).where(IssuerOffer.code_hash == digest(request.pre_authorized_code))).first()
    if offer is None or offer.tenant != tenant.id:
        raise InvalidGrant("the pre-authorized code is not valid")
    if offer.status == "redeemed":
        raise InvalidGrant("the pre-authorized code was already used")
    if offer.status == "locked":
        raise InvalidGrant("too many wrong transaction codes were tried; the pre-authorized code is no longer valid")
    if offer.expires_at <= utc(now):
        raise InvalidGrant("the pre-authorized code has expired")
    if offer.tx_code_mac is not None:
        if request.tx_code is None:
            raise InvalidRequest("this offer requires a tx_code (the transaction code sent to the resident separately)")
        if not tx_code_matches(settings.master_key_bytes, offer.id, request.tx_code, offer.tx_code_mac):
            _count_wrong_tx_code(session, settings, offer.id)
    elif request.tx_code is not None:
        raise InvalidRequest("this offer does not use a tx_code")

    redeemed = session.exec(
        update(IssuerOffer)
        .where(col(IssuerOffer.id) == offer.id, col(IssuerOffer.status) == "offered")
        .values(status="redeemed", redeemed_at=utc(now))
    )
    if redeemed.rowcount != 1:
        session.rollback()
        raise InvalidGrant("the pre-authorized code was already used")
    token = new_secret()
    lifetime = settings.access_token_lifetime_seconds
    session.add(
        IssuerAccessToken(
            token_hash=digest(token),
            tenant=tenant.id,
            offer_id=offer.id,
            credential_configuration_id=offer.credential_configuration_id,
            client_id=request.client_id,
            dpop_jkt=dpop_jkt,
            created_at=utc(now),
            expires_at=utc(now + timedelta(seconds=lifetime)),
        )
    )
    session.commit()
    return TokenResponse(access_token=token, token_type="DPoP" if dpop_jkt else "Bearer", expires_in=lifetime)


def _count_wrong_tx_code(session: Session, settings: IssuerSettings, offer_id: str) -> None:
    limit = settings.tx_code_max_attempts
    session.exec(
        update(IssuerOffer)
        .where(col(IssuerOffer.id) == offer_id, col(IssuerOffer.status) == "offered")
        .values(
            tx_code_attempts=col(IssuerOffer.tx_code_attempts) + 1,
            status=case((col(IssuerOffer.tx_code_attempts) + 1 >= limit, "locked"), else_=col(IssuerOffer.status)),
        )
    )
    # The try must count even though the request fails: commit before refusing.
    session.commit()
    attempts = session.exec(select(IssuerOffer.tx_code_attempts).where(IssuerOffer.id == offer_id)).one()
    left = max(limit - attempts, 0)
    if left == 0:
        raise InvalidGrant("the transaction code is wrong; no tries are left and the pre-authorized code is no longer valid")
    raise InvalidGrant(f"the transaction code is wrong; {left} {'try' if left == 1 else 'tries'} left")


def authenticate_access_token(
    session: Session,
    settings: IssuerSettings,
    tenant: IssuerTenant,
    *,
    authorization: str | None,
    dpop_headers: Sequence[str],
    method: str,
    url: str,
    now: datetime,
) -> AccessContext:
    """Check the access token of a request to a protected endpoint (RFC 6750 §2.1, RFC 9449 §7.1).

    A DPoP-bound token needs the ``DPoP`` scheme and a fresh proof by the bound key over this
    method, URL and token; a Bearer token needs the ``Bearer`` scheme.

    Raises:
        InvalidToken: no token, an unknown or expired one, one of another tenant, or the wrong scheme.
        DpopProofRejectedAtResource: a missing, bad, replayed, or wrongly keyed DPoP proof.
    """
    algs = settings.dpop_signing_algs
    default_scheme = "DPoP" if settings.require_dpop else "Bearer"
    if not authorization:
        raise InvalidToken("the request carries no access token", scheme=default_scheme, announce_error=False, dpop_algs=algs)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() not in ("bearer", "dpop") or not token or len(token) > 512:
        raise InvalidToken("the Authorization header is not 'Bearer <token>' or 'DPoP <token>'", scheme=default_scheme, dpop_algs=algs)
    row = session.get(IssuerAccessToken, digest(token))
    if row is None or row.tenant != tenant.id or row.expires_at <= utc(now):
        raise InvalidToken("the access token is not valid here or has expired", scheme=scheme_name(scheme), dpop_algs=algs)
    if row.dpop_jkt is not None:
        if scheme.lower() != "dpop":
            raise InvalidToken("this access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof", scheme="DPoP", dpop_algs=algs)
        try:
            proof = check_dpop_proof(session, settings, dpop_headers, htm=method, htu=url, now=now, access_token=token)
        except InvalidDpopProof as exc:
            raise DpopProofRejectedAtResource(exc.reason, algs=algs) from None
        if proof.jkt != row.dpop_jkt:
            raise DpopProofRejectedAtResource("the DPoP proof is signed by another key than the token is bound to", algs=algs)
    elif scheme.lower() != "bearer":
        raise InvalidToken("this access token is a Bearer token: send it with the Bearer scheme", scheme="Bearer")
    return AccessContext(
        token_hash=row.token_hash,
        tenant=row.tenant,
        offer_id=row.offer_id,
        credential_configuration_id=row.credential_configuration_id,
        client_id=row.client_id,
        dpop_jkt=row.dpop_jkt,
    )


def scheme_name(scheme: str) -> str:
    return "DPoP" if scheme.lower() == "dpop" else "Bearer"
