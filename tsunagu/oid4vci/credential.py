"""Credential Endpoint and Notification Endpoint messages (OpenID4VCI 1.0 §8, §11).

A Credential Request names what to issue (``credential_configuration_id``, or a
``credential_identifier`` from the Token Response, never both) and carries the holder's key
proofs in ``proofs`` (plural, one proof type, a non-empty array). The singular ``proof`` of the
drafts is gone from 1.0 and refused here, so an outdated wallet learns why instead of getting a
credential bound to nothing. Each proof's key receives at most one credential (§8.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast, get_args

from .errors import (
    InvalidCredentialRequest,
    InvalidCredentialResponse,
    InvalidEncryptionParameters,
    InvalidNotificationRequest,
    InvalidProof,
)

__all__ = [
    "PROOF_TYPE_JWT",
    "NotificationEvent",
    "CredentialRequest",
    "CredentialResponse",
    "NotificationRequest",
    "parse_credential_request",
    "build_credential_request",
    "parse_credential_response",
    "parse_notification_request",
    "build_notification_request",
]

PROOF_TYPE_JWT: Final = "jwt"
#: A proof JWT larger than this is refused before parsing (a P-256 proof is under 1 KiB).
MAX_PROOF_BYTES: Final = 8 * 1024

NotificationEvent = Literal["credential_accepted", "credential_failure", "credential_deleted"]
_EVENTS: Final = frozenset(get_args(NotificationEvent))


@dataclass(frozen=True, slots=True)
class CredentialRequest:
    """§8.2: exactly one of ``credential_configuration_id`` and ``credential_identifier``, and the ``jwt`` proofs."""

    credential_configuration_id: str | None = None
    credential_identifier: str | None = None
    #: The ``proofs.jwt`` array; empty when the request carried no ``proofs``.
    proofs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.credential_identifier is not None:
            out["credential_identifier"] = self.credential_identifier
        if self.credential_configuration_id is not None:
            out["credential_configuration_id"] = self.credential_configuration_id
        if self.proofs:
            out["proofs"] = {PROOF_TYPE_JWT: list(self.proofs)}
        return out


def build_credential_request(
    *,
    proofs: tuple[str, ...] | list[str],
    credential_configuration_id: str | None = None,
    credential_identifier: str | None = None,
) -> dict[str, Any]:
    """The JSON body of a Credential Request with ``jwt`` key proofs (§8.2)."""
    if (credential_configuration_id is None) == (credential_identifier is None):
        raise ValueError("give exactly one of credential_configuration_id and credential_identifier")
    return CredentialRequest(
        credential_configuration_id=credential_configuration_id,
        credential_identifier=credential_identifier,
        proofs=tuple(proofs),
    ).to_json()


def parse_credential_request(body: object, *, max_proofs: int = 1) -> CredentialRequest:
    """Read a Credential Request (§8.2); unrecognised parameters are ignored, as §8.2 requires.

    ``max_proofs`` is the issuer's ``batch_size`` (1 without batch issuance).

    Raises:
        InvalidCredentialRequest: not an object; neither or both of the two identifiers; the draft
            parameter ``proof``; more proofs than ``max_proofs``.
        InvalidProof: ``proofs`` is not an object with exactly one proof type holding a non-empty
            array, or the proof type is not ``jwt``, or a proof is not a string of sane size.
        InvalidEncryptionParameters: ``credential_response_encryption`` (not supported here).
    """
    if not isinstance(body, Mapping):
        raise InvalidCredentialRequest("the credential request is not a JSON object")
    if "proof" in body:
        raise InvalidCredentialRequest(
            "the singular 'proof' parameter of OpenID4VCI drafts is not accepted; send 'proofs' (OpenID4VCI 1.0 8.2)"
        )
    config_id = body.get("credential_configuration_id")
    identifier = body.get("credential_identifier")
    if config_id is not None and identifier is not None:
        raise InvalidCredentialRequest("give credential_configuration_id or credential_identifier, not both")
    if config_id is None and identifier is None:
        raise InvalidCredentialRequest("the request names no credential_configuration_id")
    for name, value in (("credential_configuration_id", config_id), ("credential_identifier", identifier)):
        if value is not None and (not isinstance(value, str) or not value):
            raise InvalidCredentialRequest(f"{name} must be a non-empty string")
    if body.get("credential_response_encryption") is not None:
        raise InvalidEncryptionParameters("this issuer does not encrypt credential responses")
    proofs: tuple[str, ...] = ()
    raw_proofs = body.get("proofs")
    if raw_proofs is not None:
        proofs = _parse_proofs(raw_proofs)
        if len(proofs) > max_proofs:
            raise InvalidCredentialRequest(
                f"the request carries {len(proofs)} proofs; this issuer accepts at most {max_proofs} per request"
            )
    return CredentialRequest(credential_configuration_id=config_id, credential_identifier=identifier, proofs=proofs)


def _parse_proofs(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise InvalidProof("proofs must be an object with exactly one proof type")
    ((proof_type, values),) = raw.items()
    if proof_type != PROOF_TYPE_JWT:
        raise InvalidProof("only the jwt proof type is supported")
    if not isinstance(values, list) or not values:
        raise InvalidProof("proofs.jwt must be a non-empty array")
    if not all(isinstance(v, str) and 0 < len(v) <= MAX_PROOF_BYTES for v in values):
        raise InvalidProof("every proofs.jwt entry must be a compact JWT of reasonable size")
    return tuple(values)


@dataclass(frozen=True, slots=True)
class CredentialResponse:
    """§8.3: immediate issuance (``credentials``) or deferred (``transaction_id`` and ``interval``)."""

    credentials: tuple[str | Mapping[str, Any], ...] = ()
    notification_id: str | None = None
    transaction_id: str | None = None
    interval: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.credentials:
            out["credentials"] = [{"credential": c} for c in self.credentials]
        if self.transaction_id is not None:
            out["transaction_id"] = self.transaction_id
            out["interval"] = self.interval
        if self.notification_id is not None:
            out["notification_id"] = self.notification_id
        return out


def parse_credential_response(obj: object) -> CredentialResponse:
    """Read a Credential Response (§8.3); unknown parameters are ignored.

    Raises:
        InvalidCredentialResponse: neither or both of ``credentials`` and ``transaction_id``;
            ``credentials`` not a non-empty array of ``{"credential": ...}``; ``notification_id``
            without credentials; a deferred answer without a positive ``interval``.
    """
    if not isinstance(obj, Mapping):
        raise InvalidCredentialResponse("the credential response is not a JSON object")
    credentials, transaction_id = obj.get("credentials"), obj.get("transaction_id")
    if (credentials is None) == (transaction_id is None):
        raise InvalidCredentialResponse("a credential response carries exactly one of credentials and transaction_id")
    notification_id = obj.get("notification_id")
    if notification_id is not None and (not isinstance(notification_id, str) or credentials is None):
        raise InvalidCredentialResponse("notification_id must be a string and comes only with credentials")
    if transaction_id is not None:
        interval = obj.get("interval")
        if not isinstance(transaction_id, str) or not isinstance(interval, int) or isinstance(interval, bool) or interval <= 0:
            raise InvalidCredentialResponse("a deferred response needs a string transaction_id and a positive interval")
        return CredentialResponse(transaction_id=transaction_id, interval=interval)
    if not isinstance(credentials, list) or not credentials:
        raise InvalidCredentialResponse("credentials must be a non-empty array")
    issued: list[str | Mapping[str, Any]] = []
    for entry in credentials:
        value = entry.get("credential") if isinstance(entry, Mapping) else None
        if not isinstance(value, (str, Mapping)) or not value:
            raise InvalidCredentialResponse("every credentials entry must be an object with a credential")
        issued.append(value)
    return CredentialResponse(credentials=tuple(issued), notification_id=notification_id)


@dataclass(frozen=True, slots=True)
class NotificationRequest:
    """§11.1: what became of the credentials of one Credential Response."""

    notification_id: str
    event: NotificationEvent
    event_description: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"notification_id": self.notification_id, "event": self.event}
        if self.event_description is not None:
            out["event_description"] = self.event_description
        return out


def build_notification_request(
    notification_id: str, event: NotificationEvent, *, event_description: str | None = None
) -> dict[str, str]:
    return NotificationRequest(notification_id, event, event_description).to_json()


def parse_notification_request(body: object) -> NotificationRequest:
    """Read a Notification Request (§11.1); unknown parameters are ignored.

    Raises:
        InvalidNotificationRequest: not an object, no string ``notification_id``, an ``event`` not
            among the three of §11.1 (case-sensitive), or an ``event_description`` outside printable ASCII.
    """
    if not isinstance(body, Mapping):
        raise InvalidNotificationRequest("the notification request is not a JSON object")
    notification_id = body.get("notification_id")
    if not isinstance(notification_id, str) or not notification_id:
        raise InvalidNotificationRequest("the notification request has no notification_id")
    event = body.get("event")
    if event not in _EVENTS:
        raise InvalidNotificationRequest(
            "event must be credential_accepted, credential_failure or credential_deleted"
        )
    description = body.get("event_description")
    if description is not None and (
        not isinstance(description, str)
        or any(not (0x20 <= ord(ch) <= 0x7E) or ch in '"\\' for ch in description)
    ):
        raise InvalidNotificationRequest("event_description must be printable ASCII without quotes or backslashes")
    return NotificationRequest(
        notification_id=notification_id, event=cast(NotificationEvent, event), event_description=description
    )
