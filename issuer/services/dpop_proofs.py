"""DPoP at the issuer (RFC 9449): proofs checked against the request, their ``jti`` refused a second time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from tsunagu.dpop import InvalidDpopProof, VerifiedDpopProof, verify_dpop_proof

from ..settings import IssuerSettings
from ..tables import IssuerDpopJti
from tsunagu.service.database import utc

__all__ = ["DpopReplayed", "check_dpop_proof"]


class DpopReplayed(InvalidDpopProof):
    """§11.1: a DPoP proof (its ``jti``) that was already used."""

    code = "issuer.dpop_replayed"


def check_dpop_proof(
    session: Session,
    settings: IssuerSettings,
    headers: Sequence[str],
    *,
    htm: str,
    htu: str,
    now: datetime,
    access_token: str | None = None,
) -> VerifiedDpopProof:
    """The one DPoP proof of a request, verified (§4.3) and its ``jti`` recorded.

    Raises:
        InvalidDpopProof (and its subclasses): not exactly one DPoP header, a bad proof, or a replay.
    """
    if len(headers) != 1:
        raise InvalidDpopProof("a request carries exactly one DPoP header")
    max_age = timedelta(seconds=settings.proof_max_age_seconds)
    skew = timedelta(seconds=settings.clock_skew_seconds)
    proof = verify_dpop_proof(
        headers[0],
        htm=htm,
        htu=htu,
        now=now,
        access_token=access_token,
        algorithms=settings.dpop_signing_algs,
        max_age=max_age,
        clock_skew=skew,
    )
    # Forget proofs that could no longer be accepted anyway; the index keeps this cheap.
    session.exec(delete(IssuerDpopJti).where(col(IssuerDpopJti.expires_at) < utc(now)))
    session.add(IssuerDpopJti(jkt=proof.jkt, jti=proof.jti, expires_at=utc(proof.iat + max_age + 2 * skew)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DpopReplayed("this DPoP proof was already used; make a new one for every request") from None
    return proof
