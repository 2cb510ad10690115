"""The consent lifecycle (docs/consent.md "Lifecycle"), the vocabulary of a consent, and the
pairwise pseudonym that names the resident to one verifier."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final, Literal, TypeAlias, get_args

from ..encoding import b64url_encode, json_dumps
from .errors import ConsentTransitionRefused, InvalidConsentData

__all__ = [
    "ConsentStatus",
    "AccessType",
    "CONSENT_STATUSES",
    "ACCESS_TYPES",
    "LEGAL_BASIS_CONSENT",
    "can_transition",
    "transition",
    "pairwise_subject",
]

ConsentStatus: TypeAlias = Literal["active", "expired", "revoked", "fulfilled"]
AccessType: TypeAlias = Literal["one-time", "ongoing"]

CONSENT_STATUSES: Final[tuple[ConsentStatus, ...]] = get_args(ConsentStatus)
ACCESS_TYPES: Final[tuple[AccessType, ...]] = get_args(AccessType)

#: APPI Art. 27(1) (third-party provision with the principal's consent) / GDPR Art. 6(1)(a).
LEGAL_BASIS_CONSENT: Final = "consent"

# The lifecycle (docs/consent.md): one-time consents are fulfilled by their presentation; a
# fulfilled consent can still be revoked because revocation also asks the verifier to delete.
_TRANSITIONS: Final[frozenset[tuple[ConsentStatus, ConsentStatus]]] = frozenset({
    ("active", "fulfilled"),
    ("active", "revoked"),
    ("active", "expired"),
    ("fulfilled", "revoked"),
})



def can_transition(current: ConsentStatus, target: ConsentStatus) -> bool:
    return (current, target) in _TRANSITIONS


def transition(current: ConsentStatus, target: ConsentStatus) -> ConsentStatus:
    """The new status, when the lifecycle allows moving from ``current`` to ``target``.

    Raises:
        ConsentTransitionRefused: any other move, including staying put (a second revocation is
            not a new event) and any move out of ``revoked`` or ``expired``.
    """
    if not can_transition(current, target):
        raise ConsentTransitionRefused(
            f"a consent that is {current!r} cannot become {target!r}", current=current, target=target
        )
    return target


def pairwise_subject(secret: bytes, resident_id: str, client_id: str) -> str:
    """The resident's pseudonym for one verifier: ``base64url(HMAC-SHA256(secret, [resident_id, client_id]))``.

    Two verifiers get unrelated values, so they cannot join their records on it, and the
    username never leaves the wallet; the same verifier always gets the same value, so it can
    match a later revocation event to the resident's earlier receipts. The JSON array keeps
    the two inputs unambiguous (``("ab", "c")`` and ``("a", "bc")`` differ).
    """
    if len(secret) < 32:
        raise InvalidConsentData("the pairwise secret must be at least 32 bytes")
    message = json_dumps([resident_id, client_id]).encode("utf-8")
    return b64url_encode(hmac.new(secret, message, hashlib.sha256).digest())
